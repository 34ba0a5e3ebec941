"""Hyper-parameters a training loop changes while it runs: Algorithm 11's step size η_t, set by
hand in ``param_groups`` or by ``torch.optim.lr_scheduler`` (which also cycles momentum), and a
tensor ``lr`` changed in place.

The chapter's Algorithm 11 updates θ ← θ − η_t∇L(B, θ) with a step size that depends on t, and
says SGD "requires a learning rate scheduler". torch's schedulers write the new values into
``optimizer.param_groups[i]["lr"]`` (and ``["momentum"]`` with ``cycle_momentum``) between
steps, so an optimizer follows a schedule only if every ``step()`` reads them there. An
implementation that reads them once, at construction, trains at a constant rate under every
scheduler and passes every one-step check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st
from torch.optim import lr_scheduler

from sgdbench.conformance._impl import OptimizerUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance.algorithms import Adaptive
from sgdbench.conformance.optimizer._harness import (
    Case,
    _call,
    _check,
    _needs,
    _values,
    adaptive,
    assert_follows,
    configs,
    draw_betas,
    expect,
    features,
    feed,
    hyper,
    lrs,
    momenta,
    oracle_hyper,
    parameters,
    required,
)
from sgdbench.conformance.optimizer._harness import tensors as _tensors

# By hand, then real schedulers; the last two cycle momentum where the implementation has it.
SCHEDULES = ("by hand", "StepLR", "LambdaLR", "CosineAnnealingLR", "OneCycleLR", "CyclicLR")

Advance = Callable[[int], None]  # called after step t (0-based): set step t + 1's values


@st.composite
def _live(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    """A configuration (with momentum wherever the implementation has it), 1–2 groups, and the
    parameters of every schedule."""
    case = draw(configs(impl, (2, 6)))
    if not adaptive(impl) and "momentum" in features(impl) and "momentum" not in case:
        case["momentum"] = draw(momenta, label="momentum")
    mom = "momentum" in case or adaptive(impl)  # an adaptive algorithm's β₁ is cycled
    n = draw(st.integers(1, 2), label="groups")
    case["shapes"] = case["shapes"] + [[2]] * (n - len(case["shapes"]))
    case["group_lr"] = [case["lr"], *(draw(lrs, label=f"group {k} lr") for k in range(1, n))]
    t = case["steps"]

    def changed(k: int) -> dict[str, Any]:
        v: dict[str, Any] = {"lr": draw(lrs, label=f"group {k} lr")}
        if adaptive(impl):  # both betas, read live as torch reads them
            return {**v, "betas": draw_betas(draw, impl, t, label=f"group {k} ")}
        return {**v, "momentum": draw(momenta, label=f"group {k} momentum")} if mom else v

    case["by hand"] = [[changed(k) for k in range(n)] for _ in range(t - 1)]
    floats = st.floats
    case["StepLR"] = {"step_size": draw(st.integers(1, 3)), "gamma": draw(floats(0.1, 0.9))}
    case["LambdaLR"] = {"a": draw(floats(0.1, 2.0), label="η_t = η₀/(1 + a·t)")}
    case["CosineAnnealingLR"] = {
        "T_max": draw(st.integers(1, 6)),
        "eta_min": draw(st.sampled_from([0.0, 1e-3])),
    }
    cycled: dict[str, Any] = {"cycle_momentum": mom}
    if mom:
        cycled["base_momentum"] = draw(floats(0.5, 0.85), label="base_momentum")
        cycled["max_momentum"] = draw(floats(0.86, 0.99), label="max_momentum")
    case["OneCycleLR"] = {
        "max_lr": draw(lrs, label="max_lr"),
        # ≥ 4 steps and pct_start ≥ 0.3: every phase has a positive length (else 0/0)
        "total_steps": draw(st.integers(max(t, 4), 10)),
        "pct_start": draw(floats(0.3, 0.6)),
        "anneal_strategy": draw(st.sampled_from(["cos", "linear"])),
        "div_factor": draw(floats(2.0, 25.0)),
        "final_div_factor": draw(floats(10.0, 1e4)),
        **cycled,
    }
    base_lr = draw(lrs, label="base_lr")
    case["CyclicLR"] = {
        "base_lr": base_lr,
        "max_lr": base_lr * draw(floats(1.0, 5.0), label="max_lr / base_lr"),
        "step_size_up": draw(st.integers(1, 3)),
        "mode": draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
        "gamma": draw(floats(0.5, 1.0)),
        **cycled,
    }
    return case


def _attach(name: str, case: Case, opt: torch.optim.Optimizer) -> Advance:
    """Schedule ``name`` driving ``opt`` (a scheduler is built here, as a training script does)."""
    if name == "by hand":

        def by_hand(t: int) -> None:
            for group, values in zip(opt.param_groups, case["by hand"][t], strict=True):
                group.update(values)

        return by_hand
    params = dict(case[name])
    sched: lr_scheduler.LRScheduler
    if name == "StepLR":
        sched = lr_scheduler.StepLR(opt, **params)
    elif name == "LambdaLR":
        a = params["a"]
        sched = lr_scheduler.LambdaLR(opt, lambda e: 1 / (1 + a * e))
    elif name == "CosineAnnealingLR":
        sched = lr_scheduler.CosineAnnealingLR(opt, **params)
    elif name == "OneCycleLR":
        sched = lr_scheduler.OneCycleLR(opt, **params)
    else:
        sched = lr_scheduler.CyclicLR(opt, **params)
    return lambda t: sched.step()


def _scheduled(name: str, case: Case, base: Any) -> list[list[tuple[float, Any]]]:
    """(lr, momentum) or (lr, betas) of every group at every step, as the schedule sets them
    on torch's SGD (or Adam, for an adaptive algorithm: ``cycle_momentum`` cycles β₁).

    Computed on a separate torch optimizer holding the same initial values, so the expected
    values do not depend on what the implementation under test does to its groups.
    """
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in case["group_lr"]]
    dummy: torch.optim.Optimizer
    if isinstance(base, Adaptive):
        dummy = torch.optim.Adam(groups, lr=base.lr, betas=base.betas)
        live = "betas"
    else:
        dummy = torch.optim.SGD(groups, lr=base.lr, momentum=base.momentum)
        live = "momentum"
    advance = _attach(name, case, dummy)
    values = []
    for t in range(case["steps"]):
        values.append(
            [
                (
                    float(g["lr"]),
                    tuple(float(b) for b in g[live]) if live == "betas" else float(g[live]),
                )
                for g in dummy.param_groups
            ]
        )
        dummy.step()  # no gradients: nothing moves; the scheduler sees the step it expects
        if t < case["steps"] - 1:
            advance(t)
    return values


@_check(
    "hyper_live",
    'Algorithm 11: "θ ← θ − η_t∇L(B, θ)"; SGD "requires a learning rate scheduler". '
    "torch.optim.lr_scheduler writes each step's lr (and momentum, with cycle_momentum) into "
    "param_groups, and torch.optim.SGD's step uses the group's current lr times the whole "
    "momentum buffer (θ ← θ − lr_t·b_t); by hand and with StepLR, LambdaLR, "
    "CosineAnnealingLR, OneCycleLR and CyclicLR",
    cases=lambda impl, v: _live(impl),
)
def hyper_live(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    """Every schedule runs on a fresh optimizer; the oracle takes step t's (η_t, μ_t) of each
    group. Momentum is changed (by hand; cycled by OneCycleLR and CyclicLR) only where the
    implementation has momentum, and never to 0 (torch keeps a buffer that a μ = 0 step does
    not update; the chapter is silent on it). A momentum written as v ← μv + η_t·g, θ ← θ − v
    (Sutskever et al.) fails here when η changes, as torch's SGD note says it differs."""
    theta0, grads = _tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    base = oracle_hyper(impl, kwargs)
    n = len(case["group_lr"])
    members = [list(range(k, len(theta0), n)) for k in range(n)]
    for name in SCHEDULES:
        values = _scheduled(name, case, base)
        per_step = [[base] * len(theta0) for _ in values]
        for t, groups in enumerate(values):
            for k, (lr, mu) in enumerate(groups):
                live = {"betas": mu} if isinstance(base, Adaptive) else {"momentum": mu}
                for i in members[k]:
                    per_step[t][i] = dataclasses.replace(base, lr=lr, **live)
        params = parameters(theta0, variant)
        opt = impl.make(
            [
                {"params": [params[i] for i in idx], "lr": lr}
                for idx, lr in zip(members, case["group_lr"], strict=True)
            ],
            **kwargs,
        )
        advance = _attach(name, case, opt)
        trace = []
        for t, step in enumerate(grads):
            feed(params, step, variant)
            opt.step()
            trace.append([p.detach().to("cpu", torch.float64).clone() for p in params])
            if t < len(grads) - 1:
                advance(t)
        what = "betas" if isinstance(base, Adaptive) else "momentum"
        shown = [[f"lr={lr:.4g}, {what}={mu!r}" for lr, mu in g] for g in values]
        how = name
        if name != "by hand":
            how += f"({', '.join(f'{k}={v!r}' for k, v in case[name].items())})"
        call = f"{_call(impl, kwargs)}, groups lr={case['group_lr']}, {how}: per step {shown}"
        expected = expect(impl, theta0, grads, per_step, variant.torch_dtype)
        assert_follows(
            f"the update with each step's lr and momentum ({name})", trace, expected, call
        )


