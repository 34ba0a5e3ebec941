"""What every optimizer check shares: strategies, the generated tensors, running an optimizer on
fed gradients, comparing with the oracle, and the registry the checks join."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st
from torch import Tensor, nn

from sgdbench.conformance._impl import PROBES, UNKNOWN, OptimizerUnderTest, _same
from sgdbench.conformance._oracle import Step
from sgdbench.conformance._runner import Body, Check, Variant, register
from sgdbench.conformance.algorithms import Adaptive
from sgdbench.conformance.algorithms.radam import near_threshold

Case = dict[str, Any]


Trace = list[list[Tensor]]


seeds = st.integers(0, 2**32 - 1)


lrs = st.sampled_from([0.01, 0.1, 0.5]) | st.floats(1e-3, 1.0)


momenta = st.sampled_from([0.5, 0.9]) | st.floats(0.01, 0.99)


dampenings = st.sampled_from([0.1, 0.5, 1.0]) | st.floats(0.0, 1.0)


decays = st.sampled_from([1e-4, 0.1]) | st.floats(1e-4, 0.5)


# Adam's β₁ may be 0 (torch allows it); β₂ from 0.5 (bias correction large for a few steps) to
# 0.9999; ε up to 0.1, where it is a visible part of the denominator.
beta1s = st.sampled_from([0.0, 0.5, 0.9]) | st.floats(0.0, 0.99)
beta2s = st.sampled_from([0.9, 0.99, 0.999]) | st.floats(0.5, 0.9999)
epsilons = st.sampled_from([1e-8, 1e-6, 1e-3]) | st.floats(1e-8, 0.1)
momentum_decays = st.sampled_from([4e-3, 0.05]) | st.floats(1e-3, 0.5)


def neutral(impl: OptimizerUnderTest) -> dict[str, Any]:
    """The declared algorithm's optional hyper-parameters and the value that switches each off."""
    return dict(impl.algo.neutral)


def probes(impl: OptimizerUnderTest) -> dict[str, Any]:
    """A working value of each of the algorithm's hyper-parameters (and the path flag)."""
    return {**PROBES, **impl.algo.probes}


def adaptive(impl: OptimizerUnderTest) -> bool:
    """Whether the declared algorithm is one of the Adam family or Lion (not SGD)."""
    return impl.algorithm != "sgd"


def draw_betas(draw: st.DrawFn, impl: OptimizerUnderTest, steps: int, label: str = "") -> Any:
    """(β₁, β₂) for the algorithm; for RAdam never a β₂ whose ρ_t lies within
    :data:`~sgdbench.conformance.algorithms.radam.NEAR_THRESHOLD` of 5 at any step."""
    b2s = beta2s
    if impl.algorithm == "lion":
        b2s = st.sampled_from([0.99, 0.999]) | st.floats(0.9, 0.999)
    if impl.algorithm == "radam":
        b2s = b2s.filter(lambda b: not near_threshold(b, max(steps, 60)))
    return (draw(beta1s, label=f"{label}β₁"), draw(b2s, label=f"{label}β₂"))


def expect(
    impl: OptimizerUnderTest,
    theta0: list[Tensor],
    grads: list[list[Tensor | None]],
    hyper: Any,
    dtype: Any,
) -> list[Step]:
    """The declared algorithm's float64 oracle with its rounding bound (``trajectory``)."""
    return impl.algo.trajectory(theta0, grads, hyper, dtype)


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
    # step t's gradients times 2^-k (exact): small gradients (ε visible) or shrinking ones
    # (amsgrad's maximum visible)
    for t, k in enumerate(case.get("grad_exp") or []):
        grads[t] = [None if g is None else g * 2.0**-k for g in grads[t]]
    return theta0, grads


