"""torch.optim's contract around the algorithm: agreement with torch.optim.SGD, gradients and
idle parameters left alone, param groups, state_dict round trips, lr = 0, maximize, and the
foreach path agreeing with the single-tensor one."""

from __future__ import annotations

import copy
from typing import Any

import torch
from hypothesis import strategies as st
from torch import nn

from sgdbench.conformance._impl import OptimizerUnderTest, copy_state
from sgdbench.conformance._runner import Variant
from sgdbench.conformance.optimizer._harness import (
    Case,
    _call,
    _check,
    _every_switch,
    _follows_oracle,
    _needs,
    _values,
    adaptive,
    assert_follows,
    assert_same,
    configs,
    decays,
    draw_betas,
    epsilons,
    equal_state,
    expect,
    features,
    feed,
    hyper,
    lrs,
    momenta,
    oracle_hyper,
    parameters,
    problem,
    required,
    run,
    switched_on,
    switches,
    tensors,
)


@_check(
    "matches_torch",
    "torch.optim.SGD's documented algorithm (for-loop path) over many steps; bitwise where "
    "declared, else within the derived rounding bound",
    # torch's decay is coupled: a decoupled implementation is compared without decay.
    cases=lambda impl, v: configs(
        impl, (10, 50), decay=adaptive(impl) or impl.weight_decay == "coupled"
    ),
    applicable=lambda impl: (
        None
        if impl.algo.reference is not None
        else f"{impl.algo.title} has no torch.optim class: the update checks compare it with "
        "the paper's update"
    ),
)
def matches_torch(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    """The declared algorithm's torch.optim class on its for-loop path (SGD, Adam, AdamW,
    NAdam, RAdam; NAdam and RAdam with ``decoupled_weight_decay`` where the decay is declared
    decoupled)."""
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    got = run(impl, theta0, grads, kwargs, variant)
    reference = impl.algo.reference
    assert reference is not None  # applicable() says so otherwise
    flags: dict[str, Any] = {"foreach": False}
    if impl.algorithm in ("nadam", "radam") and impl.weight_decay == "decoupled":
        flags["decoupled_weight_decay"] = True
    torch_sgd = OptimizerUnderTest(reference, kwargs=flags, algorithm=impl.algorithm)
    theirs = run(torch_sgd, theta0, grads, hyper(torch_sgd, **_values(case)), variant)
    bound = None
    if not impl.bitwise:
        bound = expect(
            impl, theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
        )
    name = f"torch.optim.{reference.__name__}({', '.join(f'{k}={v}' for k, v in flags.items())})"
    assert_same(name, got, theirs, _call(impl, kwargs), bound)


@_check(
    "grad_unchanged",
    "torch.optim.Optimizer.step reads p.grad and leaves it as it was (weight decay, momentum, "
    "Nesterov and maximize work on copies); every on/off combination is tried",
    cases=lambda impl, v: _every_switch(),
)
def grad_unchanged(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    for values in switches(impl, case):
        kwargs = hyper(impl, **values)
        params = parameters(theta0, variant)
        opt = impl.make(params, **kwargs)
        for t, step in enumerate(grads):
            feed(params, step, variant)
            opt.step()
            for i, (p, g) in enumerate(zip(params, step, strict=True)):
                if g is not None and p.grad is None:
                    raise AssertionError(
                        f"step {t + 1} set p.grad of parameter {i} to None; step() must leave "
                        f"gradients as they were (zero_grad clears them, not step) "
                        f"[{_call(impl, kwargs)}]"
                    )
                if g is not None and not torch.equal(p.grad.to("cpu"), g):  # type: ignore[union-attr]
                    diff = (p.grad.to("cpu") - g).abs().max().item()  # type: ignore[union-attr]
                    raise AssertionError(
                        f"step {t + 1} changed p.grad of parameter {i} (max |change| "
                        f"{diff:.3g}); step() must leave gradients as they were "
                        f"[{_call(impl, kwargs)}]"
                    )


@st.composite
def _idle(draw: st.DrawFn) -> Case:
    """Every switch's values, ≥ 2 parameters, ≥ 2 steps; parameter 0 always sits out step 1
    (its state begins a step later than the others': the case fused kernels get wrong)."""
    case = draw(_every_switch())
    case["steps"] = max(case["steps"], 2)
    if len(case["shapes"]) < 2:
        case["shapes"] = [*case["shapes"], [2]]
    n = len(case["shapes"])
    case["no_grad"] = [
        sorted({0} | draw(st.sets(st.integers(0, n - 1)), label="step 1 no grad")),
        *(
            sorted(draw(st.sets(st.integers(0, n - 1)), label=f"step {t + 1} no grad"))
            for t in range(1, case["steps"])
        ),
    ]
    return case


@_check(
    "none_grad_untouched",
    "torch.optim.SGD: a parameter whose grad is None is skipped; it and its state stay as "
    "they were (frozen layers, unused branches); every on/off combination is tried",
    cases=lambda impl, v: _idle(),
)
def none_grad_untouched(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    for values in switches(impl, case):
        kwargs = hyper(impl, **values)
        params = parameters(theta0, variant)
        opt = impl.make(params, **kwargs)
        call = _call(impl, kwargs) + f", no_grad={case['no_grad']}"
        for t, step in enumerate(grads):
            feed(params, step, variant)
            before = [(p.detach().clone(), copy_state(opt.state.get(p, {}))) for p in params]
            opt.step()
            for i, (p, (theta, state)) in enumerate(zip(params, before, strict=True)):
                if step[i] is not None:
                    continue
                if not torch.equal(p.detach(), theta):
                    raise AssertionError(
                        f"parameter {i} had grad None at step {t + 1}, but step() moved it [{call}]"
                    )
                _assert_state_equal(i, t, state, opt.state.get(p, {}), call)


def _assert_state_equal(i: int, t: int, before: dict[str, Any], after: Any, call: str) -> None:
    __tracebackhide__ = True
    after = dict(after)
    if not equal_state(before, after):
        raise AssertionError(
            f"parameter {i} had grad None at step {t + 1}, but step() changed its state "
            f"{sorted(before)} → {sorted(after)} [{call}]"
        )


@st.composite
def _groups(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    n_groups = draw(st.integers(2, 3), label="groups")
    case = {**problem(draw, (1, 5))}
    while len(case["shapes"]) < n_groups:
        case["shapes"].append([2])
    have, must = features(impl), required(impl)
    groups = []
    for k in range(n_groups):
        g: Case = {"lr": draw(lrs, label=f"group {k} lr")}
        if adaptive(impl):
            g["betas"] = draw_betas(draw, impl, case["steps"], label=f"group {k} ")
            if "eps" in impl.algo.needs:
                g["eps"] = draw(epsilons, label=f"group {k} eps")
        for arg, values in (("momentum", momenta), ("weight_decay", decays)):
            if arg in have:
                off = st.nothing() if arg in must else st.just(0.0)
                g[arg] = draw(off | values, label=f"group {k} {arg}")
        groups.append(g)
    case["groups"] = groups
    return case


@_check(
    "param_groups",
    "torch.optim.Optimizer: each param group is updated with its own hyper-parameters",
    cases=lambda impl, v: _groups(impl),
)
def param_groups(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    k = len(case["groups"])
    groups = [(list(range(g, len(theta0), k)), h) for g, h in enumerate(case["groups"])]
    per_param = [oracle_hyper(impl, {"lr": 0.0})] * len(theta0)
    for idx, h in groups:
        for i in idx:
            per_param[i] = oracle_hyper(impl, h)
    defaults = hyper(impl, lr=0.01, **switched_on(impl))  # each group overrides what it sets
    got = run(impl, theta0, grads, defaults, variant, groups=groups)
    expected = expect(impl, theta0, grads, per_param, variant.torch_dtype)
    assert_follows(
        "each group's own update", got, expected, f"{impl.name}, groups={case['groups']}"
    )


@st.composite
def _resumed(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(configs(impl, (2, 8)))
    case["save_after"] = draw(st.integers(1, case["steps"] - 1), label="save after step")
    return case


@_check(
    "state_dict_roundtrip",
    "torch.optim.Optimizer.state_dict / load_state_dict: a run saved and resumed in a fresh "
    "optimizer continues bit for bit as the uninterrupted run",
    cases=lambda impl, v: _resumed(impl),
)
def state_dict_roundtrip(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    k = case["save_after"]
    straight = run(impl, theta0, grads, kwargs, variant)
    params = parameters(theta0, variant)
    opt = impl.make(params, **kwargs)
    for step in grads[:k]:
        feed(params, step, variant)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    fresh = [nn.Parameter(p.detach().clone()) for p in params]
    resumed = impl.make(fresh, **kwargs)
    resumed.load_state_dict(saved)
    for t, step in enumerate(grads[k:], start=k):
        feed(fresh, step, variant)
        resumed.step()
        for i, (p, theta) in enumerate(zip(fresh, straight[t], strict=True)):
            if not torch.equal(p.detach().to("cpu", torch.float64), theta):
                raise AssertionError(
                    f"θ[{i}] after step {t + 1}, resumed from a state_dict saved after step "
                    f"{k}, differs from the uninterrupted run [{_call(impl, kwargs)}]"
                )


@_check(
    "zero_lr",
    "Algorithm 11 with η = 0: θ ← θ − 0·∇L leaves θ exactly as it was, whatever the momentum "
    "and weight decay",
    cases=lambda impl, v: configs(impl, (1, 4)).map(lambda c: {**c, "lr": 0.0}),
    applicable=_needs(lr=0.0),
)
def zero_lr(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    for t, theta in enumerate(run(impl, theta0, grads, kwargs, variant)):
        for i, (a, b) in enumerate(zip(theta, theta0, strict=True)):
            if not torch.equal(a, b.double()):
                diff = (a - b.double()).abs().max().item()
                raise AssertionError(
                    f"lr=0 moved θ[{i}] by up to {diff:.3g} by step {t + 1}, but should leave "
                    f"it exactly as it was [{_call(impl, kwargs)}]"
                )


@_check(
    "maximize",
    "torch.optim.SGD(maximize=True): the step follows −∇L (gradient ascent); weight decay "
    "still shrinks θ",
    cases=lambda impl, v: configs(impl, (1, 6), maximize=True),
    applicable=_needs("maximize"),
)
def maximize(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "the update on −∇L")


@_check(
    "foreach_agrees",
    "torch.optim (foreach): the multi-tensor path computes the single-tensor path's update; "
    "bitwise where declared, else within the derived rounding bound",
    cases=lambda impl, v: configs(impl, (2, 8)),
    applicable=lambda impl: (
        f"the path is fixed by kwargs {dict(impl.kwargs)}"
        if {"foreach", "fused"} & set(impl.kwargs)
        else _needs("foreach")(impl)
    ),
)
def foreach_agrees(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    multi = run(impl, theta0, grads, {**kwargs, "foreach": True}, variant)
    single = run(impl, theta0, grads, {**kwargs, "foreach": False}, variant)
    bound = None
    if not impl.bitwise:
        bound = expect(
            impl, theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
        )
    assert_same("foreach=False", multi, single, _call(impl, {**kwargs, "foreach": True}), bound)
