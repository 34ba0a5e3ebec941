"""What a training loop relies on from a dropout: one layer switched between train() and eval()
and back, p at its ends (0 and 1) with the gradient through it, and invalid p refused.

Every call gets a fresh input (a clone), outputs are compared with a separate copy of the
input, and gradients are taken w.r.t. a leaf whose clone is passed in: an in-place dropout is
judged as right as any other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import torch
from hypothesis import strategies as st
from torch import Tensor

from sgdbench.conformance._impl import DropoutUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance.dropout._harness import (
    Case,
    _activations,
    _calling,
    _check,
    _same,
    _x,
    forward_backward,
    randn_nonzero,
    seeds,
)

T = TypeVar("T")

# The round trip: small inputs; eval phases make EVAL_CALLS calls, train phases call until an
# output differs from the first, at most TRAIN_CALLS times (see round_trip's bound).
ROUND_TRIP_SHAPES = {1: [64], 2: [16, 8], 3: [8, 4, 4], 4: [8, 2, 4, 4], 5: [4, 2, 2, 4, 4]}
EVAL_CALLS, TRAIN_CALLS = 2, 220
# What an invalid p may raise: ValueError is torch's documented type (F.dropout and
# nn.Dropout: "dropout probability has to be between 0 and 1, but got 1.5"); RuntimeError is
# what torch itself raises for p = nan (its Python test `p < 0 or p > 1` lets nan through and
# ATen's TORCH_CHECK refuses it at the call) and what a C++ or Triton kernel's check raises.
INVALID_P_RAISES = (ValueError, RuntimeError)


@_check(
    "round_trip",
    '"In training mode, the dropout layer is on and the model output is not deterministic. In '
    'evaluation mode, the dropout layer is letting through the input": one layer taken train → '
    "eval → train and eval → train → eval is random in every train phase and the identity in "
    "every eval phase",
    cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.1, 0.9), "seed": seeds}),
)
def round_trip(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """One layer (``impl.layer(p)``; a function goes through its ``training`` argument, call
    after call) switched with train()/eval(), each call on a fresh copy of x (positive
    values). Eval phases: two outputs, each bitwise x. Train phases: an output that differs
    from the phase's first within K = 220 calls (Megatron-LM PR #411: a layer that stays off
    after one eval() forward returns x every time).

    Assumption: each call draws at least once, independently of other calls, and the draw
    shows in the output (true of Algorithm 12, of channel and per-sample dropout, and of a
    dropout that drops the whole input at once). K calls then all agree with probability
    ≤ p^K + (1 − p)^K ≤ 0.9^220 < 1e-10 on p ∈ [0.1, 0.9]: ≤ 3e-10 over the three train
    phases, below the 1e-9 false-alarm budget. A correct dropout differs at the 2nd call
    almost always, so the 220 calls are paid only by a layer that fails."""
    p, shape = case["p"], ROUND_TRIP_SHAPES[impl.rank]
    x = randn_nonzero(shape, case["seed"], variant).abs() + 0.5  # positive: never SELU's α′ either
    chance = 3 * (p**TRAIN_CALLS + (1 - p) ** TRAIN_CALLS)
    torch.manual_seed(case["seed"])
    for modes in (("train", "eval", "train"), ("eval", "train", "eval")):
        layer = impl.layer(p)
        for i, mode in enumerate(modes, 1):
            layer.train(mode == "train")
            call = f"{impl.name}: one layer(p={p}), {' → '.join(modes)}, phase {i} {variant}"
            with torch.no_grad():
                first = _calling(f"{mode}() call 1", call, layer, x.clone())
                if mode == "eval":
                    _same("eval() output 1 (should be x)", first, x, call)
                    for k in range(2, EVAL_CALLS + 1):
                        out = _calling(f"eval() call {k}", call, layer, x.clone())
                        _same(f"eval() output {k} (should be x)", out, x, call)
                    continue
                for k in range(2, TRAIN_CALLS + 1):
                    out = _calling(f"train() call {k}", call, layer, x.clone())
                    if not torch.equal(out, first):
                        break
                else:
                    raise AssertionError(
                        f"{TRAIN_CALLS} train() outputs all equal"
                        f"{' x' if torch.equal(first, x) else ''}: the layer stopped dropping "
                        f"(a random dropout does this with probability ≤ {chance:.1g}) [{call}]"
                    )


@_check(
    "p_one_grad",
    "torch.nn.functional.dropout: p = 1 zeroes every unit, so the gradient through the layer is "
    "0 everywhere, and finite (no 0/0 or 0·∞ from the chapter's 1/(1 − p), undefined there)",
    cases=lambda impl, v: _activations(impl, v, nonzero=True, batched=True),
)
def p_one_grad(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """∂⟨g, dropout(x, p=1)⟩/∂x for a random upstream g is exactly 0 (so finite). The output
    itself is ``p_one``'s statement; this check adds the gradient, which p_one never takes."""
    x = _x(case, variant)
    g = randn_nonzero(list(x.shape), case["seed"], variant)
    call = f"{impl.name}(x, p=1.0), ∂⟨g, out⟩/∂x {variant}"
    torch.manual_seed(case["seed"])
    _, grad = forward_backward(impl, x, 1.0, g, True, call)
    if not torch.equal(grad, torch.zeros_like(grad)):
        bad = int((~grad.isfinite()).sum())
        raise AssertionError(
            f"∂⟨g, dropout(x, p=1)⟩/∂x = {grad.flatten()[:4].tolist()}… ({bad} of "
            f"{grad.numel()} not finite), but should be exactly 0: every unit is dropped [{call}]"
        )


