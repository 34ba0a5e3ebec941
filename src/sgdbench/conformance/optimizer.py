"""Optimizer checks: Algorithm 11's step, momentum and weight decay, and torch's SGD contract.

Each check is a :class:`~sgdbench.conformance._runner.Check`: call it on an
:class:`~sgdbench.conformance.OptimizerUnderTest`. Gradients are fed, not computed (p.grad is
set to generated tensors), so every trajectory has a known exact value and a derived rounding
bound (:mod:`sgdbench.conformance._oracle`); equality is bitwise only where the implementation
declares ``bitwise=True`` or where two runs of the same implementation must agree.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st
from torch import Tensor, nn

from sgdbench.conformance._impl import OptimizerUnderTest, copy_state
from sgdbench.conformance._oracle import Hyper, Step, trajectory
from sgdbench.conformance._runner import Body, Check, Variant, register
from sgdbench.reference import l2_penalty

__all__ = ["CHECKS"]

Case = dict[str, Any]
Trace = list[list[Tensor]]

# --------------------------------------------------------------------------- strategies

seeds = st.integers(0, 2**32 - 1)
lrs = st.sampled_from([0.01, 0.1, 0.5]) | st.floats(1e-3, 1.0)
momenta = st.sampled_from([0.5, 0.9]) | st.floats(0.01, 0.99)
dampenings = st.sampled_from([0.1, 0.5, 1.0]) | st.floats(0.0, 1.0)
decays = st.sampled_from([1e-4, 0.1]) | st.floats(1e-4, 0.5)
shapes = st.lists(st.lists(st.integers(1, 3), min_size=1, max_size=2), min_size=1, max_size=3)


def problem(draw: st.DrawFn, steps: tuple[int, int]) -> Case:
    """A seed, parameter shapes and a number of steps: the tensors follow from the seed."""
    return {
        "seed": draw(seeds, label="seed"),
        "shapes": draw(shapes, label="shapes"),
        "steps": draw(st.integers(*steps), label="steps"),
    }


def tensors(case: Case, variant: Variant) -> tuple[list[Tensor], list[list[Tensor | None]]]:
    """θ₀ and the gradient of every step, exact in the variant's dtype, None where a case says."""
    gen = torch.Generator().manual_seed(case["seed"])

    def draw(shape: list[int]) -> Tensor:
        return torch.randn(shape, generator=gen, dtype=torch.float64).to(variant.torch_dtype)

    theta0 = [draw(s) for s in case["shapes"]]
    idle = case.get("no_grad") or [[] for _ in range(case["steps"])]
    grads: list[list[Tensor | None]] = [
        [None if i in idle[t] else draw(s) for i, s in enumerate(case["shapes"])]
        for t in range(case["steps"])
    ]
    return theta0, grads


# --------------------------------------------------------------------------- running


def hyper(impl: OptimizerUnderTest, **values: Any) -> dict[str, Any]:
    """The check's hyper-parameters; neutral values for what it does not set, where taken."""
    neutral = {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
    neutral["maximize"] = False
    kwargs = {k: v for k, v in neutral.items() if impl.takes(k)}
    kwargs.update(values)
    return kwargs


def oracle_hyper(impl: OptimizerUnderTest, kwargs: dict[str, Any]) -> Hyper:
    fields = {k: v for k, v in kwargs.items() if k in Hyper.__dataclass_fields__}
    return Hyper(**fields, decoupled=impl.weight_decay == "decoupled")


def run(
    impl: OptimizerUnderTest,
    theta0: list[Tensor],
    grads: list[list[Tensor | None]],
    kwargs: dict[str, Any],
    variant: Variant,
    groups: list[tuple[list[int], dict[str, Any]]] | None = None,
) -> Trace:
    """θ (float64 copies on the CPU) after every step of the optimizer fed ``grads``."""
    params = [nn.Parameter(t.clone().to(variant.device)) for t in theta0]
    spec: Any = params
    if groups is not None:
        spec = [{"params": [params[i] for i in idx], **h} for idx, h in groups]
    opt = impl.make(spec, **kwargs)
    trace = []
    for step in grads:
        for p, g in zip(params, step, strict=True):
            p.grad = None if g is None else g.to(variant.device).clone()
        opt.step()
        trace.append([p.detach().to("cpu", torch.float64).clone() for p in params])
    return trace


def _call(impl: OptimizerUnderTest, kwargs: dict[str, Any]) -> str:
    return f"{impl.name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def assert_follows(
    what: str, got: Trace, expected: list[Step], call: str, slack: float = 2
) -> None:
    """Every θ within ``slack``·E of the oracle (E: the derived rounding bound), explained."""
    __tracebackhide__ = True
    for t, (theta, step) in enumerate(zip(got, expected, strict=True)):
        for i, (a, b, e) in enumerate(zip(theta, step.theta, step.bound, strict=True)):
            diff = (a - b).abs()
            bad = ~(diff <= slack * e)  # NaN counts as bad
            if bad.any():
                j = tuple(bad.nonzero()[0].tolist())
                raise AssertionError(
                    f"θ[{i}]{list(j)} after step {t + 1} is {a[j].item()!r}, but {what} gives "
                    f"{b[j].item()!r} (|diff| {diff[j].item():.3g}, allowed "
                    f"{slack * e[j].item():.3g}: {slack:g}× the rounding bound) [{call}]"
                )


