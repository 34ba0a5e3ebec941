"""Low precision and loss scaling: bfloat16 and float16 parameters (alone and mixed with the
variant's dtype in one group) against torch.optim.SGD in the same dtypes, and
``torch.amp.GradScaler`` driving the optimizer (skipped steps, unscaled gradients)."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st
from torch import Tensor, nn

from sgdbench.conformance._impl import OptimizerUnderTest, copy_state
from sgdbench.conformance._runner import Variant
from sgdbench.conformance.optimizer._harness import (
    Case,
    Trace,
    _call,
    _check,
    _values,
    adaptive,
    assert_follows,
    assert_same,
    configs,
    equal_state,
    expect,
    hyper,
    oracle_hyper,
    parameters,
    tensors,
)

LOW = {"bfloat16": torch.bfloat16, "float16": torch.float16}
# Generated θ₀ and gradients are standard normal draws clamped to ±4: with lr ≤ 1, μ ≤ 0.99,
# λ ≤ 0.5 and ≤ 8 steps every value stays below 10⁴, far from float16's largest finite
# value 65504; draws below float16's smallest normal (6.1e-5) round to subnormals, which the
# oracle's C·tiny term covers.
SAFE = 4.0


def dtypes_of(case: Case, variant: Variant) -> list[torch.dtype]:
    """Each parameter's dtype: all bfloat16, all float16, or the variant's, bf16, fp16 in turn."""
    n = len(case["shapes"])
    if case["dtypes"] == "mixed":
        cycle = [variant.torch_dtype, torch.bfloat16, torch.float16]
        return [cycle[i % 3] for i in range(n)]
    return [LOW[case["dtypes"]]] * n


def low_tensors(
    case: Case, dtypes: list[torch.dtype]
) -> tuple[list[Tensor], list[list[Tensor | None]]]:
    """θ₀ and every step's gradient, exact in each parameter's dtype, |x| ≤ SAFE."""
    gen = torch.Generator().manual_seed(case["seed"])

    def draw(shape: list[int], dtype: torch.dtype) -> Tensor:
        x = torch.randn(shape, generator=gen, dtype=torch.float64).clamp(-SAFE, SAFE)
        return x.to(dtype)

    theta0 = [draw(s, d) for s, d in zip(case["shapes"], dtypes, strict=True)]
    grads: list[list[Tensor | None]] = [
        [draw(s, d) for s, d in zip(case["shapes"], dtypes, strict=True)]
        for _ in range(case["steps"])
    ]
    return theta0, grads


def at_least(have: torch.dtype, need: torch.dtype) -> bool:
    """``have`` holds every value of ``need`` as well or better: precision and range."""
    if not (have.is_floating_point and need.is_floating_point):
        return have == need
    a, b = torch.finfo(have), torch.finfo(need)
    return a.eps <= b.eps and a.max >= b.max


def _assert_dtypes(
    params: list[nn.Parameter],
    opt: torch.optim.Optimizer,
    dtypes: list[torch.dtype],
    t: int,
    call: str,
) -> None:
    """θ keeps its dtype; per-element state (shaped like θ) holds θ's dtype or a wider one."""
    __tracebackhide__ = True
    for i, (p, d) in enumerate(zip(params, dtypes, strict=True)):
        if p.dtype != d:
            raise AssertionError(
                f"θ[{i}] is {p.dtype} after step {t + 1}, but was {d}: step() must keep a "
                f"parameter's dtype [{call}]"
            )
        for key, value in opt.state.get(p, {}).items():
            if (
                isinstance(value, Tensor)
                and value.shape == p.shape
                and not at_least(value.dtype, d)
            ):
                raise AssertionError(
                    f"state[θ[{i}]][{key!r}] is {value.dtype} after step {t + 1}, but θ[{i}] is "
                    f"{d}: per-element state must hold the parameter's dtype or a wider one "
                    f"[{call}]"
                )


