"""The statistics behind every randomised check: one false-alarm budget, Bernstein's bound."""

from __future__ import annotations

import math

__all__ = ["FALSE_ALARM", "bernstein_halfwidth"]

# The chance that one Hypothesis example of a statistical check fails on a correct
# implementation. With E examples per check and S statistical checks per run, a whole run
# false-alarms with probability ≤ E·S·FALSE_ALARM (union bound): 5e-7 for 50 examples of 10.
FALSE_ALARM = 1e-9


def bernstein_halfwidth(n: int, variance: float, bound: float, delta: float) -> float:
    """t with P(|mean − E| ≥ t) ≤ delta for n i.i.d. samples, |X − E X| ≤ bound, Var X = variance.

    Bernstein's inequality: P(|mean − E| ≥ t) ≤ 2 exp(−n t² / (2σ² + 2 b t / 3)); solve the
    quadratic n t² − (2 b L / 3) t − 2 σ² L = 0 with L = ln(2/δ) for its positive root.
    """
    L = math.log(2 / delta)
    a, b, c = n, 2 * bound * L / 3, 2 * variance * L
    return (b + math.sqrt(b * b + 4 * a * c)) / (2 * a)