def assert_same(
    what: str, got: Trace, expected: Trace, call: str, bound: list[Step] | None
) -> None:
    """Two trajectories agree: bitwise when ``bound`` is None, else within 2E of each other."""
    __tracebackhide__ = True
    if bound is not None:
        as_steps = [Step(t, s.bound) for t, s in zip(expected, bound, strict=True)]
        assert_follows(what, got, as_steps, call)
        return
    for t, (theta, other) in enumerate(zip(got, expected, strict=True)):
        for i, (a, b) in enumerate(zip(theta, other, strict=True)):
            if not torch.equal(a, b):
                diff = (a - b).abs().max().item()
                raise AssertionError(
                    f"θ[{i}] after step {t + 1} differs from {what} by up to {diff:.3g}, but "
                    f"should be bitwise equal [{call}]"
                )


def _needs(*args: str, **values: Any) -> Any:
    """applicable(): the check needs these arguments taken (and these values accepted)."""

    def applicable(impl: OptimizerUnderTest) -> str | None:
        probe = {"lr": 0.1, **{a: _PROBE[a] for a in args}, **values}
        return impl.refuses(**probe)

    return applicable


_PROBE = {"momentum": 0.9, "dampening": 0.5, "weight_decay": 0.1, "nesterov": True}
_PROBE["maximize"] = True
_PROBE["foreach"] = True


def _check(name: str, cites: str, **kw: Any) -> Callable[[Body], Check]:
    return register(CHECKS, "optimizer", name, cites, **kw)


CHECKS: list[Check] = []

# --------------------------------------------------------------------------- the checks


@st.composite
def _plain(draw: st.DrawFn) -> Case:
    return {**problem(draw, (1, 5)), "lr": draw(lrs, label="lr")}


