"""Argument checks shared by the public entry points: each names the argument and the range."""

from __future__ import annotations

import math
from numbers import Integral, Real

__all__ = ["check_int", "check_range"]


def check_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """``value`` as an int, or TypeError/ValueError naming ``name`` and the allowed values."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"`{name}` must be an int, but got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be ≥ {minimum}, but got {value}")
    return int(value)


def check_range(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float in the interval, or an error naming ``name`` and the interval."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"`{name}` must be a real number, but got {type(value).__name__} {value!r}")
    v = float(value)
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    interval = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if math.isnan(v) or too_low or too_high or (high is None and math.isinf(v)):
        raise ValueError(f"`{name}` must be in {interval}, but got {value}")
    return v
