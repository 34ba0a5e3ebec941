"""What the chapter's training loop calls on every step, over more than one param group.

The loop is ``optimizer.zero_grad(); loss.backward(); optimizer.step()`` (the chapter's
training loop; micrograd's and nanoGPT's too). ``step`` is checked per group by
:func:`.contract.param_groups`; ``zero_grad`` is checked here, on groups given at construction
and a group added with ``add_param_group`` mid-run, because an override that walks only the
first group (or only the groups it had at construction) passes every one-group check while the
other groups' gradients accumulate across steps.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from sgdbench.conformance._impl import OptimizerUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance.optimizer._harness import (
    Case,
    _call,
    _check,
    _values,
    configs,
    hyper,
    parameters,
    tensors,
)


@st.composite
def _grouped(draw: st.DrawFn, impl: OptimizerUnderTest) -> Case:
    case = draw(configs(impl, (1, 3)))
    case["shapes"] = [*case["shapes"], [2], [3]][: max(3, len(case["shapes"]))]
    case["set_to_none"] = draw(st.sampled_from([None, True, False]), label="set_to_none")
    return case


@_check(
    "zero_grad",
    "the chapter's loop calls optimizer.zero_grad() before every backward(): "
    "torch.optim.Optimizer.zero_grad() clears p.grad (None, torch's default, or zeros) for "
    "every parameter of every param group, a group added by add_param_group too; "
    "set_to_none=False zeroes it; checked with groups given at construction and one "
    "added mid-run",
    cases=lambda impl, v: _grouped(impl),
)
def zero_grad(impl: OptimizerUnderTest, case: Case, variant: Variant) -> None:
    theta0, grads = tensors(case, variant)
    kwargs = hyper(impl, **_values(case))
    params = parameters(theta0, variant)
    *first, last = params
    # two groups at construction (the second with its own lr), a third added after a step
    groups = [{"params": first[:1]}, {"params": first[1:], "lr": kwargs["lr"] / 2}]
    opt = impl.make(groups, **kwargs)
    how = case["set_to_none"]
    arg = "" if how is None else f"set_to_none={how}"
    call = f"{_call(impl, kwargs)}, 3 param groups (the last added after step 1), zero_grad({arg})"
    for t, step in enumerate(grads):
        for p, g in zip(params, step, strict=True):
            p.grad = None if g is None else g.to(variant.device).clone()
        opt.step()
        if t == 0:
            opt.add_param_group({"params": [last]})
            last.grad = torch.ones_like(last)
        had = [p.grad is not None for p in params]
        opt.zero_grad() if how is None else opt.zero_grad(set_to_none=how)
        for k, group in enumerate(opt.param_groups):
            where = f"group {k} of {len(opt.param_groups)}"
            for p in group["params"]:
                i = next(j for j, q in enumerate(params) if q is p)
                if p.grad is None:
                    if how is False and had[i]:
                        raise AssertionError(
                            f"θ[{i}] ({where}).grad is None after zero_grad(set_to_none=False) "
                            f"at step {t + 1}, but should be zeros, in place [{call}]"
                        )
                elif bool((p.grad != 0).any()):
                    raise AssertionError(
                        f"θ[{i}] ({where}).grad still holds the last gradient after "
                        f"zero_grad({arg}) at step {t + 1}; it should be "
                        f"{'zeros' if how is False else 'None (or zeros)'}: the next backward() "
                        f"would add to it [{call}]"
                    )
