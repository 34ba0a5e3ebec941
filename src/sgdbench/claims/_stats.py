"""Confidence intervals for the claims over seeds: Wilson for shares, bootstrap for means.

A claim over S seeds reports how many seeds its per-seed statement held in, k of S, and the
Wilson score interval for the underlying share (``scipy.stats.binomtest(...).proportion_ci``,
method "wilson"): its coverage stays near the nominal 95 % for shares near 0 or 1, where the
normal interval collapses, without Clopper–Pearson's over-coverage. Means get a percentile
bootstrap interval (``scipy.stats.bootstrap``, 9,999 resamples of the seeds, a fixed generator so
that CLAIMS.md is reproducible); a mean of identical values gets that value as both ends.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["CONFIDENCE", "mean_ci", "median_ci", "ratio_ci", "share", "wilson"]

CONFIDENCE = 0.95
_RESAMPLES = 9_999


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score 95 % interval for a share of ``k`` successes in ``n`` trials."""
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"`k` must be in [0, n] and `n` ≥ 1, but got k={k}, n={n}")
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return float(ci.low), float(ci.high)


def share(k: int, n: int) -> str:
    """'k/n (p %; Wilson 95 % CI lo–hi %)'."""
    lo, hi = wilson(k, n)
    return f"{k}/{n} ({100 * k / n:.1f} %; 95 % CI {100 * lo:.1f}–{100 * hi:.1f} %)"


def _bootstrap(
    data: tuple[Sequence[float], ...], statistic: Callable[..., Any], paired: bool
) -> tuple[float, float]:
    arrays = tuple(np.asarray(d, dtype=float) for d in data)
    if any(len(a) < 2 for a in arrays) or all(np.ptp(a) == 0 for a in arrays):
        value = float(statistic(*arrays, axis=-1))
        return value, value
    res = stats.bootstrap(
        arrays,
        statistic,
        n_resamples=_RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        paired=paired,
        vectorized=True,
        rng=np.random.default_rng(0),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def mean_ci(xs: Sequence[float], fmt: str = ".4f") -> str:
    """'mean (95 % CI lo–hi)' with a percentile bootstrap over the seeds."""
    finite = [x for x in xs if math.isfinite(x)]
    if not finite:
        return "no finite value"
    lo, hi = _bootstrap((finite,), np.mean, paired=False)
    return f"{statistics.fmean(finite):{fmt}} (95 % CI {lo:{fmt}}–{hi:{fmt}})"


def median_ci(xs: Sequence[float], fmt: str = "g") -> str:
    """'median (95 % CI lo–hi)' with a percentile bootstrap over the seeds."""
    lo, hi = _bootstrap((xs,), np.median, paired=False)
    return f"{statistics.median(xs):{fmt}} (95 % CI {lo:{fmt}}–{hi:{fmt}})"


def ratio_ci(a: Sequence[float], b: Sequence[float], fmt: str = ".3f") -> str:
    """'mean(a)/mean(b)× (95 % CI lo–hi)', seeds resampled in pairs (the same seed in a, b)."""

    def ratio(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(np.mean(x, axis=axis) / np.mean(y, axis=axis))

    pairs = [(x, y) for x, y in zip(a, b, strict=True) if math.isfinite(x) and math.isfinite(y)]
    if not pairs:
        return "no finite pair"
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    lo, hi = _bootstrap((a, b), ratio, paired=True)
    return f"{statistics.fmean(a) / statistics.fmean(b):{fmt}}× (95 % CI {lo:{fmt}}–{hi:{fmt}})"
