"""The chapter's algorithm: Algorithm 11's step, momentum (with dampening and Nesterov, as
torch documents them), and weight decay in its coupled (≡ L2) and decoupled forms."""

from __future__ import annotations

import dataclasses

import torch
from hypothesis import strategies as st

from sgdbench.conformance._impl import OptimizerUnderTest
from sgdbench.conformance._oracle import trajectory
from sgdbench.conformance._runner import Variant
from sgdbench.conformance.optimizer._harness import (
    Case,
    _call,
    _check,
    _follows_oracle,
    _needs,
    _plain,
    _values,
    adaptive,
    assert_follows,
    assert_same,
    configs,
    dampenings,
    decays,
    expect,
    features,
    hyper,
    lrs,
    momenta,
    oracle_hyper,
    parameters,
    problem,
    required,
    run,
    tensors,
)
from sgdbench.reference import l2_penalty


@st.composite
def _plain_cases(draw: st.DrawFn) -> Case:
    return {**problem(draw, (1, 5)), "lr": draw(lrs, label="lr")}


@_check(
    "plain_step",
    'Algorithm 11: "θ ← θ − η_t ∇L(B, θ)" (no momentum, no weight decay)',
    cases=lambda impl, v: _plain_cases(),
    applicable=_plain,
    algorithms=["sgd"],
)
def plain_step(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, lr=case["lr"])
    expected = trajectory(
        theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
    )
    assert_follows(
        "θ − η∇L", run(impl, theta0, grads, kwargs, variant), expected, _call(impl, kwargs)
    )


@st.composite
def _momentum(draw: st.DrawFn, dampening: bool = False, nesterov: bool = False) -> Case:
    case = {**problem(draw, (2, 8)), "lr": draw(lrs, label="lr"), "momentum": draw(momenta)}
    if dampening:
        case["dampening"] = draw(dampenings, label="dampening")
    if nesterov:
        case["nesterov"] = True
    return case


@_check(
    "momentum",
    '"we can integrate momentum in this optimization scheme"; torch.optim.SGD: b₁ = g₁, '
    "b_t = μb_{t−1} + g_t, θ ← θ − γb_t",
    cases=lambda impl, v: _momentum(),
    applicable=_needs("momentum"),
    algorithms=["sgd"],
)
def momentum(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "the momentum recursion")


@_check(
    "dampening",
    "torch.optim.SGD: b_t = μb_{t−1} + (1 − τ)g_t, the first buffer b₁ = g₁ undampened",
    cases=lambda impl, v: _momentum(dampening=True),
    applicable=_needs("momentum", "dampening"),
    algorithms=["sgd"],
)
def dampening(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "the dampened momentum recursion")


@_check(
    "nesterov",
    "torch.optim.SGD (Sutskever et al.): with nesterov, θ ← θ − γ(g_t + μb_t)",
    cases=lambda impl, v: _momentum(nesterov=True),
    applicable=_needs("momentum", "nesterov"),
    algorithms=["sgd"],
)
def nesterov(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "Nesterov's update")


@st.composite
def _decayed(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    if adaptive(impl):
        # γ and λ both ≥ 0.05: the decay γλ|θ| ≥ 2.5e-3|θ|, and the difference between decay
        # before and after the update, γ²λ|u|, ≥ 1.25e-4|u|: far above the float32 bound
        case = draw(configs(impl, (1, 6), decay=False, maximize=False))
        case.pop("maximize", None)  # maximize negates the L2 term with the loss
        case["lr"] = draw(st.floats(0.05, 0.5), label="lr")
        case["weight_decay"] = draw(st.floats(0.05, 0.5), label="weight_decay")
        return case
    case = {**problem(draw, (1, 6)), "lr": draw(lrs, label="lr"), "weight_decay": draw(decays)}
    have = features(impl)
    if "momentum" in required(impl) or (
        "momentum" in have and draw(st.booleans(), label="with momentum")
    ):
        case["momentum"] = draw(momenta, label="momentum")
        if "nesterov" in have and draw(st.booleans(), label="nesterov"):
            case["nesterov"] = True
        elif "dampening" in have:
            case["dampening"] = draw(st.just(0.0) | dampenings, label="dampening")
    return case


@_check(
    "weight_decay_coupled",
    'Weight Decay: "optim.SGD(…, weight_decay=0.1) adds an L2 regularization with weight '
    'λ = 0.1": the optimizer with weight_decay=λ on L ≡ the same optimizer on '
    "L + (λ/2)‖θ‖², with any momentum; exactly right for SGD and torch.optim.Adam (λθ added to "
    "the gradient), not for AdamW, whose decay bypasses the moments",
    cases=lambda impl, v: _decayed(impl),
    applicable=_needs("weight_decay"),
    fact_only=lambda impl: impl.weight_decay != "coupled",
)
def weight_decay_coupled(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    values = {k: v for k, v in _values(case).items() if k != "weight_decay"}
    lam = case["weight_decay"]
    decayed = hyper(impl, **values, weight_decay=lam)
    plain = hyper(impl, **values)
    got = run(impl, theta0, grads, decayed, variant)
    # The same optimizer without decay, on the penalised loss Σ⟨g, θ⟩ + (λ/2)‖θ‖² (autograd).
    params = parameters(theta0, variant)
    opt = impl.make(params, **plain)
    penalised = []
    for step in grads:
        opt.zero_grad()
        loss = l2_penalty(params, lam)
        for p, g in zip(params, step, strict=True):
            assert g is not None  # this check feeds every gradient
            loss = loss + (p * g.to(variant.device)).sum()
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()
        penalised.append([p.detach().to("cpu", torch.float64).clone() for p in params])
    h = dataclasses.replace(oracle_hyper(impl, decayed), decoupled=False)
    bound = expect(impl, theta0, grads, [h] * len(theta0), variant.torch_dtype)
    call = f"{_call(impl, decayed)} vs weight_decay=0 on L + l2_penalty(θ, {lam})"
    assert_same(f"{impl.algo.title} on L + (λ/2)‖θ‖²", got, penalised, call, bound)


@_check(
    "weight_decay_decoupled",
    "Loshchilov & Hutter (SGDW, AdamW): θ ← θ − γλθ, the decay outside the gradient, the "
    "momentum and the moments, applied before the update (torch.optim.AdamW; Lion)",
    cases=lambda impl, v: _decayed(impl),
    applicable=_needs("weight_decay"),
    fact_only=lambda impl: impl.weight_decay != "decoupled",
)
def weight_decay_decoupled(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    h = dataclasses.replace(oracle_hyper(impl, kwargs), decoupled=True)
    expected = expect(impl, theta0, grads, [h] * len(theta0), variant.torch_dtype)
    assert_follows(
        "the decoupled decay θ − γλθ − γ·update",
        run(impl, theta0, grads, kwargs, variant),
        expected,
        _call(impl, kwargs),
    )
