"""Algorithm 12's 1/(1 − p) scaling: the expectation it preserves, the exact law of each
unit, and p = 1."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from sgdbench.conformance._impl import DropoutUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance._stats import FALSE_ALARM, bernstein_halfwidth
from sgdbench.conformance.dropout._harness import (
    P_MAX,
    P_MIN,
    SAMPLES,
    Case,
    _activations,
    _assert_scaled,
    _check,
    _x,
)
from sgdbench.conformance.dropout._masks import GROUP, declared, mixed_group


@_check(
    "expectation",
    'Dropout: "the scaling ensures that the expected output of a neuron is the same during '
    'training and testing": E[dropout(x)] = p·0 + (1 − p)·x/(1 − p) = x',
    cases=lambda impl, v: st.builds(
        lambda case, p: {**case, "p": p},
        _activations(impl, v, nonzero=False, batched=False),
        st.one_of(st.just(0.0), st.floats(P_MIN, P_MAX)),
    ),
)
def expectation(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """Each element averaged over SAMPLES draws (along the batch dimension; rank 1: repeated
    calls are too slow, so a rank-1 dropout gets a (SAMPLES,)-shaped copy of its one value).

    Assumes the samples of a batch are dropped independently, each unit with probability p:
    true of every declared structure (element, channel and sample all draw each sample
    separately; at rank 1 only element is allowed, each unit its own draw). Bernstein:
    Var = x²p/(1 − p), |dropout(x) − x| ≤ |x|·max(1, p/(1 − p)); budget 1e-9/k per element
    (k elements, union bound: ≤ 1e-9 per example). Slack: 4 ulp for the rounding of
    x/(1 − p) and 1e-9 relative for the float64 sum of SAMPLES terms (both far below the
    half-width)."""
    x, p = _x(case, variant), case["p"]
    torch.manual_seed(case["seed"])
    batch = x.expand(SAMPLES, *x.shape).contiguous()
    mean = impl.apply(batch, p).double().mean(dim=0)
    k = x.numel()
    t_rel = bernstein_halfwidth(SAMPLES, p / (1 - p), max(1.0, p / (1 - p)), FALSE_ALARM / k)
    tol = x.double().abs() * (t_rel + 4 * torch.finfo(variant.torch_dtype).eps + 1e-9)
    bad = (mean - x.double()).abs() > tol
    if bad.any():
        i = tuple(bad.nonzero()[0].tolist())
        raise AssertionError(
            f"mean of {SAMPLES} dropout({x[i].item()!r}, p={p}) = {mean[i].item()!r} at "
            f"{list(i)}; independent draws with E[dropout(x)] = x fall outside "
            f"±{tol[i].item():.3g} of x with probability ≤ {FALSE_ALARM / k:.3g}: either "
            f"E[dropout(x)] ≠ x, or the {SAMPLES} samples along the batch axis are not drawn "
            f"independently as the declared mask says "
            f"[{impl.name}(x.expand({SAMPLES}, …), p={p}) {variant}]"
        )


@_check(
    "law",
    'Algorithm 12: "1_u ← u > p; return 1/(1 − p)·1_u ∘ h": dropped units exactly 0, kept '
    "units x/(1 − p), p = 0 the identity, the gradient 1_u/(1 − p); 1_u constant over each "
    "channel (sample) under a declared channel (sample) mask",
    cases=lambda impl, v: st.builds(
        lambda case, p: {**case, "p": p},
        _activations(impl, v, nonzero=True, batched=True),
        st.one_of(st.just(0.0), st.floats(0.0, 0.999)),
    ),
)
def law(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """x has no zeros, so 1_u can be read off the output; p ≤ 0.999 keeps 1/(1 − p) finite.
    Exact, per element, on a fresh copy of x (an in-place dropout is judged on it, the
    gradient reaching x through the copy)."""
    x, p = _x(case, variant), case["p"]
    x.requires_grad_(True)
    torch.manual_seed(case["seed"])
    out = impl.apply(x, p)
    call = f"{impl.name}(x, p={p}) {variant}"
    o, xd = out.detach(), x.detach()
    if p == 0.0 and not torch.equal(o, xd):
        raise AssertionError(
            f"dropout(x, p=0) = {o.flatten()[:4].tolist()}…, but should be x [{call}]"
        )
    kept = o != 0
    mixed = mixed_group(kept, impl.structure)
    if mixed is not None:
        raise AssertionError(
            f"{GROUP[impl.structure]} {list(mixed)} has kept and dropped units, but under "
            f"{declared(impl)} its units are all kept or all dropped [{call}]"
        )
    if kept.any():
        _assert_scaled("kept units", o[kept], xd[kept], p, impl.bitwise, call)
    out.sum().backward()  # type: ignore[no-untyped-call]
    assert x.grad is not None, f"no gradient reached x [{call}]"
    grad = x.grad.detach()
    if (grad[~kept] != 0).any():
        raise AssertionError(f"∂Σdropout(x)/∂x is not 0 at a dropped unit [{call}]")
    if kept.any():
        ones = torch.ones_like(xd[kept])
        _assert_scaled("∂Σdropout(x)/∂x at kept units", grad[kept], ones, p, impl.bitwise, call)


@_check(
    "p_one",
    "torch.nn.functional.dropout: p = 1 zeroes every unit (the chapter's 1/(1 − p) is "
    "undefined there; torch's documented contract decides)",
    cases=lambda impl, v: _activations(impl, v, nonzero=True, batched=True),
)
def p_one(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    x = _x(case, variant)
    torch.manual_seed(case["seed"])
    out = impl.apply(x, 1.0)
    if not torch.equal(out, torch.zeros_like(x)):
        raise AssertionError(
            f"dropout(x, p=1) = {out.flatten()[:4].tolist()}…, but should be all zeros "
            f"[{impl.name} {variant}]"
        )
