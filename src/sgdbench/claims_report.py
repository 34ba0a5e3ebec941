"""results/CLAIMS.md and the claims' figures, from the Claim objects of sgdbench.claims."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sgdbench import plots  # first: it selects matplotlib's Agg backend
from sgdbench.claims import Claim

__all__ = ["figures", "render"]


def render(claims: Sequence[Claim], header: str) -> str:
    lines = [
        "# The chapter's claims, checked",
        "",
        header,
        "",
        "| # | the chapter says | measured: mean [min, max] over seeds | verdict | rule |",
        "| --- | --- | --- | --- | --- |",
    ]
    for i, c in enumerate(claims, 1):
        lines.append(f"| {i} | {c.sentence} | {c.measured} | **{c.verdict}** | {c.rule} |")
    lines += [
        "",
        "![weight decay sweep](claims_weight_decay.png)",
        "",
        "![dropout: train/test gap](claims_dropout.png)",
        "",
        "![batch size: test accuracy and sharpness](claims_batch_size.png)",
    ]
    return "\n".join(lines) + "\n"


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


def figures(by_key: dict[str, Claim], out: Path) -> None:
    """claims_weight_decay.png, claims_dropout.png, claims_batch_size.png (mean, min–max bars)."""
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
    plots.save(fig, out / "claims_weight_decay.png")

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
    plots.save(fig, out / "claims_dropout.png")

    rows = by_key["sharp-flat"].data["rows"]
    bs = [int(b) for b in rows]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    _errorbar(axes[0], bs, [rows[str(b)]["test_acc"] for b in bs], "test accuracy")
    _errorbar(axes[1], bs, [rows[str(b)]["sharpness"] for b in bs], "sharpness")
    for ax, title in zip(
        axes, ("final test accuracy", "sharpness (loss rise, σ = 0.05)"), strict=True
    ):
        ax.set_xscale("log")
        ax.set_xlabel("batch size")
        ax.set_title(f"Batch size: {title}")
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    plots.save(fig, out / "claims_batch_size.png")
