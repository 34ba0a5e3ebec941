"""``train_seeds``: seeds in chunks through the stacked network, and the histories it returns."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from sgdbench._checks import check_int, check_range
from sgdbench.data import Split
from sgdbench.models import mlp
from sgdbench.stacked._net import _Net
from sgdbench.training import SEED_LR, SEED_MOMENTUM, History

__all__ = ["BITWISE_ON", "SGD_OPTIONS", "SeedRuns", "check_optimizer", "train_seeds"]

#: The options of torch.optim.SGD's update the stacked trainer implements, and their defaults.
SGD_OPTIONS: dict[str, Any] = {
    "lr": SEED_LR,
    "momentum": SEED_MOMENTUM,
    "dampening": 0.0,
    "weight_decay": 0.0,
    "nesterov": False,
    "maximize": False,
}
#: Where the stacked run is bitwise the single runs (properties/test_stacked.py checks it).
BITWISE_ON = "CPU, float32, the same torch thread count as the single runs"
_CHUNK_BYTES = 256 * 2**20  # activations held per chunk of seeds

Schedule = Callable[[torch.optim.Optimizer], Any]


@dataclass
class SeedRuns:
    """What :func:`train_seeds` returns: per seed its History and its first and last weights.

    ``initial`` and ``final`` hold, per ``Linear`` of the network in order, ``(weight, bias)``
    stacked over seeds: ``final[l][0][i]`` is seed ``seeds[i]``'s l-th weight after training.
    """

    seeds: list[int]
    histories: list[History]
    initial: list[tuple[Tensor, Tensor]]
    final: list[tuple[Tensor, Tensor]]
    hidden: tuple[int, ...]
    dropout: float
    epoch_seconds: list[float]  # wall time of each stacked epoch, all seeds together

    def model(self, i: int, *, initial: bool = False) -> nn.Sequential:
        """Seed ``seeds[i]``'s network (after training, or as initialised) as a ``mlp``."""
        layers = self.initial if initial else self.final
        in_f, out_f = layers[0][0].shape[2], layers[-1][0].shape[1]
        model = mlp(in_f, self.hidden, out_f, dropout=self.dropout)
        linears = [m for m in model if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for lin, (w, b) in zip(linears, layers, strict=True):
                lin.weight.copy_(w[i])
                lin.bias.copy_(b[i])
        return model


def _check_seeds(seeds: object) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(f"`seeds` must be a sequence of ints, but got {type(seeds).__name__}")
    if len(seeds) < 1:
        raise ValueError("`seeds` must hold at least one seed (S ≥ 1), but it is empty")
    return [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)]


