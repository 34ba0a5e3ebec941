"""Algorithm 12's "each neuron is independently dropped with probability p", generalised to
the declared mask structure (:mod:`._masks`): the kept count, and units that share their draw
exactly within a group and are independent across groups, along every axis."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from sgdbench.conformance._impl import DropoutUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance._stats import FALSE_ALARM, bernstein_halfwidth
from sgdbench.conformance.dropout._harness import _CALLS, P_MAX, Case, _check, seeds
from sgdbench.conformance.dropout._masks import (
    DRAWS,
    GROUP,
    declared,
    groups,
    keep_shape,
    mixed_group,
    pair_shape,
    per_group,
)


@_check(
    "keep_rate",
    'Algorithm 12: "each neuron is independently dropped with probability p": the number '
    "kept among n units is Binomial(n, 1 − p); under a declared channel (sample) mask, among "
    "n channels (samples)",
    cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.0, P_MAX), "seed": seeds}),
)
def keep_rate(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """n = 20 000 groups of the declared structure (units, channels or samples).

    Assumes the groups are dropped independently (what the declared structure says; checked
    by independent_units). The kept fraction of units is the mean over groups of each
    group's kept fraction, a number in [0, 1] with mean 1 − p and variance ≤ p(1 − p)
    whatever happens inside a group; Bernstein (|X − E X| ≤ max(p, 1 − p)) puts it within t
    of 1 − p except with probability ≤ 1e-9. A keep rate off by 0.04 or more is caught
    (t ≤ 0.019)."""
    p, shape = case["p"], keep_shape(impl.structure, impl.rank)
    n = groups(impl.structure, shape)
    torch.manual_seed(case["seed"])
    ones = torch.ones(shape, dtype=variant.torch_dtype, device=variant.device)
    kept = (impl.apply(ones, p) != 0).double().mean().item()
    t = bernstein_halfwidth(n, p * (1 - p), max(p, 1 - p), FALSE_ALARM) if p > 0 else 0.0
    assert abs(kept - (1 - p)) <= t, (
        f"kept fraction {kept:.5f}, but under {declared(impl)} the {n} {GROUP[impl.structure]}s "
        f"are kept independently with probability 1 − p = {1 - p:.5f}, and their kept fraction "
        f"falls outside ±{t:.4f} of it with probability ≤ {FALSE_ALARM} "
        f"[{impl.name}(ones({shape}), p={p}) {variant}]"
    )


def assert_structure(impl: DropoutUnderTest, structure: str, case: Case, variant: Variant) -> None:
    """``structure``'s two statements on 4 calls over 4096 groups (:func:`._masks.pair_shape`).

    1. Exact: the units of one group share their fate (all kept or all dropped).
    2. Statistical: for each group axis, the groups are split into disjoint neighbouring pairs
       (index 2k, 2k + 1); independent groups, each dropped with probability p, agree (both
       kept or both dropped) with probability q = p² + (1 − p)², independently across pairs.
       4 calls × 2048 pairs = 8192 pairs per axis; Bernstein (Var = q(1 − q),
       |X − q| ≤ max(q, 1 − q)) with the 1e-9 budget split over the axes. Groups that share
       their fate agree in 100 % of pairs, against q ≤ 0.82 on p ∈ [0.1, 0.9]: 0.18 away,
       five times the half-width (≤ 0.036).

    Assumes nothing beyond the statement checked: a correct implementation passes both
    except with probability ≤ 1e-9 (statement 2; statement 1 and the never-zero guard, whose
    chance is ≤ 0.9^16384, are exact).
    """
    __tracebackhide__ = True
    p, shape = case["p"], pair_shape(structure, impl.rank)
    group, call = GROUP[structure], f"{impl.name}(ones({shape}), p={p}) {variant}"
    torch.manual_seed(case["seed"])
    ones = torch.ones(shape, dtype=variant.torch_dtype, device=variant.device)
    masks = [impl.apply(ones, p) != 0 for _ in range(_CALLS)]
    if all(bool(m.all()) for m in masks):
        raise AssertionError(
            f"no unit was ever 0 in {_CALLS} calls at p={p}: a dropout zeroes dropped units "
            f"[{call}]"
        )
    for c, m in enumerate(masks):
        mixed = mixed_group(m, structure)
        if mixed is not None:
            raise AssertionError(
                f"call {c + 1}: {group} {list(mixed)} has kept and dropped units, but with "
                f"{DRAWS[structure]} its units are all kept or all dropped [{call}]"
            )
    fates = torch.stack([per_group(m, structure) for m in masks])
    q = p * p + (1 - p) * (1 - p)
    axes = fates.dim() - 1
    for axis in range(axes):
        a = fates.narrow(axis + 1, 0, fates.shape[axis + 1] // 2 * 2)
        pairs = a.unflatten(axis + 1, (-1, 2))  # type: ignore[no-untyped-call]
        even, odd = pairs.unbind(axis + 2)
        agree = (even == odd).double()
        t = bernstein_halfwidth(agree.numel(), q * (1 - q), max(q, 1 - q), FALSE_ALARM / axes)
        rate = agree.mean().item()
        assert abs(rate - q) <= t, (
            f"neighbouring {group}s along axis {axis} agree (both kept or both dropped) in "
            f"{rate:.3f} of {agree.numel()} pairs; {group}s dropped independently with "
            f"probability p agree in p² + (1 − p)² = {q:.3f}, and fall outside ±{t:.3f} of it "
            f"with probability ≤ {FALSE_ALARM}: the {group}s along axis {axis} are not "
            f"independent draws with probability p [{call}]"
        )


@_check(
    "independent_units",
    'Algorithm 12: "sample u ~ U([0, 1])^d": one independent draw per unit, so no two units '
    "(along any axis: batch, feature, channel, spatial) share their fate; under a declared "
    "channel (sample) mask, the units of one channel (sample) share one draw and channels "
    "(samples) are independent",
    cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.1, 0.9), "seed": seeds}),
)
def independent_units(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """The declared structure holds: :func:`assert_structure` (exact sharing within a group,
    independence across groups with false alarm ≤ 1e-9)."""
    assert_structure(impl, impl.structure, case, variant)
