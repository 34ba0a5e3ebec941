"""The chapter's two figures, for one run or several seeds.

1. "We plot the accuracy and the loss of the training and test data": accuracy and loss over
   epochs, side by side (:func:`plot_history`).
2. "The resulting optimization trajectories show that SGD reaches high accuracies and low losses
   much more quickly than gradient descent": the same panels with SGD and GD overlaid
   (:func:`plot_comparison`).

With several seeds each curve is the mean over seeds and a shaded band from the minimum to the
maximum, so the band shows every run, not an assumed distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only: no display is assumed (CI, servers)
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sgdbench._figures import save
from sgdbench.training import History

__all__ = ["plot_comparison", "plot_history", "save"]

_PANELS = (
    ("acc", "Accuracy over Epochs", "Accuracy"),
    ("loss", "Loss over Epochs", "Cross-Entropy Loss"),
)


def _as_list(runs: History | Sequence[History]) -> list[History]:
    runs = [runs] if isinstance(runs, History) else list(runs)
    if not runs:
        raise ValueError("`runs` is empty: give at least one History")
    lengths = {len(h) for h in runs}
    if len(lengths) != 1:
        raise ValueError(f"every History must have the same number of epochs, got {lengths}")
    return runs


def _band(ax: Axes, runs: list[History], attr: str, label: str) -> None:
    values = np.array([getattr(h, attr) for h in runs], dtype=float)
    epochs = np.arange(1, values.shape[1] + 1)
    if len(runs) == 1:
        ax.plot(epochs, values[0], label=label)
        return
    (line,) = ax.plot(epochs, values.mean(axis=0), label=f"{label} (mean of {len(runs)})")
    ax.fill_between(
        epochs, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2, lw=0
    )


def plot_comparison(groups: Mapping[str, History | Sequence[History]], title: str = "") -> Figure:
    """Accuracy and loss panels with one train and one test curve per group (e.g. SGD, GD)."""
    if not groups:
        raise ValueError("`groups` is empty: give at least one named group of runs")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    for (metric, panel_title, ylabel), ax in zip(_PANELS, (ax1, ax2), strict=True):
        for name, runs in groups.items():
            prefix = f"{name} " if name else ""
            for split in ("train", "test"):
                label = f"{split.capitalize()} {'Acc' if metric == 'acc' else 'Loss'}"
                _band(ax, _as_list(runs), f"{split}_{metric}", f"{label} {prefix}".strip())
        ax.set_title(panel_title)
        ax.set_xlabel("Epoch")
        ax.set_ylabel(ylabel)
        ax.legend()
        ax.grid(True)
    if any(len(_as_list(runs)) > 1 for runs in groups.values()):
        title = f"{title} — line: mean over seeds, band: min to max".lstrip(" —")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(runs: History | Sequence[History], title: str = "") -> Figure:
    """The chapter's first figure: train/test accuracy and loss of one method."""
    return plot_comparison({"": runs}, title)