def hyper(impl: OptimizerUnderTest, **values: Any) -> dict[str, Any]:
    """The arguments a check passes: the base kwargs, then the check's ``values``, and for an
    optional hyper-parameter the check leaves unset, its neutral value (μ = 0, λ = 0, …) where
    the implementation takes it and would otherwise not be neutral. Dampening and Nesterov
    mean nothing without momentum: their neutral values go only with a momentum on.

    Nothing the implementation does not take is passed; a neutral value it refuses is passed
    only to be refused in applicability (:func:`_needs`, :func:`_plain`), never in a check body.
    """
    kwargs = dict(impl.kwargs)
    added = {}
    for arg, off in neutral(impl).items():
        if arg in values or not impl.takes(arg):
            continue
        if not _same(impl.default(arg), off):
            added[arg] = off
    kwargs.update(added)
    kwargs.update(values)
    if "betas" in kwargs and isinstance(kwargs["betas"], list):  # a case read back from JSON
        kwargs["betas"] = tuple(kwargs["betas"])
    if adaptive(impl):
        return kwargs
    momentum = kwargs.get("momentum", impl.default("momentum") if impl.takes("momentum") else 0)
    if _same(momentum, 0.0) or momentum is UNKNOWN:
        for arg in ("dampening", "nesterov"):
            if arg in added and arg not in impl.kwargs:
                del kwargs[arg]
    return kwargs


def oracle_hyper(impl: OptimizerUnderTest, kwargs: dict[str, Any]) -> Any:
    """What the oracle runs: the hyper-parameters passed, else the implementation's own
    (neutral) defaults; for an adaptive algorithm, betas, eps and NAdam's momentum_decay the
    implementation was not given are its own defaults (param_groups, else the signature)."""
    cls: Any = impl.algo.hyper
    known = cls.__dataclass_fields__
    fields = {k: v for k, v in kwargs.items() if k in known and k != "decoupled"}
    if cls is Adaptive:
        for name in ("betas", "eps", "momentum_decay"):
            if name not in fields and name in impl.algo.names:
                value = impl.default(name)
                if value is not UNKNOWN:
                    fields[name] = value
        if "betas" in fields:
            fields["betas"] = tuple(float(b) for b in fields["betas"])
        for name in ("lr", "eps", "weight_decay", "momentum_decay"):
            if isinstance(fields.get(name), Tensor):
                fields[name] = fields[name].item()
    return cls(**fields, decoupled=impl.weight_decay == "decoupled")


def parameters(theta0: list[Tensor], variant: Variant) -> list[nn.Parameter]:
    """Fresh leaf parameters holding θ₀, on the variant's device."""
    return [nn.Parameter(t.clone().to(variant.device)) for t in theta0]


def feed(params: list[nn.Parameter], step: list[Tensor | None], variant: Variant) -> None:
    """Set each parameter's grad to a copy of this step's gradient (None: it sits out)."""
    for p, g in zip(params, step, strict=True):
        p.grad = None if g is None else g.to(variant.device).clone()


def run(
    impl: OptimizerUnderTest,
    theta0: list[Tensor],
    grads: list[list[Tensor | None]],
    kwargs: dict[str, Any],
    variant: Variant,
    groups: list[tuple[list[int], dict[str, Any]]] | None = None,
) -> Trace:
    """θ (float64 copies on the CPU) after every step of the optimizer fed ``grads``."""
    params = parameters(theta0, variant)
    spec: Any = params
    if groups is not None:
        spec = [{"params": [params[i] for i in idx], **h} for idx, h in groups]
    opt = impl.make(spec, **kwargs)
    trace = []
    for step in grads:
        feed(params, step, variant)
        opt.step()
        trace.append([p.detach().to("cpu", torch.float64).clone() for p in params])
    return trace


