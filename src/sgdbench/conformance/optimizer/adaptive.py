"""The update checks of the Adam family and Lion: one per term of the declared algorithm's
update (:mod:`sgdbench.conformance.algorithms`) that an implementation can get wrong, each
drawn so that the term is far above the rounding bound.

The chapter teaches SGD; its weight-decay statement is where the Adam family departs from it
(:mod:`.algorithm`'s weight-decay checks run under every algorithm). Each check here compares
the implementation with the algorithm's float64 oracle within twice its derived rounding bound,
on gradients the check feeds.
"""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st

from sgdbench.conformance._impl import OptimizerUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance.algorithms.radam import near_threshold
from sgdbench.conformance.optimizer._harness import (
    Case,
    _call,
    _check,
    _follows_oracle,
    _needs,
    _values,
    assert_follows,
    configs,
    expect,
    feed,
    hyper,
    oracle_hyper,
    parameters,
    tensors,
)

ADAMS = ("adam", "adamw", "nadam", "radam")
ADAPTIVE = (*ADAMS, "lion")


def _bare(impl: OptimizerUnderTest, steps: tuple[int, int]) -> st.SearchStrategy[Case]:
    """A configuration with decay, amsgrad and maximize off (their checks switch them on)."""

    def strip(c: Case) -> Case:
        return {k: v for k, v in c.items() if k not in ("amsgrad", "maximize", "weight_decay")}

    return configs(impl, steps, decay=False, maximize=False).map(strip)


@_check(
    "update",
    "the declared algorithm's update with every option off (torch.optim.Adam, AdamW, NAdam, "
    "RAdam as documented; Lion as Chen et al. 2023 write it), betas and eps drawn",
    cases=lambda impl, v: _bare(impl, (1, 8)),
    algorithms=ADAPTIVE,
)
def update(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, f"the {impl.algo.title} update")


