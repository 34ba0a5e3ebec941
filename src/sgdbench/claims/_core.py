"""What every claim module shares: the :class:`Claim` row, ``span`` and the progress hook."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from sgdbench.data import Split
from sgdbench.stacked import SeedRuns, train_seeds
from sgdbench.training import History, train_test

__all__ = ["Claim", "Progress", "bands", "first", "say", "span", "stacked", "train_epochs"]

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
    # The per-seed statement the verdict rests on, and whether it held in each seed: CLAIMS.md
    # reports the share with its Wilson interval (None: the claim has no per-seed statement).
    statement: str = ""
    per_seed: list[bool] | None = None


def first(runs: dict[str, list[Any]], n: int) -> dict[str, list[Any]]:
    """Every list of ``runs`` cut to its first ``n`` seeds (a verdict on fewer seeds)."""
    return {k: v[:n] for k, v in runs.items()}


def bands(curves: Sequence[Sequence[float]]) -> dict[str, list[float]]:
    """Per epoch over seeds: mean, min, max and the 5 % and 95 % quantiles (what a figure
    draws and claims.json keeps, instead of every seed's curve)."""
    import numpy as np

    arr = np.asarray(curves, dtype=float)
    return {
        "mean": arr.mean(axis=0).tolist(),
        "min": arr.min(axis=0).tolist(),
        "max": arr.max(axis=0).tolist(),
        "q05": np.quantile(arr, 0.05, axis=0).tolist(),
        "q95": np.quantile(arr, 0.95, axis=0).tolist(),
    }


def stacked(
    split: Split, seeds: Sequence[int], epochs: int, label: str, progress: Progress, **kw: Any
) -> SeedRuns:
    """:func:`sgdbench.stacked.train_seeds` for every seed, with one progress line."""
    import time

    start = time.perf_counter()
    runs = train_seeds(seeds, split, epochs=epochs, **kw)
    say(
        progress,
        f"claims: {label}: {len(seeds)} seeds stacked, {time.perf_counter() - start:.1f} s; "
        f"final test acc {span([h.test_acc[-1] for h in runs.histories])}",
    )
    return runs


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