def equal_state(a: Any, b: Any) -> bool:
    """Bitwise equality of optimizer state, however nested (AggMo keeps {β: buffer} dicts)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return (
            isinstance(a, Tensor)
            and isinstance(b, Tensor)
            and a.dtype == b.dtype
            and torch.equal(a, b)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal_state(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(equal_state(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


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


def required(impl: OptimizerUnderTest) -> set[str]:
    """The optional hyper-parameters the implementation cannot switch off: it takes them, its
    default is not neutral, and it refuses the neutral value (a heavy-ball-only SGD: momentum).
    """
    if "required" not in impl._seen:
        impl._seen["required"] = _required(impl)
    return set(impl._seen["required"])


def _required(impl: OptimizerUnderTest) -> set[str]:
    out = set()
    for arg, off in neutral(impl).items():
        if not impl.takes(arg) or _same(impl.default(arg), off):
            continue
        on = (
            PROBES["momentum"]
            if not adaptive(impl) and arg != "momentum" and impl.takes("momentum")
            else {}
        )
        if impl.accepts(**hyper(impl, lr=0.1, **{**on, arg: off})) is not None:
            out.add(arg)
    return out


def switched_on(impl: OptimizerUnderTest) -> dict[str, Any]:
    """Working values of what the implementation cannot switch off (:func:`required`)."""
    on: dict[str, Any] = {}
    for r in sorted(required(impl)):
        on.update(probes(impl).get(r, {}))
    return on


def _needs(*args: str, **values: Any) -> Any:
    """applicable(): the check needs these arguments taken and these values accepted (with
    what the implementation cannot switch off switched on)."""

    def applicable(impl: OptimizerUnderTest) -> str | None:
        missing = [a for a in args if not impl.takes(a)]
        if missing:
            return "takes no " + " and no ".join(f"`{a}`" for a in missing) + " argument"
        on = switched_on(impl)
        table = probes(impl)
        probe = {"lr": 0.1, **on, **{k: v for a in args for k, v in table[a].items()}, **values}
        return _refused(impl, hyper(impl, **probe), set(on))

    return applicable


def _plain(impl: OptimizerUnderTest) -> str | None:
    """applicable() of a check that runs with every optional hyper-parameter off."""
    return _refused(impl, hyper(impl, lr=0.1), set())


def _refused(impl: OptimizerUnderTest, kwargs: dict[str, Any], forced: set[str]) -> str | None:
    """None when the implementation takes ``kwargs``; else the reason, naming the neutral
    values the check needs where those are what it refuses."""
    reason = impl.accepts(**kwargs)
    if reason is None:
        return None
    off = neutral(impl)
    passed = {k: v for k, v in kwargs.items() if k in off and _same(v, off[k])}
    refused = [k for k in passed if impl.accepts(**hyper(impl, lr=0.1, **{k: off[k]}))]
    if refused:
        what = ", ".join(f"{k}={off[k]!r}" for k in refused)
        return f"this check runs with {what}, which it refuses ({reason})"
    return reason


def _check(name: str, cites: str, **kw: Any) -> Callable[[Body], Check]:
    """Register an optimizer check. Every one first needs its base configuration accepted: the
    user's kwargs, what the implementation cannot switch off, and neutral values for the rest
    (:func:`_needs` with nothing more); a check's own ``applicable`` comes after that."""
    own = kw.pop("applicable", None)

    def applicable(impl: OptimizerUnderTest) -> str | None:
        return _needs()(impl) or (own(impl) if own is not None else None)

    return register(CHECKS, "optimizer", name, cites, applicable=applicable, **kw)


CHECKS: list[Check] = []


def _follows_oracle(impl: OptimizerUnderTest, case: Case, variant: Variant, what: str) -> None:
    __tracebackhide__ = True
    theta0, grads = tensors(case, variant)
    values = _values(case)
    kwargs = hyper(impl, **values)
    expected = expect(
        impl, theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
    )
    assert_follows(what, run(impl, theta0, grads, kwargs, variant), expected, _call(impl, kwargs))


def features(impl: OptimizerUnderTest) -> set[str]:
    """The optional arguments the implementation takes and accepts a working value for."""
    if "features" not in impl._seen:
        impl._seen["features"] = _features(impl)
    return set(impl._seen["features"])