@st.composite
def _early(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(_bare(impl, (1, 4)))
    b2 = draw(st.sampled_from([0.999, 0.9999]) | st.floats(0.9, 0.9999), label="β₂")
    case["betas"] = (draw(st.floats(0.5, 0.99), label="β₁"), b2)
    return case


@_check(
    "bias_correction",
    "Adam: m̂ ← m/(1 − β₁ᵗ), v̂ ← v/(1 − β₂ᵗ) with t the parameter's step count after it is "
    "incremented; on the first steps, with β₂ near 1, where the correction is largest",
    cases=lambda impl, v: _early(impl),
    algorithms=ADAMS,
)
def bias_correction(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "the bias-corrected update")


@st.composite
def _epsilon(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(_bare(impl, (1, 6)))
    case["eps"] = draw(st.sampled_from([1e-3, 0.01, 0.1]) | st.floats(1e-3, 0.3), label="eps")
    # gradients 2^-k: √v̂ comparable to ε, where ε inside or outside the root differ most
    case["grad_exp"] = [draw(st.integers(0, 8), label="log2 1/|g|")] * case["steps"]
    return case


@_check(
    "epsilon",
    "torch.optim.Adam: θ ← θ − γm̂/(√v̂ + ε), ε outside the square root (RAdam: ε added to √v "
    "before the bias correction); ε drawn ≥ 1e-3 and gradients small, so that ε is a visible "
    "part of the denominator",
    cases=lambda impl, v: _epsilon(impl),
    applicable=lambda impl: None if "eps" in impl.algo.needs else "the algorithm has no ε",
    algorithms=ADAMS,
)
def epsilon(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "the update with ε outside √v̂")


@st.composite
def _amsgrad(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(_bare(impl, (3, 8)))
    case["amsgrad"] = True
    case["betas"] = (draw(st.floats(0.0, 0.9), label="β₁"), draw(st.floats(0.5, 0.99), label="β₂"))
    # gradients shrinking by 2^-k a step: v falls, and the running maximum decides the step
    k = draw(st.integers(1, 3), label="log2 shrink per step")
    case["grad_exp"] = [k * t for t in range(case["steps"])]
    return case


@_check(
    "amsgrad",
    "torch.optim.Adam(amsgrad=True): v_max ← max(v_max, v) over the uncorrected v, the "
    "denominator √(v_max/(1 − β₂ᵗ)) + ε; on shrinking gradients, where the maximum decides",
    cases=lambda impl, v: _amsgrad(impl),
    applicable=_needs("amsgrad"),
    algorithms=("adam", "adamw"),
)
def amsgrad(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "the AMSGrad update")


@st.composite
def _nadam(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(_bare(impl, (2, 8)))
    if impl.takes("momentum_decay"):
        case["momentum_decay"] = draw(st.floats(0.05, 0.5), label="momentum_decay ψ")
    return case


@_check(
    "momentum_decay",
    "torch.optim.NAdam: μ_t = β₁(1 − ½·0.96^{tψ}), the product Π μ in the step sizes; ψ drawn "
    "≥ 0.05 where taken, so that μ_t visibly changes from step to step",
    cases=lambda impl, v: _nadam(impl),
    algorithms=("nadam",),
)
def momentum_decay(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "NAdam's update with its momentum schedule")


@st.composite
def _rectified(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(_bare(impl, (4, 10)))
    clear = st.floats(0.5, 0.95).filter(lambda b: not near_threshold(b, 10))
    case["betas"] = (case["betas"][0], draw(clear, label="β₂"))
    return case


@_check(
    "rectification",
    "torch.optim.RAdam: the momentum step θ ← θ − γm̂ while ρ_t ≤ 5, then the rectified "
    "adaptive step; β₂ in [0.5, 0.95] so that ρ_t crosses 5 within the drawn steps",
    cases=lambda impl, v: _rectified(impl),
    algorithms=("radam",),
)
def rectification(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "RAdam's rectified update")


@_check(
    "sign_update",
    "Lion (Chen et al., 2023): θ ← θ − γ·sign(β₁m + (1 − β₁)g), m ← β₂m + (1 − β₂)g; where the "
    "interpolation lies within its rounding bound of 0 the sign may go either way, and the "
    "bound there is 2γ (derived, not a count of wrong elements)",
    cases=lambda impl, v: _bare(impl, (1, 8)),
    algorithms=("lion",),
)
def sign_update(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "Lion's sign update")


@st.composite
def _idle(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(_bare(impl, (3, 8)))
    n = len(case["shapes"]) + 1
    case["shapes"] = [*case["shapes"], [2]]
    case["no_grad"] = [
        draw(st.lists(st.integers(0, n - 1), max_size=n - 1, unique=True), label=f"idle {t}")
        for t in range(case["steps"])
    ]
    return case


def _count(value: Any) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


@_check(
    "step_state",
    "torch.optim.Adam: each parameter keeps its own step count t (state['step']), advanced "
    "only on steps where it has a gradient; its bias correction uses it. Parameters that sit "
    "out some steps follow the update with their own t, and a state['step'] kept reads t",
    cases=lambda impl, v: _idle(impl),
    algorithms=ADAPTIVE,
)
def step_state(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    call = _call(impl, kwargs) + f", idle parameters per step {case['no_grad']}"
    params = parameters(theta0, variant)
    opt = impl.make(params, **kwargs)
    trace, taken = [], [0] * len(params)
    for t, step in enumerate(grads):
        feed(params, step, variant)
        opt.step()
        trace.append([p.detach().to("cpu", torch.float64).clone() for p in params])
        for i, g in enumerate(step):
            taken[i] += g is not None
            state = opt.state.get(params[i], {}) if hasattr(opt, "state") else {}
            kept = _count(state.get("step")) if isinstance(state, dict) else None
            if kept is not None and taken[i] and kept != taken[i]:
                raise AssertionError(
                    f"state[θ[{i}]]['step'] is {kept:g} after step {t + 1}, but θ[{i}] has "
                    f"taken {taken[i]} steps: the count must be the parameter's own [{call}]"
                )
    expected = expect(impl, theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0),
                      variant.torch_dtype)  # fmt: skip
    assert_follows("the update with each parameter's own step count", trace, expected, call)


# The documented defaults a user who writes ``Optim(params)`` gets: torch's for its classes,
# the paper's (and lion-pytorch's) for Lion.
DEFAULTS: dict[str, dict[str, Any]] = {
    "adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2},
    "nadam": {
        "lr": 2e-3,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum_decay": 4e-3,
    },
    "radam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "lion": {"lr": 1e-4, "betas": (0.9, 0.99), "weight_decay": 0.0},
}


def _signature_default(impl: OptimizerUnderTest, name: str) -> Any:
    """The signature's default (param_groups can not tell: every check passes an lr)."""
    import inspect

    from sgdbench.conformance._impl import UNKNOWN

    found = impl._parameter(name)
    if isinstance(found, inspect.Parameter) and found.default is not found.empty:
        return found.default
    return UNKNOWN


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(float(a) == float(b))
    except (TypeError, ValueError):
        return bool(a == b)


@_check(
    "defaults",
    "the documented defaults (torch.optim.Adam, AdamW, NAdam, RAdam; Lion's paper): code that "
    "writes Optim(params) and swaps one implementation for another silently changes "
    "algorithm where a default differs (bitsandbytes#13: another default weight decay than "
    "AdamW's); a fact, not a requirement",
    cases=lambda impl, v: st.just({}),
    fact_only=lambda impl: True,
    algorithms=ADAPTIVE,
)
def defaults(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    from sgdbench.conformance._impl import UNKNOWN

    differ = []
    for name, documented in DEFAULTS[impl.algorithm].items():
        if name in impl.kwargs:
            continue  # the user's base configuration sets it
        got = impl.default(name) if name != "lr" else _signature_default(impl, "lr")
        if got is UNKNOWN:
            differ.append(f"{name}: no default (documented {documented!r})")
        elif not _same_value(got, documented):
            differ.append(f"{name}={got!r} (documented {documented!r})")
    if differ:
        raise AssertionError(
            f"defaults differ from {impl.algo.title}'s documented ones: {', '.join(differ)} "
            f"[{impl.name}(params)]"
        )