@_check(
    "plain_step",
    'Algorithm 11: "θ ← θ − η_t ∇L(B, θ)" (no momentum, no weight decay)',
    cases=lambda impl, v: _plain(),
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


def _follows_oracle(impl: OptimizerUnderTest, case: Case, variant: Variant, what: str) -> None:
    __tracebackhide__ = True
    theta0, grads = tensors(case, variant)
    values = {
        k: case[k]
        for k in ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
        if k in case
    }
    kwargs = hyper(impl, **values)
    expected = trajectory(
        theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
    )
    assert_follows(what, run(impl, theta0, grads, kwargs, variant), expected, _call(impl, kwargs))


@_check(
    "momentum",
    '"we can integrate momentum in this optimization scheme"; torch.optim.SGD: b₁ = g₁, '
    "b_t = μb_{t−1} + g_t, θ ← θ − γb_t",
    cases=lambda impl, v: _momentum(),
    applicable=_needs("momentum"),
)
def momentum(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "the momentum recursion")


@_check(
    "dampening",
    "torch.optim.SGD: b_t = μb_{t−1} + (1 − τ)g_t, the first buffer b₁ = g₁ undampened",
    cases=lambda impl, v: _momentum(dampening=True),
    applicable=_needs("momentum", "dampening"),
)
def dampening(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "the dampened momentum recursion")


@_check(
    "nesterov",
    "torch.optim.SGD (Sutskever et al.): with nesterov, θ ← θ − γ(g_t + μb_t)",
    cases=lambda impl, v: _momentum(nesterov=True),
    applicable=_needs("momentum", "nesterov"),
)
def nesterov(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    _follows_oracle(impl, case, variant, "Nesterov's update")


@st.composite
def _decayed(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = {**problem(draw, (1, 6)), "lr": draw(lrs, label="lr"), "weight_decay": draw(decays)}
    if impl.takes("momentum") and draw(st.booleans(), label="with momentum"):
        case["momentum"] = draw(momenta, label="momentum")
        if impl.takes("nesterov") and draw(st.booleans(), label="nesterov"):
            case["nesterov"] = True
        elif impl.takes("dampening"):
            case["dampening"] = draw(st.just(0.0) | dampenings, label="dampening")
    return case


@_check(
    "weight_decay_coupled",
    'Weight Decay: "optim.SGD(…, weight_decay=0.1) adds an L2 regularization with weight '
    'λ = 0.1": SGD(weight_decay=λ) on L ≡ SGD on L + (λ/2)‖θ‖², with any momentum',
    cases=lambda impl, v: _decayed(impl),
    applicable=_needs("weight_decay"),
    fact_only=lambda impl: impl.weight_decay != "coupled",
)
def weight_decay_coupled(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    values = {k: case[k] for k in ("lr", "momentum", "dampening", "nesterov") if k in case}
    lam = case["weight_decay"]
    decayed = hyper(impl, **values, weight_decay=lam)
    plain = hyper(impl, **values)
    got = run(impl, theta0, grads, decayed, variant)
    # The same optimizer without decay, on the penalised loss Σ⟨g, θ⟩ + (λ/2)‖θ‖² (autograd).
    params = [nn.Parameter(t.clone().to(variant.device)) for t in theta0]
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
    bound = trajectory(
        theta0, grads, [Hyper(**values, weight_decay=lam)] * len(theta0), variant.torch_dtype
    )
    call = f"{_call(impl, decayed)} vs weight_decay=0 on L + l2_penalty(θ, {lam})"
    assert_same("SGD on L + (λ/2)‖θ‖²", got, penalised, call, bound)


@_check(
    "weight_decay_decoupled",
    "Loshchilov & Hutter (SGDW): θ ← θ − γλθ − γv, the decay outside the gradient and the "
    "momentum (v: the momentum recursion on ∇L alone)",
    cases=lambda impl, v: _decayed(impl),
    applicable=_needs("weight_decay"),
    fact_only=lambda impl: impl.weight_decay != "decoupled",
)
def weight_decay_decoupled(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    values = {
        k: case[k] for k in ("lr", "momentum", "dampening", "nesterov", "weight_decay") if k in case
    }
    kwargs = hyper(impl, **values)
    h = Hyper(**values, decoupled=True)
    expected = trajectory(theta0, grads, [h] * len(theta0), variant.torch_dtype)
    assert_follows(
        "the decoupled decay θ − γλθ − γv",
        run(impl, theta0, grads, kwargs, variant),
        expected,
        _call(impl, kwargs),
    )


def features(impl: OptimizerUnderTest) -> set[str]:
    """The optional arguments the implementation takes and accepts a working value for."""
    probes: dict[str, dict[str, Any]] = {
        "momentum": {"momentum": 0.9},
        "dampening": {"momentum": 0.9, "dampening": 0.5},
        "nesterov": {"momentum": 0.9, "nesterov": True},
        "weight_decay": {"weight_decay": 0.1},
        "maximize": {"maximize": True},
    }
    return {name for name, probe in probes.items() if impl.refuses(lr=0.1, **probe) is None}


@st.composite
def configs(
    draw: st.DrawFn,
    impl: OptimizerUnderTest,
    steps: tuple[int, int],
    *,
    decay: bool = True,
    maximize: bool | None = None,
) -> Case:
    """A problem and a setting of every optional argument the implementation has."""
    have = features(impl)
    case = {**problem(draw, steps), "lr": draw(lrs, label="lr")}
    if "momentum" in have and draw(st.booleans(), label="with momentum"):
        case["momentum"] = draw(momenta, label="momentum")
        if "nesterov" in have and draw(st.booleans(), label="nesterov"):
            case["nesterov"] = True
        elif "dampening" in have:
            case["dampening"] = draw(st.just(0.0) | dampenings, label="dampening")
    if decay and "weight_decay" in have and draw(st.booleans(), label="with decay"):
        case["weight_decay"] = draw(decays, label="weight_decay")
    if "maximize" in have and (maximize or (maximize is None and draw(st.booleans()))):
        case["maximize"] = True
    return case


def _values(case: Case) -> dict[str, Any]:
    names = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    return {k: case[k] for k in names if k in case}


@_check(
    "matches_torch",
    "torch.optim.SGD's documented algorithm (for-loop path) over many steps; bitwise where "
    "declared, else within the derived rounding bound",
    # torch's decay is coupled: a decoupled implementation is compared without decay.
    cases=lambda impl, v: configs(impl, (10, 50), decay=impl.weight_decay == "coupled"),
)
def matches_torch(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    got = run(impl, theta0, grads, kwargs, variant)
    torch_sgd = OptimizerUnderTest(torch.optim.SGD, kwargs={"foreach": False})
    theirs = run(torch_sgd, theta0, grads, _values(case), variant)
    bound = None
    if not impl.bitwise:
        bound = trajectory(
            theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
        )
    assert_same("torch.optim.SGD(foreach=False)", got, theirs, _call(impl, kwargs), bound)


@st.composite
def _every_switch(draw: st.DrawFn) -> Case:
    return {
        **problem(draw, (1, 3)),
        "lr": draw(lrs, label="lr"),
        "momentum": draw(momenta, label="momentum"),
        "weight_decay": draw(decays, label="weight_decay"),
    }


def switches(impl: OptimizerUnderTest, case: Case) -> list[dict[str, Any]]:
    """Every on/off combination of the optional arguments the implementation has (≤ 12)."""
    import itertools

    have = features(impl)
    out = []
    for mom, nest, decay, maxi in itertools.product([False, True], repeat=4):
        if (mom and "momentum" not in have) or (nest and ("nesterov" not in have or not mom)):
            continue
        if (decay and "weight_decay" not in have) or (maxi and "maximize" not in have):
            continue
        kw: dict[str, Any] = {"lr": case["lr"]}
        kw.update({"momentum": case["momentum"]} if mom else {})
        kw.update({"nesterov": True} if nest else {})
        kw.update({"weight_decay": case["weight_decay"]} if decay else {})
        kw.update({"maximize": True} if maxi else {})
        out.append(kw)
    return out


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
        params = [nn.Parameter(t.clone().to(variant.device)) for t in theta0]
        opt = impl.make(params, **kwargs)
        for t, step in enumerate(grads):
            for p, g in zip(params, step, strict=True):
                p.grad = None if g is None else g.to(variant.device).clone()
            opt.step()
            for i, (p, g) in enumerate(zip(params, step, strict=True)):
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
        params = [nn.Parameter(t.clone().to(variant.device)) for t in theta0]
        opt = impl.make(params, **kwargs)
        call = _call(impl, kwargs) + f", no_grad={case['no_grad']}"
        for t, step in enumerate(grads):
            for p, g in zip(params, step, strict=True):
                p.grad = None if g is None else g.to(variant.device).clone()
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
    same = before.keys() == after.keys() and all(
        torch.equal(v, after[k]) if isinstance(v, Tensor) else v == after[k]
        for k, v in before.items()
    )
    if not same:
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
    have = features(impl)
    groups = []
    for k in range(n_groups):
        g: Case = {"lr": draw(lrs, label=f"group {k} lr")}
        if "momentum" in have:
            g["momentum"] = draw(st.just(0.0) | momenta, label=f"group {k} momentum")
        if "weight_decay" in have:
            g["weight_decay"] = draw(st.just(0.0) | decays, label=f"group {k} weight_decay")
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
    per_param = [Hyper(lr=0.0)] * len(theta0)
    for idx, h in groups:
        for i in idx:
            per_param[i] = oracle_hyper(impl, h)
    defaults = hyper(impl, lr=0.01)  # each group overrides what it sets
    got = run(impl, theta0, grads, defaults, variant, groups=groups)
    expected = trajectory(theta0, grads, per_param, variant.torch_dtype)
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
    params = [nn.Parameter(t.clone().to(variant.device)) for t in theta0]
    opt = impl.make(params, **kwargs)
    for step in grads[:k]:
        for p, g in zip(params, step, strict=True):
            p.grad = None if g is None else g.to(variant.device).clone()
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    fresh = [nn.Parameter(p.detach().clone()) for p in params]
    resumed = impl.make(fresh, **kwargs)
    resumed.load_state_dict(saved)
    for t, step in enumerate(grads[k:], start=k):
        for p, g in zip(fresh, step, strict=True):
            p.grad = None if g is None else g.to(variant.device).clone()
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
        bound = trajectory(
            theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
        )
    assert_same("foreach=False", multi, single, _call(impl, {**kwargs, "foreach": True}), bound)
