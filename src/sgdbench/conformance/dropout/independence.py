"""Algorithm 12's "each neuron is independently dropped with probability p": the kept count
and the independence of units along every axis."""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

from sgdbench.conformance._impl import DropoutUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance._stats import FALSE_ALARM, bernstein_halfwidth
from sgdbench.conformance.dropout._harness import (
    _CALLS,
    _KEEP_SHAPES,
    _PAIR_SHAPES,
    P_MAX,
    Case,
    _check,
    seeds,
)


@_check(
    "keep_rate",
    'Algorithm 12: "each neuron is independently dropped with probability p": the number '
    "kept among n units is Binomial(n, 1 − p)",
    cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.0, P_MAX), "seed": seeds}),
)
def keep_rate(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """n = 20 000 units. Bernstein for the kept fraction (Var = p(1 − p), |1_u − (1 − p)| ≤
    max(p, 1 − p)): false alarm ≤ 1e-9; a keep rate off by 0.04 or more is caught (half-width
    ≤ 0.019)."""
    p, shape = case["p"], _KEEP_SHAPES[impl.rank]
    n = math.prod(shape)
    torch.manual_seed(case["seed"])
    ones = torch.ones(shape, dtype=variant.torch_dtype, device=variant.device)
    kept = (impl.apply(ones, p) != 0).double().mean().item()
    t = bernstein_halfwidth(n, p * (1 - p), max(p, 1 - p), FALSE_ALARM) if p > 0 else 0.0
    assert abs(kept - (1 - p)) <= t, (
        f"kept fraction {kept:.5f}, but should be 1 − p = {1 - p:.5f} ± {t:.4f} (false-alarm "
        f"bound {FALSE_ALARM}) [{impl.name}(ones({shape}), p={p}) {variant}]"
    )


@_check(
    "independent_units",
    'Algorithm 12: "sample u ~ U([0, 1])^d": one independent draw per unit, so no two units '
    "(along any axis: batch, feature, channel, spatial) share their fate",
    cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.1, 0.9), "seed": seeds}),
)
def independent_units(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """For each axis, the units are split into disjoint neighbouring pairs (index 2k, 2k + 1);
    under Algorithm 12 two units agree (both kept or both dropped) with probability
    q = p² + (1 − p)², independently across pairs. Over 4 calls on 4096 units that is 8192
    pairs per axis; Bernstein (Var = q(1 − q), |1 − q| ≤ max(q, 1 − q)) with the 1e-9 budget
    split over the axes bounds the false alarm. A dropout that drops whole rows, channels or
    the same units for every sample agrees in 100 % of pairs along that axis, against
    q ≤ 0.82 on p ∈ [0.1, 0.9]: 0.18 away, five times the half-width (≤ 0.036)."""
    p, shape = case["p"], _PAIR_SHAPES[impl.rank]
    torch.manual_seed(case["seed"])
    ones = torch.ones(shape, dtype=variant.torch_dtype, device=variant.device)
    masks = torch.stack([impl.apply(ones, p) != 0 for _ in range(_CALLS)])
    if masks.all():
        raise AssertionError(
            f"no unit was ever 0 in {_CALLS} calls at p={p}: not Algorithm 12's mask, which "
            f"zeroes dropped units [{impl.name}(ones({shape})) {variant}]"
        )
    q = p * p + (1 - p) * (1 - p)
    for axis in range(len(shape)):
        a = masks.narrow(axis + 1, 0, shape[axis] // 2 * 2)
        pairs = a.unflatten(axis + 1, (-1, 2))  # type: ignore[no-untyped-call]
        even, odd = pairs.unbind(axis + 2)
        agree = (even == odd).double()
        t = bernstein_halfwidth(agree.numel(), q * (1 - q), max(q, 1 - q), FALSE_ALARM / len(shape))
        rate = agree.mean().item()
        assert abs(rate - q) <= t, (
            f"neighbouring units along axis {axis} agree in {rate:.3f} of {agree.numel()} pairs, "
            f"but independent units agree in p² + (1 − p)² = {q:.3f} ± {t:.3f} (false-alarm "
            f"bound {FALSE_ALARM}): units share their mask along axis {axis} "
            f"[{impl.name}(ones({shape}), p={p}) {variant}]"
        )
