"""What a training loop relies on around the update: ``step(closure)``, ``add_param_group``
mid-run, invalid hyper-parameters refused as torch documents, and parameters of any layout
(non-contiguous, channels_last, 0-dim). The schedules a loop drives are in
:mod:`.schedules`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st
from torch import Tensor, nn

from sgdbench.conformance._impl import OptimizerUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance.optimizer._harness import (
    Case,
    _call,
    _check,
    _values,
    adaptive,
    assert_follows,
    assert_same,
    configs,
    decays,
    draw_betas,
    epsilons,
    expect,
    features,
    feed,
    hyper,
    lrs,
    momenta,
    oracle_hyper,
    parameters,
    run,
    shapes,
    tensors,
)


def _theta(params: list[nn.Parameter]) -> list[Tensor]:
    return [p.detach().to("cpu", torch.float64).clone() for p in params]


def _loss_closure(
    opt: torch.optim.Optimizer,
    params: list[nn.Parameter],
    fed: list[Tensor],
    calls: list[Tensor],
    when: str,
    call: str,
) -> Callable[[], Tensor]:
    """A training loop's closure: zero the grads, L = Σᵢ⟨gᵢ, θᵢ⟩, backward(); each loss is
    appended to ``calls``. Grad disabled inside it is a failure, said as such."""

    def loss_fn() -> Tensor:
        if not torch.is_grad_enabled():
            raise AssertionError(
                f"{when} called the closure with grad disabled (torch.is_grad_enabled() is "
                "False inside it), so its backward() cannot run; Optimizer.step calls it "
                f"under torch.enable_grad() [{call}]"
            )
        opt.zero_grad()
        loss = torch.zeros((), dtype=fed[0].dtype, device=fed[0].device)
        for p, g in zip(params, fed, strict=True):
            loss = loss + (p * g).sum()
        loss.backward()  # type: ignore[no-untyped-call]
        calls.append(loss)
        return loss

    return loss_fn


@_check(
    "closure",
    "torch.optim.Optimizer.step(closure): the closure re-evaluates the model and returns the "
    "loss; step calls it once, under torch.enable_grad() (step itself runs under no_grad), "
    "returns its loss, and updates with the gradients its backward() produced",
    cases=lambda impl, v: configs(impl, (1, 4)),
)
def closure(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    """The closure zeroes the grads and back-propagates L = Σᵢ⟨gᵢ, θᵢ⟩, whose gradient is the
    fed gᵢ exactly; before each step p.grad holds a stale −gᵢ − 1, so a step that reads the
    grads before calling the closure moves the wrong way."""
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    call = _call(impl, kwargs)
    params = parameters(theta0, variant)
    opt = impl.make(params, **kwargs)
    trace = []
    for t, step in enumerate(grads):
        fed = [g.to(variant.device) for g in step if g is not None]
        for p, g in zip(params, fed, strict=True):
            p.grad = -g - 1  # stale: the closure replaces it
        calls: list[Tensor] = []
        loss_fn = _loss_closure(opt, params, fed, calls, f"step {t + 1}", call)
        returned: Any = opt.step(loss_fn)  # type: ignore[arg-type]
        if len(calls) != 1:
            raise AssertionError(
                f"step {t + 1} called the closure {len(calls)} times, but should call it "
                f"exactly once (each call is a forward and backward pass) [{call}]"
            )
        loss = calls[0]
        same = returned is loss or (
            isinstance(returned, (Tensor, float)) and float(returned) == loss.item()
        )
        if not same:
            raise AssertionError(
                f"step {t + 1} returned {returned!r}, but should return the closure's loss "
                f"{loss.item()!r} [{call}]"
            )
        trace.append(_theta(params))
    expected = expect(
        impl, theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
    )
    assert_follows(
        "the update with the gradients the closure's backward() produced", trace, expected, call
    )


@st.composite
def _added(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(configs(impl, (2, 6)))
    case["add_after"] = draw(st.integers(1, case["steps"] - 1), label="add after step")
    case["new_shapes"] = draw(shapes, label="new group's shapes")
    have = features(impl)
    group: dict[str, Any] = {"lr": draw(lrs, label="new group lr")}
    if adaptive(impl):
        group["betas"] = draw_betas(draw, impl, case["steps"], label="new group ")
        if "eps" in impl.algo.needs:
            group["eps"] = draw(epsilons, label="new group eps")
    if "momentum" in have:  # nonzero under nesterov, whose defaults the new group inherits
        zero = st.nothing() if case.get("nesterov") else st.just(0.0)
        group["momentum"] = draw(zero | momenta, label="new group momentum")
    if "weight_decay" in have:
        group["weight_decay"] = draw(st.just(0.0) | decays, label="new group weight_decay")
    case["new_group"] = group
    return case


@_check(
    "add_param_group",
    "torch.optim.Optimizer.add_param_group: a group added mid-run (fine-tuning unfreezes a "
    "layer) is updated from then on with its own hyper-parameters (the rest from the "
    "defaults) and fresh state; the groups already there continue exactly as without it",
    cases=lambda impl, v: _added(impl),
)
def add_param_group(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors({**case, "shapes": case["shapes"] + case["new_shapes"]}, variant)
    n, k = len(case["shapes"]), case["add_after"]
    kwargs = hyper(impl, **_values(case))
    call = f"{_call(impl, kwargs)}, add_param_group({case['new_group']}) after step {k}"
    alone = run(impl, theta0[:n], [s[:n] for s in grads], kwargs, variant)
    params, added = parameters(theta0[:n], variant), parameters(theta0[n:], variant)
    opt = impl.make(params, **kwargs)
    old, new = [], []
    for t, step in enumerate(grads):
        if t == k:
            opt.add_param_group({"params": added, **case["new_group"]})
        feed(params, step[:n], variant)
        if t >= k:
            feed(added, step[n:], variant)
        opt.step()
        old.append(_theta(params))
        if t >= k:
            new.append(_theta(added))
    assert_same("the same run without the added group", old, alone, call, None)
    h = oracle_hyper(impl, {**kwargs, **case["new_group"]})
    expected = expect(
        impl, theta0[n:], [s[n:] for s in grads[k:]], [h] * len(theta0[n:]), variant.torch_dtype
    )
    assert_follows(
        "the added group's own update (steps counted from its addition)", new, expected, call
    )


@st.composite
def _invalid(draw: st.DrawFn) -> Case:
    negative = st.sampled_from([1e-8, 0.1, 1.0]) | st.floats(1e-8, 10.0)
    return {
        "lr": draw(lrs, label="lr"),
        "negative": draw(negative.map(lambda x: -x), label="negative value"),
        "dampening": draw(st.floats(0.01, 1.0), label="dampening"),
    }


def _invalid_cases(impl: OptimizerUnderTest, case: Case) -> list[tuple[str, dict[str, Any]]]:
    """torch/optim/sgd.py __init__'s refusals, each only where the argument is taken."""
    have, lr, neg = features(impl), case["lr"], case["negative"]
    out: list[tuple[str, dict[str, Any]]] = [(f"lr={neg!r}", {"lr": neg})]
    if adaptive(impl):  # torch/optim/adam.py __init__: eps < 0, a β outside [0, 1)
        betas = [(neg, 0.99), (0.9, neg), (0.9, 1.5)]
        betas += [(1.0, 0.99)] if impl.algo.reference is not None else []  # Lion: β₁ = 1 allowed
        for b in betas:
            out.append((f"betas={b!r}", {"lr": lr, "betas": b}))
        if "eps" in impl.algo.needs:
            out.append((f"eps={neg!r}", {"lr": lr, "eps": neg}))
    if "momentum" in have:
        out.append((f"momentum={neg!r}", {"lr": lr, "momentum": neg}))
    if "weight_decay" in have:
        out.append((f"weight_decay={neg!r}", {"lr": lr, "weight_decay": neg}))
    if "nesterov" in have:
        out.append(("nesterov=True with momentum=0", {"lr": lr, "nesterov": True, "momentum": 0.0}))
        if "dampening" in have:
            bad = {"lr": lr, "nesterov": True, "momentum": 0.9, "dampening": case["dampening"]}
            out.append((f"nesterov=True with dampening={case['dampening']!r}", bad))
    return out