@st.composite
def _tensor_lr(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(configs(impl, (2, 6)))
    case["new_lr"] = [draw(lrs, label=f"lr before step {t + 2}") for t in range(case["steps"] - 1)]
    return case


@_check(
    "tensor_lr",
    "torch.optim.SGD(lr: float | Tensor): a 1-element tensor lr gives the float lr's update, "
    "and the step reads the tensor's value when it runs (changed in place between steps, as "
    "torch.compile'd and CUDA-graph training loops do)",
    cases=lambda impl, v: _tensor_lr(impl),
    applicable=_needs(lr=torch.tensor(0.1)),
)
def tensor_lr(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    """First any configuration with a constant tensor lr, against the oracle with the float
    that tensor holds; then the tensor changed in place before every step, without momentum
    (how a changing lr and momentum combine is hyper_live's statement)."""
    theta0, grads = _tensors(case, variant)
    values = _values(case)
    lr = torch.tensor(values["lr"])  # float32, as users write it: the oracle takes its value
    kwargs = hyper(impl, **{**values, "lr": lr})
    h = dataclasses.replace(oracle_hyper(impl, kwargs), lr=lr.item())
    params = parameters(theta0, variant)
    opt = impl.make(params, **kwargs)
    trace = []
    for step in grads:
        feed(params, step, variant)
        opt.step()
        trace.append([p.detach().to("cpu", torch.float64).clone() for p in params])
    expected = expect(impl, theta0, grads, [h] * len(theta0), variant.torch_dtype)
    assert_follows("the same update with the float lr", trace, expected, _call(impl, kwargs))

    # without momentum where it can be switched off (the oracle's per-step lr covers it anyway)
    drop = () if "momentum" in required(impl) else ("momentum", "dampening", "nesterov")
    plain = {k: v for k, v in values.items() if k not in drop}
    lr = torch.tensor(plain["lr"])
    kwargs = hyper(impl, **{**plain, "lr": lr})
    base = oracle_hyper(impl, kwargs)
    params = parameters(theta0, variant)
    opt = impl.make(params, **kwargs)
    trace, per_step = [], []
    for t, step in enumerate(grads):
        if t:
            lr.fill_(case["new_lr"][t - 1])
        per_step.append([dataclasses.replace(base, lr=lr.item())] * len(theta0))
        feed(params, step, variant)
        opt.step()
        trace.append([p.detach().to("cpu", torch.float64).clone() for p in params])
    expected = expect(impl, theta0, grads, per_step, variant.torch_dtype)
    call = f"{_call(impl, kwargs)}, then lr.fill_(v) before steps 2.. with v in {case['new_lr']}"
    assert_follows("the update with the tensor's value at each step", trace, expected, call)