@st.composite
def _low(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    # torch's decay is coupled: a decoupled implementation is compared without decay (as in
    # matches_torch; weight_decay_decoupled checks its form)
    case = draw(configs(impl, (1, 8), decay=adaptive(impl) or impl.weight_decay == "coupled"))
    case["dtypes"] = draw(st.sampled_from(["bfloat16", "float16", "mixed"]), label="dtypes")
    if case["dtypes"] == "mixed":
        case["shapes"] = (case["shapes"] + [[2], [3], [1, 2]])[: max(3, len(case["shapes"]))]
    return case


def _run_low(
    impl: OptimizerUnderTest,
    theta0: list[Tensor],
    grads: list[list[Tensor | None]],
    kwargs: dict[str, Any],
    call: str,
    device: str,
) -> Trace:
    """Like ``run``, checking dtypes after every step and saying which dtypes step() refused."""
    params = [nn.Parameter(t.clone().to(device)) for t in theta0]
    opt = impl.make(params, **kwargs)
    trace = []
    for t, step in enumerate(grads):
        for p, g in zip(params, step, strict=True):
            p.grad = None if g is None else g.to(device).clone()
        try:
            opt.step()
        except Exception as e:
            kinds = sorted({str(p.dtype).removeprefix("torch.") for p in params})
            raise AssertionError(
                f"step {t + 1} on {'/'.join(kinds)} parameters raised {type(e).__name__}: {e}; "
                "torch.optim.SGD steps bfloat16 and float16 parameters (its docs list float64, "
                f"float32, float16 and bfloat16 for the fused path) [{call}]"
            ) from e
        _assert_dtypes(params, opt, [x.dtype for x in theta0], t, call)
        trace.append([p.detach().to("cpu", torch.float64).clone() for p in params])
    return trace


@_check(
    "low_precision",
    'torch.optim.SGD steps float16 and bfloat16 parameters ("Currently, torch.float64, '
    'torch.float32, torch.float16, and torch.bfloat16 are supported"), also mixed in one '
    'group; θ keeps its dtype; load_state_dict: floating-point state is "assumed to always '
    'match the type of params"; within 2E of torch.optim.SGD(foreach=False) in the same dtypes '
    "(E from each dtype's unit roundoff: 2⁻⁸ bfloat16, 2⁻¹¹ float16). The variant's dtype is "
    "the third dtype of the mixed group",
    cases=lambda impl, v: _low(impl),
)
def low_precision(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    dtypes = dtypes_of(case, variant)
    theta0, grads = low_tensors(case, dtypes)
    kwargs = hyper(impl, **_values(case))
    names = [str(d).removeprefix("torch.") for d in dtypes]
    call = _call(impl, kwargs) + f", dtypes={names}"
    got = _run_low(impl, theta0, grads, kwargs, call, variant.device)
    bound = expect(impl, theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), dtypes)
    if adaptive(impl):
        # the float64 oracle itself, E from each dtype's unit roundoff: an implementation that
        # keeps more precise state than torch (float32 moments for bfloat16 θ) is nearer to it
        assert_follows(f"the {impl.algo.title} update in {names}", got, bound, call)
        return
    torch_sgd = OptimizerUnderTest(torch.optim.SGD, kwargs={"foreach": False})
    theirs = _run_low(torch_sgd, theta0, grads, _values(case), "torch.optim.SGD", variant.device)
    # Within the bound even where bitwise is declared: the declaration is about the variant's
    # dtype, and torch's own paths differ by an ulp in 16 bits (CPU _foreach_mul_ rounds μ to
    # the tensor's dtype first, Tensor.mul_ does not).
    assert_same(f"torch.optim.SGD(foreach=False) in {names}", got, theirs, call, bound)


POISON = {"inf": float("inf"), "-inf": float("-inf"), "nan": float("nan")}


@st.composite
def _scaled(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    """A run under GradScaler: a power-of-two initial scale (float16's range: 2⁰ … 2¹⁶) and
    the steps whose gradient holds an inf or a nan (one element of one parameter)."""
    case = draw(configs(impl, (2, 6)))
    n = case["steps"]
    case["scale_exp"] = draw(st.integers(0, 16), label="log2 init_scale")
    # step 1 poisoned half the time: a state that does not exist yet must not appear either
    first = {0} if draw(st.booleans(), label="poison step 1") else set()
    later = draw(st.sets(st.integers(1, n - 1), max_size=n - 2), label="poisoned later")
    skip = first | later or {n - 1}
    case["poison"] = [  # [step, parameter, value]: plain lists, so a JSON report replays
        [
            t,
            draw(st.integers(0, len(case["shapes"]) - 1), label="poisoned parameter"),
            draw(st.sampled_from(sorted(POISON)), label="poison"),
        ]
        for t in sorted(skip)
    ]
    return case


def _untouched(state: dict[str, Any]) -> bool:
    """A state created on a skipped first step that is the state of no step at all: every
    tensor zero and the step count 0 (torch's fused Adam creates its moments and step, then
    takes the step back on found_inf). Anything else (an uninitialised buffer) is not."""

    def zero(v: Any) -> bool:
        if isinstance(v, Tensor):
            return bool((v == 0).all())
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return v == 0
        return False

    return all(zero(v) for v in state.values())


def _same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same keys, tensors of the same dtype bit for bit (however nested), other values equal."""
    return equal_state(dict(a), dict(b))


@_check(
    "grad_scaler",
    "torch.amp.GradScaler: scaler.scale(loss).backward(); scaler.step(opt); scaler.update(): "
    '"If no inf/NaN gradients are found, invokes optimizer.step() using the unscaled '
    'gradients. Otherwise, optimizer.step() is skipped"; an optimizer with '
    "_step_supports_amp_scaling unscales by its grad_scale and skips on its found_inf itself. "
    "A skipped step leaves θ and the optimizer state bit for bit as they were (a state it "
    "creates for a parameter that had none must be the state of no step: zeros, step 0), and "
    "the scale halves; the others follow the update on the unscaled gradients within 2E",
    cases=lambda impl, v: _scaled(impl),
)
def grad_scaler(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    params = parameters(theta0, variant)
    opt = impl.make(params, **kwargs)
    own = getattr(opt, "_step_supports_amp_scaling", False)
    init = 2.0 ** case["scale_exp"]
    scaler = torch.amp.GradScaler(variant.device, init_scale=init)
    call = (
        f"{_call(impl, kwargs)}, GradScaler(init_scale={init:g}), poison={case['poison']}"
        f"{', _step_supports_amp_scaling' if own else ''}"
    )
    poison = {t: (i, kind) for t, i, kind in case["poison"]}
    applied: list[list[Tensor | None]] = []
    trace: Trace = []
    for t, step in enumerate(grads):
        coeffs = [g.clone() for g in step if g is not None]
        if t in poison:
            i, kind = poison[t]
            coeffs[i].view(-1)[0] = POISON[kind]
        before = [(p.detach().clone(), copy_state(opt.state.get(p, {}))) for p in params]
        scale = scaler.get_scale()
        # forward: a loss whose gradient is exactly this step's g (Σ g·θ); backward; update
        for p in params:
            p.grad = None
        loss = torch.zeros((), dtype=variant.torch_dtype, device=variant.device)
        for c, p in zip(coeffs, params, strict=True):
            loss = loss + (c.to(variant.device) * p).sum()
        scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
        scaler.step(opt)
        scaler.update()
        if t not in poison:
            applied.append(step)
            trace.append([p.detach().to("cpu", torch.float64).clone() for p in params])
            continue
        for k, (p, (theta, state)) in enumerate(zip(params, before, strict=True)):
            if not torch.equal(p.detach(), theta):
                raise AssertionError(
                    f"step {t + 1}'s gradient of θ[{i}] holds {kind}, so the step must be "
                    f"skipped, but θ[{k}] changed (now {p.detach().flatten()[:3].tolist()}…) "
                    f"[{call}]"
                )
            now = dict(opt.state.get(p, {}))
            if not _same_state(state, now) and not (not state and _untouched(now)):
                raise AssertionError(
                    f"step {t + 1}'s gradient of θ[{i}] holds {kind}, so the step must be "
                    f"skipped, but the state of θ[{k}] changed: {sorted(state)} → "
                    f"{sorted(opt.state.get(p, {}))}, values not bit for bit as before [{call}]"
                )
        if scaler.get_scale() != scale * 0.5:
            raise AssertionError(
                f"after the skipped step {t + 1} the scale is {scaler.get_scale()}, but "
                f"GradScaler should have halved {scale} [{call}]"
            )
    if not applied:
        return
    # within the bound whatever is declared: bitwise agreement with torch is matches_torch's
    bound = expect(
        impl, theta0, applied, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
    )
    call += " (steps counted without the skipped ones)"
    assert_follows("the update on the unscaled finite gradients", trace, bound, call)
