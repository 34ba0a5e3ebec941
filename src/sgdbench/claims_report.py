"""Moved: results/CLAIMS.md and the claims' figures are :mod:`sgdbench.claims.report`."""

from __future__ import annotations

from sgdbench.claims.report import FIGURES, figures, render

__all__ = ["FIGURES", "figures", "render"]
