"""Dropout (chapter, section "Dropout", Algorithm 12) against the reference and torch.

Each property runs on every dropout in ``_support.DROPOUTS`` (the reference function and layer,
``torch.nn.functional.dropout``, ``torch.nn.Dropout``) and every device present.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from properties._support import (
    DEVICES,
    DROPOUT_PARAMS,
    DTYPES,
    FALSE_ALARM,
    P_MAX,
    DropoutFn,
    assert_equal,
    bernstein_halfwidth,
    dtypes,
    probabilities,
    seeds,
    shapes,
    values,
)

# Samples per element for the expectation check. With at most 16 elements per example, the
# Bernstein half-width at the per-element budget 1e-9/16 is 0.0024·|x| at p = 0.01 and
# 0.23·|x| at p = 0.99, below half the relative bias of a missing scale (p) or a doubled one
# (p/(1 − p)) everywhere on [0.01, 0.99]: such a bug lands outside the band, except with
# probability below the same budget.
SAMPLES = 100_000
small_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple)


def _kept_scales(p: float, dtype: torch.dtype) -> list[torch.Tensor]:
    """The dtype's roundings of 1/(1 − p): direct, or as 1/fl(1 − p) (torch's CPU kernel)."""
    return [
        torch.tensor(1 / (1 - p), dtype=dtype),
        1 / torch.tensor(1 - p, dtype=dtype),
    ]


EXPECTATION_GIVEN = {
    "data": st.data(),
    "p": probabilities,
    "dtype": dtypes,
    "shape": small_shapes,
    "seed": seeds,
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", DROPOUT_PARAMS)
@given(**EXPECTATION_GIVEN)
def test_dropout_preserves_expectation(
    impl: DropoutFn, device: str, data: st.DataObject, p: float, dtype: str, shape: tuple, seed: int
) -> None:
    """Dropout: "the scaling ensures that the expected output of a neuron is the same during
    training and testing." E[dropout(x)] = p·0 + (1 − p)·x/(1 − p) = x.

    Each element is averaged over SAMPLES independent draws. Bernstein's inequality, with
    Var = x²·p/(1 − p) and |dropout(x) − x| ≤ |x|·max(1, p/(1 − p)), gives a half-width that
    the mean leaves with probability ≤ 1e-9/k per element (k elements: ≤ 1e-9 per example, by
    the union bound). Added slack: 4 ulp of the dtype for the rounding of x/(1 − p), and 1e-9
    relative for the float64 summation of SAMPLES terms (both far below the half-width).
    """
    x = torch.tensor(
        data.draw(st.lists(values(dtype), min_size=math.prod(shape), max_size=math.prod(shape))),
        dtype=DTYPES[dtype],
        device=device,
    ).reshape(shape)
    torch.manual_seed(seed)
    samples = impl(x.expand(SAMPLES, *shape).contiguous(), p)
    mean = samples.double().mean(dim=0)

    k = x.numel()
    var_rel, bound_rel = p / (1 - p), max(1.0, p / (1 - p))
    t_rel = bernstein_halfwidth(SAMPLES, var_rel, bound_rel, FALSE_ALARM / k)
    slack_rel = 4 * torch.finfo(DTYPES[dtype]).eps + 1e-9
    tol = x.double().abs() * (t_rel + slack_rel)
    bad = (mean - x.double()).abs() > tol
    if bad.any():
        i = bad.nonzero()[0].tolist()
        raise AssertionError(
            f"mean of {SAMPLES} dropout({x[tuple(i)].item()!r}, p={p}) = "
            f"{mean[tuple(i)].item()!r}, but should be within ±{tol[tuple(i)].item():.3g} of "
            f"x (false-alarm bound {FALSE_ALARM}) [{impl.__name__}, {dtype}, {device}]"
        )


law_probabilities = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 0.999))
LAW_GIVEN = {
    "data": st.data(),
    "p": law_probabilities,
    "dtype": dtypes,
    "shape": shapes,
    "seed": seeds,
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", DROPOUT_PARAMS)
@given(**LAW_GIVEN)
def test_dropout_law(
    impl: DropoutFn, device: str, data: st.DataObject, p: float, dtype: str, shape: tuple, seed: int
) -> None:
    """Algorithm 12: "1_u ← u > p; return 1/(1 − p)·1_u ∘ h", checked exactly.

    Dropped entries are exactly 0; kept entries are exactly x·s for one s, the dtype's rounding
    of 1/(1 − p) (either fl(1/(1 − p)) or 1/fl(1 − p): both are "1/(1 − p)" in the dtype);
    p = 0 is the identity, p = 1 gives zeros; the gradient of Σ dropout(x) is 1_u·s.
    p ≤ 0.999 (or exactly 1) keeps s finite in float32. x has no zeros, so 1_u can be read off.
    """
    n = math.prod(shape)
    x = torch.tensor(
        data.draw(st.lists(values(dtype, nonzero=True), min_size=n, max_size=n)),
        dtype=DTYPES[dtype],
        device=device,
    ).reshape(shape)
    x.requires_grad_(True)
    torch.manual_seed(seed)
    out = impl(x, p)
    call = f"{impl.__name__}(x, p={p}) {dtype} {device}"
    xd = x.detach()
    if p == 0.0:
        assert_equal("dropout(x, p=0)", out.detach(), xd, call)
    if p == 1.0:
        assert_equal("dropout(x, p=1)", out.detach(), torch.zeros_like(xd), call)
    kept = out.detach() != 0
    assert_equal("dropped entries", out.detach()[~kept], torch.zeros_like(xd[~kept]), call)
    scales = [s.to(device) for s in _kept_scales(p, DTYPES[dtype])] if p < 1 else []
    if kept.any() and not any(torch.equal(out.detach()[kept], xd[kept] * s) for s in scales):
        assert_equal("kept entries", out.detach()[kept], xd[kept] * scales[0], call)
    out.sum().backward()
    assert x.grad is not None, f"no gradient reached x [{call}]"
    # The gradient is 1_u·s for one rounding s of 1/(1 − p) (both can fit the forward values).
    grads = [kept.to(x.dtype) * s for s in scales] or [torch.zeros_like(xd)]
    expected_grad = next((g for g in grads if torch.equal(x.grad, g)), grads[0])
    if p == 0.0:
        expected_grad = torch.ones_like(xd)
    assert_equal("∂Σdropout(x)/∂x", x.grad, expected_grad, call)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", DROPOUT_PARAMS)
@given(p=st.floats(0.0, P_MAX), seed=seeds)
def test_dropout_keeps_a_binomial_fraction(impl: DropoutFn, device: str, p: float, seed: int):
    """Algorithm 12: "each neuron is independently dropped with probability p".

    The number kept among n = 20 000 units is Binomial(n, 1 − p). Bernstein's inequality for
    the kept fraction (Var = p(1 − p), |1_u − (1 − p)| ≤ max(p, 1 − p)) bounds the chance of a
    false alarm by 1e-9; a keep rate off by 0.04 or more is caught (half-width ≤ 0.019).
    """
    n = 20_000
    torch.manual_seed(seed)
    kept = (impl(torch.ones(n, device=device), p) != 0).double().mean().item()
    t = bernstein_halfwidth(n, p * (1 - p), max(p, 1 - p), FALSE_ALARM) if p > 0 else 0.0
    assert abs(kept - (1 - p)) <= t, (
        f"kept fraction {kept:.5f}, but should be 1 − p = {1 - p:.5f} ± {t:.4f} "
        f"(false-alarm bound {FALSE_ALARM}) [{impl.__name__}(ones({n}), p={p}), {device}]"
    )
