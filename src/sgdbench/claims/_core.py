"""What every claim module shares: the :class:`Claim` row, ``span`` and the progress hook."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from sgdbench.data import Split
from sgdbench.training import History, train_test

__all__ = ["Claim", "Progress", "say", "span", "train_epochs"]

Progress = Callable[[str], None] | None


@dataclass
class Claim:
    """One row of CLAIMS.md: the chapter's sentence, what was measured, the verdict."""

    key: str
    sentence: str
    measured: str
    verdict: str
    rule: str
    holds: bool | None  # None: the chapter's statement is reported on, not asserted
    data: dict[str, Any] = field(default_factory=dict)


def span(xs: Sequence[float], fmt: str = ".3f") -> str:
    """'mean [min, max]' of ``xs``."""
    return f"{statistics.fmean(xs):{fmt}} [{min(xs):{fmt}}, {max(xs):{fmt}}]"


def say(progress: Progress, line: str) -> None:
    if progress is not None:
        progress(line)


def train_epochs(
    model: nn.Module,
    batches: Iterable[tuple[Tensor, Tensor]],
    split: Split,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    after_epoch: Callable[[], None] | None = None,
    stop: Callable[[History], bool] | None = None,
) -> History:
    """``train_test`` one epoch at a time, with a hook between epochs.

    Same batches, same random draws and same optimizer state as one ``train_test(epochs=...)``
    call (the optimizer is passed in, so momentum buffers carry over). After each epoch it
    calls ``after_epoch()`` (a learning-rate scheduler's ``step``), then stops early if
    ``stop(history)`` is true (a training loss reached).
    """
    history = History()
    for _ in range(epochs):
        h = train_test(model, batches, split, epochs=1, optimizer=optimizer)
        for name in ("train_acc", "test_acc", "train_loss", "test_loss", "epoch_seconds"):
            getattr(history, name).extend(getattr(h, name))
        if after_epoch is not None:
            after_epoch()
        if stop is not None and stop(history):
            break
    return history
