"""Moved: the headline ``nox -s bench`` ends with is :mod:`sgdbench.bench.headline`."""

from __future__ import annotations

from sgdbench.bench.headline import EPOCH, headline

__all__ = ["EPOCH", "headline"]