def _features(impl: OptimizerUnderTest) -> set[str]:
    have = set()
    table = probes(impl)
    for name in neutral(impl):
        if not impl.takes(name):
            continue
        on = PROBES["momentum"] if not adaptive(impl) and "momentum" in required(impl) else {}
        if impl.accepts(**hyper(impl, lr=0.1, **{**on, **table[name]})) is None:
            have.add(name)
    return have


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
    have, must = features(impl), required(impl)
    case = {**problem(draw, steps), "lr": draw(lrs, label="lr")}
    if adaptive(impl):
        return _adaptive_config(draw, impl, case, have, must, decay, maximize)
    if "momentum" in must or ("momentum" in have and draw(st.booleans(), label="with momentum")):
        case["momentum"] = draw(momenta, label="momentum")
        if "nesterov" in have and draw(st.booleans(), label="nesterov"):
            case["nesterov"] = True
        elif "dampening" in have:
            case["dampening"] = draw(st.just(0.0) | dampenings, label="dampening")
    if (decay and "weight_decay" in have and draw(st.booleans(), label="with decay")) or (
        "weight_decay" in must
    ):
        case["weight_decay"] = draw(decays, label="weight_decay")
    if "maximize" in have and (maximize or (maximize is None and draw(st.booleans()))):
        case["maximize"] = True
    return case


def _adaptive_config(
    draw: st.DrawFn,
    impl: OptimizerUnderTest,
    case: Case,
    have: set[str],
    must: set[str],
    decay: bool,
    maximize: bool | None,
) -> Case:
    """An adaptive algorithm's setting: betas and eps always (passed, never left to the
    implementation's defaults), amsgrad, decay and maximize where it has them."""
    case["betas"] = draw_betas(draw, impl, case["steps"])
    if "eps" in impl.algo.needs:
        case["eps"] = draw(epsilons, label="eps")
    if "amsgrad" in have and draw(st.booleans(), label="amsgrad"):
        case["amsgrad"] = True
    if (decay and "weight_decay" in have and draw(st.booleans(), label="with decay")) or (
        "weight_decay" in must
    ):
        case["weight_decay"] = draw(decays, label="weight_decay")
    if "maximize" in have and (maximize or (maximize is None and draw(st.booleans()))):
        case["maximize"] = True
    if "momentum_decay" in impl.algo.options and impl.takes("momentum_decay"):
        case["momentum_decay"] = draw(momentum_decays, label="momentum_decay")
    return case


VALUES = (
    *("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"),
    *("betas", "eps", "amsgrad", "momentum_decay"),
)


def _values(case: Case) -> dict[str, Any]:
    return {k: case[k] for k in VALUES if k in case}


@st.composite
def _every_switch(draw: st.DrawFn) -> Case:
    return {
        **problem(draw, (1, 3)),
        "lr": draw(lrs, label="lr"),
        "momentum": draw(momenta, label="momentum"),
        "weight_decay": draw(decays, label="weight_decay"),
        "betas": (draw(beta1s, label="β₁"), draw(st.floats(0.9, 0.999), label="β₂")),
        "eps": draw(epsilons, label="eps"),
    }


def switches(impl: OptimizerUnderTest, case: Case) -> list[dict[str, Any]]:
    """Every on/off combination of the optional arguments the implementation has (≤ 12)."""
    import itertools

    have, must = features(impl), required(impl)
    out = []
    if adaptive(impl):
        base: dict[str, Any] = {k: case[k] for k in ("lr", "betas", "eps") if k in case}
        if "eps" not in impl.algo.needs:
            base.pop("eps", None)
        for ams, decay, maxi in itertools.product([False, True], repeat=3):
            if (ams and "amsgrad" not in have) or (maxi and "maximize" not in have):
                continue
            if (decay and "weight_decay" not in have) or ("weight_decay" in must and not decay):
                continue
            on: dict[str, Any] = dict(base)
            on.update({"amsgrad": True} if ams else {})
            on.update({"weight_decay": case["weight_decay"]} if decay else {})
            on.update({"maximize": True} if maxi else {})
            out.append(on)
        return out
    for mom, nest, decay, maxi in itertools.product([False, True], repeat=4):
        if (mom and "momentum" not in have) or (nest and ("nesterov" not in have or not mom)):
            continue
        if ("momentum" in must and not mom) or ("weight_decay" in must and not decay):
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