def check_optimizer(optimizer: dict[str, Any] | None) -> dict[str, Any]:
    if optimizer is None:
        return dict(SGD_OPTIONS)
    if not isinstance(optimizer, dict):
        raise TypeError(
            "`optimizer` must be a dict of torch.optim.SGD arguments or None, but got "
            f"{type(optimizer).__name__}"
        )
    unknown = sorted(set(optimizer) - set(SGD_OPTIONS))
    if unknown:
        raise ValueError(
            f"`optimizer` has {unknown}, which the stacked trainer does not implement; it runs "
            f"torch.optim.SGD's single-tensor step with {sorted(SGD_OPTIONS)} only"
        )
    opts = {**SGD_OPTIONS, "momentum": 0.0, **optimizer}
    for name in ("lr", "momentum", "dampening", "weight_decay"):
        check_range(f"optimizer[{name!r}]", opts[name], low=None if name == "dampening" else 0.0)
    for name in ("nesterov", "maximize"):
        if not isinstance(opts[name], bool):
            raise TypeError(f"`optimizer[{name!r}]` must be a bool, but got {opts[name]!r}")
    if opts["nesterov"] and (opts["momentum"] <= 0 or opts["dampening"] != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")  # as SGD
    return opts


def _chunk(n: int, widths: Sequence[int], count: int) -> int:
    per_seed = 4 * n * max(widths) * (len(widths) + 2)
    return max(1, min(count, _CHUNK_BYTES // max(per_seed, 1)))


def train_seeds(
    seeds: Sequence[int],
    split: Split,
    *,
    hidden: Sequence[int] = (16,),
    dropout: float = 0.0,
    batch_size: int | None = 32,
    shuffle: bool = True,
    drop_last: bool = False,
    epochs: int = 100,
    optimizer: dict[str, Any] | None = None,
    schedule: Schedule | None = None,
    chunk: int | None = None,
    _net: type[_Net] | None = None,
) -> SeedRuns:
    """Train ``mlp(in, hidden, out, dropout=dropout)`` from every seed at once.

    Per seed this is, bit for bit (on the CPU; see the module doc)::

        torch.manual_seed(seed)
        model = mlp(in_features, hidden, out_features, dropout=dropout)
        opt = torch.optim.SGD(model.parameters(), **optimizer)
        sched = schedule(opt) if schedule else None
        batches = Batches(split.X_train, split.y_train, batch_size or n, shuffle=shuffle,
                          drop_last=drop_last)
        for epoch in range(epochs):
            train_test(model, batches, split, epochs=1, optimizer=opt)
            if sched: sched.step()

    ``optimizer`` holds ``torch.optim.SGD`` arguments (:data:`SGD_OPTIONS`; None is the seed's
    lr 0.1, momentum 0.9; a dict without ``momentum`` has none, as SGD). ``schedule`` builds an
    epoch-wise lr scheduler on a given optimizer; it is stepped on a stand-in optimizer whose
    lr (and momentum) every seed then uses. ``chunk`` seeds are trained together (default: as
    many as fit in 256 MiB of activations); chunks do not change any number. ``_net`` swaps
    the stacked network for a planted-bug variant (properties/test_stacked.py).
    """
    seeds = _check_seeds(seeds)
    if not isinstance(split, Split):
        raise TypeError(f"`split` must be a sgdbench.data.Split, but got {type(split).__name__}")
    if split.device.type != "cpu" or split.X_train.dtype != torch.float32:
        raise ValueError(
            f"`split` must be float32 on the CPU for the stacked trainer, but it is "
            f"{split.X_train.dtype} on {split.device}"
        )
    hidden = tuple(hidden)
    for i, width in enumerate(hidden):
        check_int(f"hidden[{i}]", width, minimum=1)
    if not hidden:
        raise ValueError("`hidden` must name at least one hidden width (the mlp family)")
    check_range("dropout", dropout, low=0.0, high=1.0)
    n = split.y_train.shape[0]
    batch = n if batch_size is None else check_int("batch_size", batch_size, minimum=1)
    for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
        if not isinstance(flag, bool):
            raise TypeError(f"`{name}` must be a bool, but got {flag!r}")
    check_int("epochs", epochs, minimum=1)
    opts = check_optimizer(optimizer)
    if schedule is not None and not callable(schedule):
        raise TypeError("`schedule` must be a callable optimizer → lr scheduler, or None")
    stop = n - n % batch if drop_last else n
    bounds = [(i, min(i + batch, n)) for i in range(0, stop, batch)]
    if not bounds:
        raise ValueError(f"`batch_size` {batch} with drop_last leaves no batch of {n} samples")
    size = (
        check_int("chunk", chunk, minimum=1) if chunk is not None else _chunk(n, hidden, len(seeds))
    )
    lrs, moms = _schedule(opts, schedule, epochs)
    in_f = split.X_train.shape[1]
    out_f = int(max(split.y_train.max(), split.y_test.max())) + 1

    histories: list[History] = []
    initial: list[list[Tensor]] = []
    final: list[list[Tensor]] = []
    seconds = [0.0] * epochs
    for start in range(0, len(seeds), size):
        part = seeds[start : start + size]
        net = (_net or _Net)(part, in_f, hidden, out_f, dropout)
        cols: list[list[list[float]]] = [[[] for _ in part] for _ in range(4)]
        for epoch in range(epochs):
            t0 = _clock()
            perms = net.epoch_order(n, shuffle)
            X = (
                split.X_train.expand(len(part), *split.X_train.shape)
                if perms is None
                else (split.X_train[perms])
            )
            Y = split.y_train.expand(len(part), n) if perms is None else split.y_train[perms]
            for h, k in bounds:
                logits, saved = net.forward(X[:, h:k], train=True)
                net.step(net.backward(logits, Y[:, h:k], saved), lrs[epoch], opts, moms[epoch])
            seconds[epoch] += _clock() - t0
            with torch.no_grad():
                values = torch.stack(net.evaluate(split)).tolist()
            for col, vals in zip(cols, values, strict=True):
                for per_seed, v in zip(col, vals, strict=True):
                    per_seed.append(v)
        for i in range(len(part)):
            histories.append(History(*(col[i] for col in cols)))
        initial.append(net.initial)
        final.append(net.params)
    pairs = [torch.cat(ts) for ts in zip(*initial, strict=True)]
    ends = [torch.cat(ts) for ts in zip(*final, strict=True)]
    return SeedRuns(
        seeds=seeds,
        histories=histories,
        initial=list(zip(pairs[0::2], pairs[1::2], strict=True)),
        final=list(zip(ends[0::2], ends[1::2], strict=True)),
        hidden=hidden,
        dropout=float(dropout),
        epoch_seconds=seconds,
    )


def _schedule(
    opts: dict[str, Any], schedule: Schedule | None, epochs: int
) -> tuple[list[float], list[float]]:
    """The lr and momentum of every epoch: the scheduler stepped on a stand-in SGD."""
    if schedule is None:
        return [opts["lr"]] * epochs, [opts["momentum"]] * epochs
    stand_in = torch.optim.SGD([torch.zeros(1, requires_grad=True)], **opts)
    sched = schedule(stand_in)
    lrs, moms = [], []
    for _ in range(epochs):
        group = stand_in.param_groups[0]
        lrs.append(group["lr"])
        moms.append(group["momentum"])
        stand_in.step()  # no gradient: changes nothing, keeps the scheduler's order check quiet
        sched.step()
    for value in lrs:
        if isinstance(value, Tensor) or not math.isfinite(value):
            raise ValueError(f"`schedule` gave the lr {value!r}; the stacked trainer needs floats")
    return lrs, moms


def _clock() -> float:
    import time

    return time.perf_counter()