@_check(
    "p_zero",
    'Algorithm 12 with p = 0: "1_u ← u > 0" keeps every unit and 1/(1 − 0) = 1, so the layer '
    "is the identity in training mode, its gradient included",
    cases=lambda impl, v: _activations(impl, v, nonzero=False, batched=True),
)
def p_zero(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """In train(): dropout(x, p=0) is bitwise x, and ∂⟨g, out⟩/∂x is bitwise g for a random
    upstream g (g = 1: ∂Σout/∂x = 1). Exact: no rounding is allowed where nothing is scaled."""
    x = _x(case, variant)
    g = randn_nonzero(list(x.shape), case["seed"], variant)
    call = f"{impl.name}(x, p=0.0, training=True), ∂⟨g, out⟩/∂x {variant}"
    torch.manual_seed(case["seed"])
    out, grad = forward_backward(impl, x, 0.0, g, True, call)
    _same("dropout(x, p=0) (should be x)", out, x, call)
    _same("∂⟨g, dropout(x, p=0)⟩/∂x (should be g)", grad, g, call)


def _invalid_p() -> st.SearchStrategy[float | str]:
    """p < 0, p > 1, or nan / ±inf (as strings, so that a replay snippet is valid Python)."""
    return st.one_of(
        st.floats(max_value=-math.ulp(0.0), allow_infinity=False),  # below 0 (and not -0.0)
        st.floats(min_value=math.nextafter(1.0, 2.0), allow_infinity=False),
        st.sampled_from(["nan", "inf", "-inf"]),
    )


@_check(
    "invalid_p",
    'torch.nn.Dropout and F.dropout: "dropout probability has to be between 0 and 1, but got '
    '…" (ValueError); p is a probability, so p < 0, p > 1 and nan are refused',
    cases=lambda impl, v: st.fixed_dictionaries({"p": _invalid_p()}),
)
def invalid_p(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """The refusal may come at construction (nn.Dropout) or at the first training-mode call
    (F.dropout; nn.Dropout(nan), which torch constructs and refuses at the call): either stops
    a training run before it trains on a meaningless mask. Accepted: ValueError (torch's
    documented type) and RuntimeError (torch's own for nan, a kernel check's). Not accepted:
    AssertionError (an `assert`, which python -O removes) or any other type, which says
    nothing about p."""
    p = float(case["p"])
    x = torch.ones([2] * impl.rank, dtype=variant.torch_dtype, device=variant.device)
    call = f"{impl.name}: layer(p={p}) then a train() call {variant}"

    def refused(stage: str, fn: Callable[[], T]) -> tuple[bool, T | None]:
        try:
            return False, fn()
        except INVALID_P_RAISES:
            return True, None
        except Exception as e:
            raise AssertionError(
                f"{stage} with p={p} raised {type(e).__name__}: {e}, but should raise "
                f"ValueError as torch does (or RuntimeError) [{call}]"
            ) from e

    done, layer = refused("construction", lambda: impl.layer(p))
    if done or layer is None:
        return
    done, out = refused("the train() call", lambda: layer.train()(x.clone()))
    if not done:
        shown = out.flatten()[:4].tolist() if isinstance(out, Tensor) else out
        raise AssertionError(
            f"p={p} was accepted: dropout(ones, p={p}) returned {shown}…, but should raise "
            f"ValueError('dropout probability has to be between 0 and 1, but got {p}') as torch "
            f"does [{call}]"
        )


__all__ = ["invalid_p", "p_one_grad", "p_zero", "round_trip"]
