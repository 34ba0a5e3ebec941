"""The claims' figures: one set per data set, each file of :data:`FIGURES` (CLAIMS.md shows
them under each data set's table)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sgdbench import plots  # first: it selects matplotlib's Agg backend
from sgdbench.claims._core import Claim, bands

__all__ = ["FIGURES", "figures"]

FIGURES = (
    ("weight decay sweep", "claims_weight_decay.png"),
    ("dropout: train/test gap", "claims_dropout.png"),
    ("batch size at matched training loss: λ_max, proxy, test accuracy", "claims_batch_size.png"),
    ("step-size schedules: training loss and its noise floor", "claims_schedules.png"),
    ("momentum: test accuracy and epochs to 95 %", "claims_momentum.png"),
    ("dropout: singular values of W and W − W₀", "claims_low_rank.png"),
    ("SGD-32 vs GD per epoch, per update, per second", "claims_fair.png"),
    ("distributions over seeds: test-loss gaps and epochs to 95 %", "claims_distributions.png"),
)


class _Suffixed:
    """A folder whose ``/ "name.png"`` is ``folder / "name{suffix}.png"``."""

    def __init__(self, folder: Path, suffix: str) -> None:
        self.folder, self.suffix = folder, suffix

    def __truediv__(self, name: str) -> Path:
        stem, ext = name.rsplit(".", 1)
        return self.folder / f"{stem}{self.suffix}.{ext}"


def _errorbar(  # type: ignore[no-untyped-def]
    ax: Any, xs: Sequence[float], cols: Sequence[Sequence[float]], label: str, line: bool = True
):
    means = [statistics.fmean(c) for c in cols]
    lo = [m - min(c) for m, c in zip(means, cols, strict=True)]
    hi = [max(c) - m for m, c in zip(means, cols, strict=True)]
    ax.errorbar(
        xs,
        means,
        yerr=[lo, hi],
        marker="o",
        capsize=3,
        label=label,
        linestyle="-" if line else "none",
    )


def figures(by_key: dict[str, Claim], out: Path, suffix: str = "") -> None:
    """Every file of :data:`FIGURES` (mean over seeds, min–max bars or bands), each name with
    ``suffix`` before its extension (one set of figures per data set)."""
    dest = _Suffixed(out, suffix)
    import matplotlib.pyplot as plt

    sweep = by_key["weight-decay"].data["sweep"]
    lams = list(sweep)
    xs = list(range(len(lams)))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for key, label in (("train_loss", "train"), ("test_loss", "test")):
        _errorbar(axes[0], xs, [sweep[k][key] for k in lams], label)
    for key, label in (("train_acc", "train"), ("test_acc", "test")):
        _errorbar(axes[1], xs, [sweep[k][key] for k in lams], label)
    _errorbar(axes[2], xs, [sweep[k]["norm"] for k in lams], "‖θ‖")
    for ax, title in zip(axes, ("final loss", "final accuracy", "weight norm ‖θ‖"), strict=True):
        ax.set_xticks(xs, [f"λ={float(k):g}" for k in lams])
        ax.set_title(f"Weight decay sweep: {title}")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    plots.save(fig, dest / "claims_weight_decay.png")

    gaps = by_key["dropout-gap"].data["gaps"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (key, title) in zip(
        axes,
        (
            ("acc_gap", "train − test accuracy"),
            ("loss_gap", "test − train loss"),
            ("test_acc", "final test accuracy"),
        ),
        strict=True,
    ):
        _errorbar(ax, list(range(len(gaps))), [g[key] for g in gaps.values()], title, line=False)
        ax.set_xlim(-0.5, len(gaps) - 0.5)
        ax.set_xticks(list(range(len(gaps))), list(gaps))
        ax.set_title(f"Dropout: {title}")
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    plots.save(fig, dest / "claims_dropout.png")

    _batch_size(by_key["sharp-flat"], dest)
    _schedules(by_key["sgd-needs-decay"], by_key["gd-no-decay"], dest)
    _momentum(by_key["momentum"], dest)
    _low_rank(by_key["dropout-low-rank"], dest)
    _fair(by_key["fair-per-update"], by_key["fair-per-second"], dest)
    _distributions(by_key, dest)


def _band(ax: Any, xs: Any, curves: Any, label: str) -> None:
    """Mean over seeds as a line, 5–95 % of seeds darker, min–max lighter (``curves``: every
    seed's curve, or :func:`sgdbench.claims._core.bands` of them)."""
    b = curves if isinstance(curves, dict) else bands(curves)
    xs = list(xs)[: len(b["mean"])]
    (line,) = ax.plot(xs, b["mean"], label=label)
    ax.fill_between(xs, b["min"], b["max"], color=line.get_color(), alpha=0.12, lw=0)
    ax.fill_between(xs, b["q05"], b["q95"], color=line.get_color(), alpha=0.25, lw=0)


def _batch_size(claim: Claim, out: _Suffixed) -> None:
    import matplotlib.pyplot as plt

    rows = {int(b): r for b, r in claim.data["rows"].items() if r["seed"]}
    bs = sorted(rows)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (key, title) in zip(
        axes,
        (
            ("lambda_max", "λ_max of the training-loss Hessian"),
            ("proxy", "random-direction proxy (loss rise, σ = 0.05)"),
            ("test_acc", "test accuracy"),
        ),
        strict=True,
    ):
        _errorbar(ax, bs, [rows[b][key] for b in bs], key)
        ax.set_xscale("log")
        ax.set_xlabel("batch size")
        ax.set_title(f"At train loss ≤ {claim.data['target_loss']}: {title}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    plots.save(fig, out / "claims_batch_size.png")


def _schedules(sgd: Claim, gd: Claim, out: _Suffixed) -> None:
    import matplotlib.pyplot as plt

    curves = sgd.data["curves"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for name, cs in {**curves, "GD (constant)": gd.data["gd_curves"]}.items():
        _band(axes[0], range(1, _length(cs) + 1), cs, name)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("epoch")
    axes[0].set_title("Training loss (SGD-32 under each schedule; GD)")
    names = list(sgd.data["schedules"])
    cols = [sgd.data["schedules"][k]["fluctuation"] for k in names] + [gd.data["gd"]]
    labels = [*names, "GD"]
    floor = min((v for c in cols for v in c if v > 0), default=1e-9)
    _errorbar(axes[1], range(len(labels)), [[max(v, floor) for v in c] for c in cols], "", False)
    axes[1].set_yscale("log")
    axes[1].set_xticks(range(len(labels)), labels)
    axes[1].set_title(f"Noise floor: variation over the last 10 epochs (0 drawn at {floor:.0e})")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    plots.save(fig, out / "claims_schedules.png")


def _momentum(claim: Claim, out: _Suffixed) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for name, cs in claim.data["curves"].items():
        _band(axes[0], range(1, _length(cs) + 1), cs, name)
    axes[0].axhline(0.95, color="grey", lw=0.8, ls="--")
    axes[0].set_ylim(0.5, 1.0)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("epoch")
    axes[0].set_title("Test accuracy, SGD-32 (dashed: 95 %)")
    axes[0].legend()
    table = claim.data["table"]
    names = list(table)
    _errorbar(axes[1], range(len(names)), [table[k]["epochs"] for k in names], "", False)
    axes[1].set_xticks(range(len(names)), names)
    axes[1].set_yscale("log")
    axes[1].set_title("Epochs to 95 % test accuracy")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    plots.save(fig, out / "claims_momentum.png")


def _low_rank(claim: Claim, out: _Suffixed) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for ax, key, title in (
        (axes[0], "singular_values", "W (second hidden layer, after dropout)"),
        (axes[1], "delta_singular_values", "W − W₀ (what training added)"),
    ):
        for label, spectra in claim.data[key].items():
            _band(ax, range(1, _length(spectra) + 1), spectra, label)
        ax.axhline(0.01, color="grey", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_ylim(bottom=1e-6)  # below: float64 round-off of exactly-zero directions
        ax.set_xlabel("index i")
        ax.set_ylabel("σ_i / σ₁")
        ax.set_title(f"Singular values of {title}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    plots.save(fig, out / "claims_low_rank.png")


def _length(curves: Any) -> int:
    return len(curves["mean"]) if isinstance(curves, dict) else len(curves[0])


def _fair(per_update: Claim, per_second: Claim, out: _Suffixed) -> None:
    """Test loss per epoch and per update (the stacked seeds), per second (the timed ones)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    steps = per_update.data["steps_per_epoch"]
    for name, b in per_update.data["curves"].items():
        epochs = np.arange(1, _length(b) + 1)
        _band(axes[0], epochs, b, name)
        _band(axes[1], epochs * steps[name], b, name)
    for name, c in per_second.data["curves"].items():
        seconds = np.array(c["seconds"], dtype=float).mean(axis=0)
        _band(axes[2], seconds, c["test_loss"], f"{name} ({len(c['test_loss'])} timed seeds)")
    for ax, label in zip(
        axes,
        ("epoch", "parameter updates", "training seconds (mean over seeds; shared machine)"),
        strict=True,
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_title(f"Test loss per {label.split(' (')[0]}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    plots.save(fig, out / "claims_fair.png")


def _distributions(by_key: dict[str, Claim], out: _Suffixed) -> None:
    """Where a distribution over seeds says more than a mean: histograms, all seeds."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    gaps = by_key["sgd-faster"].data["gaps"]
    for epoch, g in gaps.items():
        axes[0].hist([v for v in g if math.isfinite(v)], bins=40, alpha=0.5, label=f"epoch {epoch}")
    axes[0].axvline(0, color="black", lw=0.8)
    axes[0].set_title(f"GD − SGD-32 test loss, same seed ({len(next(iter(gaps.values())))} seeds)")
    axes[0].set_xlabel("> 0: SGD-32 ahead")
    table = by_key["momentum"].data["table"]
    top = max(max(r["epochs"]) for r in table.values())
    edges = np.unique(np.geomspace(1, top + 1, 40).round())
    for name, r in table.items():
        axes[1].hist(r["epochs"], bins=edges, alpha=0.5, label=name)
    axes[1].set_xscale("log")
    axes[1].set_title("Epochs to 95 % test accuracy (never: epochs + 1)")
    axes[1].set_xlabel("epoch")
    fair = by_key["fair-per-update"].data
    diff = [s - g for s, g in zip(fair["sgd"], fair["gd"], strict=True) if math.isfinite(s - g)]
    axes[2].hist(diff, bins=40, alpha=0.7, label=f"SGD-32 − GD ({len(diff)} seeds)")
    axes[2].axvline(0, color="black", lw=0.8)
    axes[2].set_title("Test loss at GD's number of updates, SGD-32 − GD")
    axes[2].set_xlabel("> 0: GD ahead per update")
    for ax in axes:
        ax.set_ylabel("seeds")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    plots.save(fig, out / "claims_distributions.png")
