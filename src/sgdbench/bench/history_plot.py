"""The trend plot of the gate's history: each case's count over commits, with the threshold band.

One panel per case: the count relative to the first record of its fingerprint's series (a
fingerprint change starts a new series, drawn in another colour), the band ± that run's
threshold around the series' start (what the gate would let through against a baseline
recorded there), and every step (:func:`sgdbench.bench.history.steps`) marked and named.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sgdbench.bench.history import steps

__all__ = ["plot"]


def plot(records: list[dict[str, Any]], path: Path, cases: list[str] | None = None) -> None:
    """Write the trend plot of ``records`` (oldest first) to ``path`` (PNG)."""
    import matplotlib.pyplot as plt

    from sgdbench._figures import save  # selects matplotlib's Agg backend before pyplot draws

    names = cases or sorted({k for r in records for k in r["counts"]})
    cols = min(4, len(names)) or 1
    rows = math.ceil(len(names) / cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.6 * rows), squeeze=False)
    moved = {(s.at, s.case) for s in steps(records)}
    ids = list(dict.fromkeys(r["fingerprint"].get("id", "") for r in records))
    labels = [r["commit"][:7] for r in records]
    for ax, name in zip(axes.flat, names, strict=False):
        for k, ident in enumerate(ids):
            idx = [i for i, r in enumerate(records) if r["fingerprint"].get("id", "") == ident
                   and name in r["counts"]]  # fmt: skip
            if not idx:
                continue
            first = records[idx[0]]["counts"][name]
            ys = [100 * (records[i]["counts"][name] / first - 1) for i in idx]
            band = 100 * records[idx[0]]["threshold"]
            ax.axhspan(-band, band, color=f"C{k}", alpha=0.12, lw=0)
            ax.plot(idx, ys, "o-", color=f"C{k}", ms=3, lw=1)
            for i, y in zip(idx, ys, strict=True):
                if (i, name) in moved:
                    ax.plot([i], [y], "o", color="red", ms=6)
                    ax.annotate(labels[i], (i, y), fontsize=6, color="red",
                                xytext=(2, 4), textcoords="offset points")  # fmt: skip
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_xticks(range(len(records)))
        ax.set_xticklabels(labels, rotation=90, fontsize=5)
        ax.set_ylabel("% vs series start", fontsize=6)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(
        "Instruction counts per commit (shaded: ± the gate's threshold; red: a step)", fontsize=9
    )
    fig.tight_layout()
    save(fig, path)