@_check(
    "invalid_hyper",
    "torch.optim.SGD.__init__ raises ValueError for lr < 0 ('Invalid learning rate'), "
    "momentum < 0, weight_decay < 0, and nesterov without momentum or with dampening "
    "('Nesterov momentum requires a momentum and zero dampening'); torch.optim.Adam's for "
    "eps < 0 and a beta outside [0, 1) ('Invalid beta parameter at index 0'); each where taken",
    cases=lambda impl, v: _invalid(),
)
def invalid_hyper(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    """ValueError (or a subclass) specifically, at construction, as torch documents and does.
    A TypeError says the argument has the wrong type, which a negative float has not; code
    that sweeps hyper-parameters catches ValueError to skip an invalid setting; and an
    ``assert`` (AssertionError) disappears under ``python -O``, so the value would then be
    accepted silently. Any other exception is reported by name."""
    for what, values in _invalid_cases(impl, case):
        kwargs = hyper(impl, **values)
        if any(k not in kwargs or kwargs[k] != v for k, v in values.items()):
            continue  # the harness will not pass this argument: nothing to check
        call = _call(impl, kwargs)
        ref = impl.algo.reference
        torch_does = f"torch.optim.{ref.__name__}" if ref is not None else "torch.optim's Adam"
        param = nn.Parameter(torch.zeros(2, dtype=variant.torch_dtype, device=variant.device))
        try:
            impl.make([param], **kwargs)
        except ValueError:
            continue
        except Exception as e:
            raise AssertionError(
                f"{what} raised {type(e).__name__}: {e}, but {torch_does} raises "
                f"ValueError [{call}]"
            ) from None
        raise AssertionError(
            f"{what} was accepted silently, but {torch_does} raises ValueError [{call}]"
        )


@st.composite
def _odd(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(configs(impl, (1, 4)))
    a, b = draw(st.integers(2, 3), label="rows"), draw(st.integers(2, 3), label="columns")
    c, w = draw(st.integers(2, 3), label="channels"), draw(st.integers(1, 2), label="width")
    case["shapes"] = [[a, b], [draw(st.integers(1, 2), label="batch"), c, 2, w], []]
    case["layouts"] = ["transposed", "channels_last", "0-dim"]
    case["grad_in_layout"] = draw(st.lists(st.booleans(), min_size=3, max_size=3))
    return case


def _layout(x: Tensor, layout: str) -> Tensor:
    """The same values, stored as ``layout``: non-contiguous for the first two."""
    if layout == "transposed":
        return x.t().contiguous().t()  # a transposed weight, as tied embeddings give
    if layout == "channels_last":
        return x.contiguous(memory_format=torch.channels_last)
    return x


@_check(
    "odd_shapes",
    "torch.optim.SGD updates parameters of any stride and rank: non-contiguous (a transposed "
    "weight, a channels_last convolution) with gradients in either layout, and 0-dim "
    "parameters, follow the update and keep their shape",
    cases=lambda impl, v: _odd(impl),
)
def odd_shapes(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    layouts, in_layout = case["layouts"], case["grad_in_layout"]
    kwargs = hyper(impl, **_values(case))
    call = f"{_call(impl, kwargs)}, parameters {layouts} of shapes {case['shapes']}"
    params = [
        nn.Parameter(_layout(t.to(variant.device).clone(), lay))
        for t, lay in zip(theta0, layouts, strict=True)
    ]
    opt = impl.make(params, **kwargs)
    trace = []
    for t, step in enumerate(grads):
        for p, g, lay, keep in zip(params, step, layouts, in_layout, strict=True):
            assert g is not None  # this check feeds every gradient
            p.grad = _layout(g.to(variant.device).clone(), lay if keep else "contiguous")
        opt.step()
        for i, (p, shape) in enumerate(zip(params, case["shapes"], strict=True)):
            if list(p.shape) != shape:
                raise AssertionError(
                    f"θ[{i}] ({layouts[i]}) has shape {list(p.shape)} after step {t + 1}, but "
                    f"should keep its shape {shape} [{call}]"
                )
        trace.append(_theta(params))
    expected = expect(
        impl, theta0, grads, [oracle_hyper(impl, kwargs)] * len(theta0), variant.torch_dtype
    )
    assert_follows("the update (the same values, contiguous)", trace, expected, call)
