"""The chapter's training loop, ``train_test``, generalised ("Training with SGD in Pytorch").

The seed trains for 100 epochs with ``optim.SGD(lr=0.1, momentum=0.9)`` and cross-entropy, and
after every epoch evaluates the full train and test sets in ``eval()`` mode under
``torch.no_grad()``. This module does the same steps in the same order, so the numbers it
records are bit for bit the seed's; it only reads them back once per epoch instead of four
times, and times each epoch's training pass.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sized
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from sgdbench._checks import check_int
from sgdbench.data import Split

__all__ = ["History", "train_epoch", "train_test"]

# The seed's optimizer: "optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)".
SEED_LR = 0.1
SEED_MOMENTUM = 0.9


@dataclass
class History:
    """Per-epoch metrics of one run, one float per epoch in each list.

    ``epoch_seconds`` (wall time of each epoch's training pass, evaluation excluded) is kept out
    of equality and of :meth:`metrics`: it is a measurement of the machine, not of the run.
    """

    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list, compare=False, repr=False)

    def metrics(self) -> dict[str, list[float]]:
        """The four metric lists (no timings): what reproducibility is judged on."""
        d = asdict(self)
        del d["epoch_seconds"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        return cls(**{k: list(v) for k, v in d.items()})

    def __len__(self) -> int:
        return len(self.train_acc)


def _device_of(model: nn.Module) -> torch.device | None:
    p = next(model.parameters(), None)
    return None if p is None else p.device


def train_test(
    model: nn.Module,
    train_batches: Iterable[tuple[Tensor, Tensor]],
    split: Split,
    *,
    epochs: int = 100,
    optimizer: torch.optim.Optimizer | None = None,
    criterion: nn.Module | None = None,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_batches``; evaluate after each.

    ``train_batches`` is any iterable of ``(X, y)`` batches that starts a new epoch at every
    ``iter()``: a ``DataLoader`` or :class:`sgdbench.data.Batches`. Defaults are the seed's:
    ``torch.optim.SGD(lr=0.1, momentum=0.9)`` and ``nn.CrossEntropyLoss()``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"`model` must be a torch.nn.Module, but got {type(model).__name__}")
    if not isinstance(split, Split):
        raise TypeError(f"`split` must be a sgdbench.data.Split, but got {type(split).__name__}")
    check_int("epochs", epochs, minimum=1)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"`optimizer` must be a torch.optim.Optimizer or None, but got "
            f"{type(optimizer).__name__}"
        )
    if isinstance(train_batches, Sized) and len(train_batches) == 0:
        raise ValueError("`train_batches` has no batches (is drop_last on with n < batch_size?)")
    device = _device_of(model)
    if device is not None and device != split.device:
        raise ValueError(f"`model` is on {device} but `split` is on {split.device}: move one")
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=SEED_LR, momentum=SEED_MOMENTUM)
    if criterion is None:
        criterion = nn.CrossEntropyLoss()
    sync = torch.cuda.synchronize if split.device.type == "cuda" else None

    history = History()
    columns = (history.train_acc, history.test_acc, history.train_loss, history.test_loss)
    for _epoch in range(epochs):
        start = time.perf_counter()
        train_epoch(model, train_batches, optimizer, criterion)
        if sync is not None:
            sync(split.device)
        history.epoch_seconds.append(time.perf_counter() - start)

        # evaluate: full train and test sets, eval mode, no gradient tracking (as the seed)
        model.eval()
        with torch.no_grad():
            values = torch.stack(_evaluate(model, criterion, split)).tolist()
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return history


def train_epoch(
    model: nn.Module,
    train_batches: Iterable[tuple[Tensor, Tensor]],
    optimizer: torch.optim.Optimizer,
    criterion: nn.Module,
) -> None:
    """One pass of Algorithm 11's inner loop: "for each batch B: θ ← θ − η∇L(B, θ)".

    The hot path: nothing here but the seed's five calls per batch.
    """
    model.train()
    for batch_X, batch_y in train_batches:
        optimizer.zero_grad()
        loss = criterion(model(batch_X), batch_y)  # forward
        loss.backward()  # backward
        optimizer.step()  # update


# For checking the instruction-count gate only: SGDBENCH_INJECT_STEP_OPS=r adds r cheap tensor
# operations (an add of 0 to the batch, result unused) per training step on average: r = 1 one
# per step, r = 0.4 one on 2 steps in 5 (the step i gets floor((i+1)r) − floor(ir) of them), so
# a regression can be planted at any size. Read once at import; unset, train_epoch above is the
# one that runs and nothing is added to the hot path.
_INJECT_STEP_OPS = float(os.environ.get("SGDBENCH_INJECT_STEP_OPS", "0"))


def _train_epoch_with_injected_ops(
    model: nn.Module,
    train_batches: Iterable[tuple[Tensor, Tensor]],
    optimizer: torch.optim.Optimizer,
    criterion: nn.Module,
) -> None:
    """train_epoch plus _INJECT_STEP_OPS extra tensor operations per step (a regression)."""
    model.train()
    for i, (batch_X, batch_y) in enumerate(train_batches):
        for _ in range(int((i + 1) * _INJECT_STEP_OPS) - int(i * _INJECT_STEP_OPS)):
            torch.add(batch_X, 0.0)
        optimizer.zero_grad()
        loss = criterion(model(batch_X), batch_y)
        loss.backward()
        optimizer.step()


if _INJECT_STEP_OPS:
    train_epoch = _train_epoch_with_injected_ops


def _evaluate(model: nn.Module, criterion: nn.Module, split: Split) -> list[Tensor]:
    """[train_acc, test_acc, train_loss, test_loss] as 0-d tensors, computed as the seed does."""
    train_out = model(split.X_train)
    test_out = model(split.X_test)
    return [
        (train_out.argmax(dim=1) == split.y_train).float().mean(),
        (test_out.argmax(dim=1) == split.y_test).float().mean(),
        criterion(train_out, split.y_train),
        criterion(test_out, split.y_test),
    ]
