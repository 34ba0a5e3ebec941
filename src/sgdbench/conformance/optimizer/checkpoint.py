"""Checkpoints and copies: a state_dict through ``torch.save`` / ``torch.load(weights_only=True)``
resumes bit for bit, ``load_state_dict`` leaves the caller's dict as it was, and a
``copy.deepcopy`` of a model and its optimizer continues identically and independently.

The in-memory round trip (a deep copy of the state_dict, no serialisation) stays in
:func:`sgdbench.conformance.optimizer.contract.state_dict_roundtrip`, a shorter statement whose
failure points at the state itself rather than at serialisation.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
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
    configs,
    equal_state,
    feed,
    hyper,
    parameters,
    run,
    tensors,
)


@st.composite
def _saved(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(configs(impl, (2, 6)))
    case["save_after"] = draw(st.integers(1, case["steps"] - 1), label="save after step")
    return case


def _leaves(obj: Any, path: str = "state_dict") -> Iterator[tuple[str, Any]]:
    """Every container (as its keys or length) and every value in a nested state_dict."""
    if isinstance(obj, dict):
        yield path, ("dict", sorted(map(repr, obj)))
        for k, v in obj.items():
            yield from _leaves(v, f"{path}[{k!r}]")
    elif isinstance(obj, list | tuple):
        yield path, (type(obj).__name__, len(obj))
        for i, v in enumerate(obj):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, obj


def _snapshot(sd: Any) -> dict[str, Any]:
    """What the caller's dict holds: each tensor object, its version counter and a clone."""
    return {
        path: (v, v._version, v.detach().clone()) if isinstance(v, Tensor) else copy.deepcopy(v)
        for path, v in _leaves(sd)
    }


def _assert_unchanged(sd: Any, before: dict[str, Any], call: str) -> None:
    __tracebackhide__ = True
    now = dict(_leaves(sd))
    if now.keys() != before.keys():
        gone, new = sorted(before.keys() - now.keys()), sorted(now.keys() - before.keys())
        raise AssertionError(
            f"load_state_dict changed the dict it was given: removed {gone[:3]}, added "
            f"{new[:3]}; it must leave the caller's dict as it was [{call}]"
        )
    for path, was in before.items():
        v = now[path]
        if isinstance(was, tuple) and len(was) == 3 and isinstance(was[0], Tensor):
            obj, version, value = was
            if v is not obj:
                what = "replaced the tensor at"
            elif v._version != version:
                what = "modified in place the tensor at"
            elif not (v.dtype == value.dtype and torch.equal(v, value)):
                what = "changed the values of"
            else:
                continue
        elif v == was:
            continue
        else:
            what = f"changed ({was!r} → {v!r})"
        raise AssertionError(
            f"load_state_dict {what} {path}; it must leave the caller's dict as it was [{call}]"
        )


def _continue(
    params: list[nn.Parameter],
    opt: torch.optim.Optimizer,
    grads: list[list[Tensor | None]],
    straight: Trace,
    start: int,
    variant: Variant,
    what: str,
    call: str,
) -> None:
    """Step ``opt`` from ``start`` on; θ after each step must be the uninterrupted run's."""
    __tracebackhide__ = True
    for t, step in enumerate(grads[start:], start=start):
        feed(params, step, variant)
        try:
            opt.step()
        except Exception as e:
            hint = (
                " (torch.optim.Optimizer.__getstate__ keeps only defaults, state and "
                "param_groups: attributes set in __init__ do not survive a deepcopy)"
                if "deepcopy" in what
                else ""
            )
            raise AssertionError(
                f"step {t + 1} {what} raised {type(e).__name__}: {e}; it should continue as the "
                f"uninterrupted run{hint} [{call}]"
            ) from e
        for i, (p, theta) in enumerate(zip(params, straight[t], strict=True)):
            got = p.detach().to("cpu", torch.float64)
            if not torch.equal(got, theta):
                diff = (got - theta).abs().max().item()
                raise AssertionError(
                    f"θ[{i}] after step {t + 1}, {what}, differs from the uninterrupted run by "
                    f"up to {diff:.3g}; it should be bit for bit the same [{call}]"
                )


