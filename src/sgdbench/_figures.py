"""Figures as files: matplotlib's Agg backend (no display assumed) and a deterministic PNG.

Low-level and shared: the chapter's figures (:mod:`sgdbench.plots`), the claims' and the
benchmark report's all draw through here. Import it before ``matplotlib.pyplot``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display is assumed (CI, servers)
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["save"]


def save(fig: Figure, path: str | Path) -> None:
    """Write ``fig`` as PNG (fixed dpi and no timestamp metadata) and close it."""
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
