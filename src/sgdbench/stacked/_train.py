"""``train_seeds``: seeds in chunks through the stacked network, and the histories it returns."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from sgdbench._checks import check_int
from sgdbench.data import Split
from sgdbench.models import mlp
from sgdbench.stacked._net import _Net
from sgdbench.stacked._stack import SeedStack, check_seeds, plan
from sgdbench.training import History

__all__ = ["BITWISE_ON", "SeedRuns", "train_seeds"]

#: Where the stacked run is bitwise the single runs (properties/test_stacked.py checks it).
BITWISE_ON = "CPU, float32, the same torch thread count as the single runs"
_CHUNK_BYTES = (
    32 * 2**20
)  # activations held per chunk of seeds (cache-sized: 5 % faster than 256 MiB)

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

    @property
    def shape(self) -> str:
        """The network as the chapter writes it, e.g. '2-16-2'."""
        widths = [self.final[0][0].shape[2], *self.hidden, self.final[-1][0].shape[1]]
        return "-".join(str(w) for w in widths)

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
    many as fit in 32 MiB of activations); chunks do not change any number. ``_net`` swaps
    the stacked network for a planted-bug variant (properties/test_stacked.py).
    """
    seeds = check_seeds(seeds)
    p = plan(
        split, hidden=hidden, dropout=dropout, batch_size=batch_size, shuffle=shuffle,
        drop_last=drop_last, optimizer=optimizer,
    )  # fmt: skip
    check_int("epochs", epochs, minimum=1)
    if schedule is not None and not callable(schedule):
        raise TypeError("`schedule` must be a callable optimizer → lr scheduler, or None")
    n = split.y_train.shape[0]
    size = (
        check_int("chunk", chunk, minimum=1)
        if chunk is not None
        else _chunk(n, p.hidden, len(seeds))
    )
    lrs, moms = _schedule(p.opts, schedule, epochs)
    histories: list[History] = []
    initial: list[list[Tensor]] = []
    final: list[list[Tensor]] = []
    seconds = [0.0] * epochs
    for start in range(0, len(seeds), size):
        stack = SeedStack.from_plan(seeds[start : start + size], p, _net or _Net)
        cols: list[list[list[float]]] = [[[] for _ in stack.seeds] for _ in range(4)]
        for epoch in range(epochs):
            t0 = time.perf_counter()
            stack.train_epoch(lrs[epoch], moms[epoch])
            seconds[epoch] += time.perf_counter() - t0
            for col, vals in zip(cols, stack.evaluate(), strict=True):
                for per_seed, v in zip(col, vals, strict=True):
                    per_seed.append(v)
        for i in range(len(stack.seeds)):
            histories.append(History(*(col[i] for col in cols)))
        initial.append(stack.net.initial)
        final.append(stack.net.params)
    pairs = [torch.cat(ts) for ts in zip(*initial, strict=True)]
    ends = [torch.cat(ts) for ts in zip(*final, strict=True)]
    return SeedRuns(
        seeds=seeds,
        histories=histories,
        initial=list(zip(pairs[0::2], pairs[1::2], strict=True)),
        final=list(zip(ends[0::2], ends[1::2], strict=True)),
        hidden=p.hidden,
        dropout=p.dropout,
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