def _frozen(params: list[nn.Parameter], opt: torch.optim.Optimizer) -> list[Any]:
    return [(p.detach().clone(), copy_state(opt.state.get(p, {}))) for p in params]


def _assert_frozen(
    params: list[nn.Parameter], opt: torch.optim.Optimizer, was: list[Any], what: str, call: str
) -> None:
    __tracebackhide__ = True
    for i, (p, (theta, state)) in enumerate(zip(params, was, strict=True)):
        same = equal_state(dict(state), dict(opt.state.get(p, {})))
        if not torch.equal(p.detach(), theta) or not same:
            raise AssertionError(
                f"{what} changed θ[{i}] or its state in the other copy; a deep copy must be "
                f"independent [{call}]"
            )


@_check(
    "checkpoint",
    "torch.optim.Optimizer.state_dict / load_state_dict through torch.save and "
    'torch.load(weights_only=True, map_location=device) ("Should be an object returned from a '
    'call to state_dict()"): a fresh optimizer continues bit for bit as the uninterrupted run, '
    "and the dict given to load_state_dict is left as it was (keys, tensors, values); "
    "copy.deepcopy of (params, optimizer), and of the optimizer alone (it copies the "
    "Parameters its param_groups hold), continue bit for bit and independently of the original",
    cases=lambda impl, v: _saved(impl),
)
def checkpoint(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    k = case["save_after"]
    call = f"{_call(impl, kwargs)}, saved after step {k}"
    straight = run(impl, theta0, grads, kwargs, variant)
    params = parameters(theta0, variant)
    opt = impl.make(params, **kwargs)
    for step in grads[:k]:
        feed(params, step, variant)
        opt.step()

    # save → load(weights_only=True) → a fresh optimizer
    buffer = io.BytesIO()
    try:
        torch.save(opt.state_dict(), buffer)
        buffer.seek(0)
        loaded = torch.load(buffer, weights_only=True, map_location=variant.device)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise AssertionError(
            f"torch.save(opt.state_dict()) then torch.load(weights_only=True) raised "
            f"{type(e).__name__}: {first}; a state_dict must hold only tensors, numbers, "
            f"strings and containers of them [{call}]"
        ) from e
    before = _snapshot(loaded)
    fresh = [nn.Parameter(p.detach().clone()) for p in params]
    resumed = impl.make(fresh, **kwargs)
    resumed.load_state_dict(loaded)
    _assert_unchanged(loaded, before, call)
    _continue(fresh, resumed, grads, straight, k, variant, "resumed from torch.load", call)

    # deepcopy: the model and its optimizer together, and the optimizer alone
    pair_params, pair_opt = copy.deepcopy((params, opt))
    held = {id(p) for g in pair_opt.param_groups for p in g["params"]}
    if held != {id(p) for p in pair_params}:
        raise AssertionError(
            "copy.deepcopy((params, opt)) gave an optimizer that does not hold the copied "
            f"params; deepcopy's memo maps each Parameter to its one copy [{call}]"
        )
    alone = copy.deepcopy(opt)
    alone_params: list[nn.Parameter] = [p for g in alone.param_groups for p in g["params"]]
    if any(a is p for a in alone_params for p in params):
        raise AssertionError(
            "copy.deepcopy(opt) holds the original Parameters; torch's deepcopy copies them "
            f"(stepping the copy would move the original model) [{call}]"
        )
    original = _frozen(params, opt)
    _continue(pair_params, pair_opt, grads, straight, k, variant, "of a deepcopy", call)
    _assert_frozen(params, opt, original, "stepping a deepcopy of (params, opt)", call)
    _continue(alone_params, alone, grads, straight, k, variant, "of a deepcopy of opt", call)
    _assert_frozen(params, opt, original, "stepping a deepcopy of opt", call)
    copied = _frozen(pair_params, pair_opt)
    _continue(params, opt, grads, straight, k, variant, "of the deepcopied original", call)
    _assert_frozen(pair_params, pair_opt, copied, "stepping the original", call)
