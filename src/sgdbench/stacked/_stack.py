"""``SeedStack``: S networks of the mlp family, one epoch at a time (``train_seeds``' engine)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from sgdbench._checks import check_int, check_range
from sgdbench.data import Split
from sgdbench.stacked._net import _Net
from sgdbench.training import SEED_LR, SEED_MOMENTUM

__all__ = ["SGD_OPTIONS", "Plan", "SeedStack", "check_optimizer", "check_seeds", "plan"]

#: The options of torch.optim.SGD's update the stacked trainer implements, and their defaults.
SGD_OPTIONS: dict[str, Any] = {
    "lr": SEED_LR,
    "momentum": SEED_MOMENTUM,
    "dampening": 0.0,
    "weight_decay": 0.0,
    "nesterov": False,
    "maximize": False,
}


def check_seeds(seeds: object) -> list[int]:
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


@dataclass(frozen=True)
class Plan:
    """The checked arguments of a stacked run, shared by every chunk of seeds."""

    split: Split
    hidden: tuple[int, ...]
    dropout: float
    shuffle: bool
    opts: dict[str, Any]
    bounds: tuple[tuple[int, int], ...]  # each batch's [start, stop) in the epoch's order


def plan(
    split: Split,
    *,
    hidden: Sequence[int] = (16,),
    dropout: float = 0.0,
    batch_size: int | None = 32,
    shuffle: bool = True,
    drop_last: bool = False,
    optimizer: dict[str, Any] | None = None,
) -> Plan:
    """Every argument checked, and named when bad; nothing built."""
    if not isinstance(split, Split):
        raise TypeError(f"`split` must be a sgdbench.data.Split, but got {type(split).__name__}")
    if split.device.type != "cpu" or split.X_train.dtype != torch.float32:
        raise ValueError(
            f"`split` must be float32 on the CPU for the stacked trainer, but it is "
            f"{split.X_train.dtype} on {split.device}"
        )
    widths = tuple(hidden)
    for i, width in enumerate(widths):
        check_int(f"hidden[{i}]", width, minimum=1)
    if not widths:
        raise ValueError("`hidden` must name at least one hidden width (the mlp family)")
    check_range("dropout", dropout, low=0.0, high=1.0)
    n = split.y_train.shape[0]
    batch = n if batch_size is None else check_int("batch_size", batch_size, minimum=1)
    for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
        if not isinstance(flag, bool):
            raise TypeError(f"`{name}` must be a bool, but got {flag!r}")
    opts = check_optimizer(optimizer)
    stop = n - n % batch if drop_last else n
    bounds = tuple((i, min(i + batch, n)) for i in range(0, stop, batch))
    if not bounds:
        raise ValueError(f"`batch_size` {batch} with drop_last leaves no batch of {n} samples")
    return Plan(split, widths, float(dropout), shuffle, opts, bounds)


class SeedStack:
    """The chapter's network from each of ``seeds``, stacked, with its SGD state and stream.

    :meth:`train_epoch` is, per seed, one ``train_epoch(model, Batches(...), SGD(...))`` of the
    single run (the Batches draws, the dropout masks, the steps); :meth:`evaluate` is
    ``train_test``'s evaluation after it. The keyword arguments are :func:`plan`'s.
    """

    def __init__(self, seeds: Sequence[int], split: Split, **kwargs: Any) -> None:
        self._build(seeds, plan(split, **kwargs), _Net)

    @classmethod
    def from_plan(cls, seeds: Sequence[int], p: Plan, net: type[_Net] = _Net) -> SeedStack:
        """A stack on an already checked :class:`Plan` (``net``: a planted-bug variant)."""
        stack = cls.__new__(cls)
        stack._build(seeds, p, net)
        return stack

    def _build(self, seeds: Sequence[int], p: Plan, net: type[_Net]) -> None:
        self.seeds, self.plan = check_seeds(seeds), p
        self.opts, self.split = p.opts, p.split
        self.net = net(self.seeds, p.split.features, p.hidden, p.split.classes, p.dropout)

    def train_epoch(self, lr: float | None = None, momentum: float | None = None) -> None:
        """One epoch of every seed at ``lr`` and ``momentum`` (default: the optimizer's)."""
        lr = self.opts["lr"] if lr is None else lr
        momentum = self.opts["momentum"] if momentum is None else momentum
        X, y = self.split.X_train, self.split.y_train
        perms = self.net.epoch_order(y.shape[0], self.plan.shuffle)
        S = len(self.seeds)
        if perms is None:
            X, y = X.expand(S, *X.shape), y.expand(S, *y.shape)
        else:
            X, y = X[perms], y[perms]
        for h, k in self.plan.bounds:
            logits, saved = self.net.forward(X[:, h:k], train=True)
            self.net.step(self.net.backward(logits, y[:, h:k], saved), lr, self.opts, momentum)

    def evaluate(self) -> list[list[float]]:
        """[train_acc, test_acc, train_loss, test_loss], each a value per seed."""
        with torch.no_grad():
            values: list[list[float]] = torch.stack(self.net.evaluate(self.split)).tolist()
        return values
