"""The inputs a training loop feeds a dropout beside float32/64 contiguous batches: bfloat16 and
float16 (mixed precision), non-contiguous and channels_last views, and empty batches.

As everywhere in the dropout checks, every call gets a fresh input and outputs are compared
with a separate copy of it, so an in-place dropout is judged right.
"""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st
from torch import Tensor

from sgdbench.conformance._impl import DropoutUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance.dropout._harness import (
    Case,
    _activations,
    _assert_scaled,
    _calling,
    _check,
    _same,
    forward_backward,
    randn_nonzero,
    seeds,
)

# Half precision: p ≤ 0.9 keeps 1/(1 − p) ≤ 10, so x/(1 − p) with |x| ≤ 2¹⁰ stays below
# float16's largest finite 65504 and (|x| ≥ 2⁻¹⁰) above its smallest normal 2⁻¹⁴.
LOW_PRECISION = (torch.bfloat16, torch.float16)
LOW_P_MAX = 0.9


@_check(
    "low_precision",
    'Algorithm 12 in bfloat16 and float16: "1/(1 − p)·1_u ∘ h" with dropped units exactly 0 and '
    "kept units x/(1 − p) to the dtype's rounding; torch.nn.Dropout keeps the input's dtype, and "
    '"in evaluation mode, the dropout layer is letting through the input"',
    cases=lambda impl, v: st.builds(
        lambda case, p: {**case, "p": p},
        _activations(impl, Variant(v.device, "float32"), nonzero=True, batched=True),
        st.one_of(st.just(0.0), st.floats(0.01, LOW_P_MAX)),
    ),
)
def low_precision(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """Runs in bfloat16 and float16 whatever the variant's dtype (which names float32/64 only;
    the variant gives the device). x: non-zero values exact in the dtype. The output's dtype
    is x's, eval() returns x bitwise, and each non-zero output unit is x/(1 − p) within
    _assert_scaled's 4u + 2u₆₄ with u the dtype's unit roundoff (2⁻⁸, 2⁻¹¹). Not bit for bit
    even when declared bitwise: whether a kernel rounds 1/(1 − p) in the dtype or through
    float32 is not documented."""
    p = case["p"]
    for dtype in LOW_PRECISION:
        x32 = torch.tensor(case["x"], dtype=torch.float32, device=variant.device)
        x = x32.reshape(case["shape"]).to(dtype)
        call = f"{impl.name}(x: {dtype}, p={p}) {variant.device}"
        torch.manual_seed(case["seed"])
        out = _calling("a train() call", call, impl.apply, x.clone(), p)
        ev = _calling("an eval() call", call, impl.apply, x.clone(), p, False)
        for mode, got in (("train()", out), ("eval()", ev)):
            if got.dtype != dtype or got.shape != x.shape:
                raise AssertionError(
                    f"{mode} output is {got.dtype} of shape {list(got.shape)}, but should be "
                    f"{dtype} (the input's dtype) of shape {list(x.shape)} [{call}]"
                )
        _same("eval() output (should be x)", ev, x, call)
        kept = out != 0
        if kept.any():
            _assert_scaled("non-zero (kept) units", out[kept], x[kept], p, False, call)


def _layouts(rank: int) -> list[str]:
    """The non-contiguous layouts a rank-``rank`` input can come in."""
    named = {4: ["channels_last"], 5: ["channels_last_3d"]}.get(rank, [])
    return (["transposed"] if rank >= 2 else []) + ["strided"] + named


def _laid_out(x: Tensor, layout: str) -> Tensor:
    """A fresh tensor with x's values in ``layout`` (every dimension of x has size ≥ 2)."""
    if layout == "transposed":  # the last two dimensions swapped in memory
        return x.transpose(-1, -2).contiguous().transpose(-1, -2)
    if layout == "strided":  # every other element of a base whose gaps hold nan
        base = x.new_full([*x.shape[:-1], 2 * x.shape[-1]], math.nan)
        base[..., ::2] = x
        return base[..., ::2]
    fmt = torch.channels_last if layout == "channels_last" else torch.channels_last_3d
    return x.contiguous(memory_format=fmt)


@_check(
    "layouts",
    'torch.nn.Dropout: "Input: (*). Input can be of any shape; Output: (*). Output is of the '
    'same shape as input", in any memory layout: on a transposed or strided view and on '
    'channels_last inputs, Algorithm 12\'s "1/(1 − p)·1_u ∘ h" holds unit by unit',
    cases=lambda impl, v: st.fixed_dictionaries(
        {
            "shape": st.lists(st.integers(2, 4), min_size=impl.rank, max_size=impl.rank),
            "p": st.one_of(st.just(0.0), st.floats(0.0, 0.95)),
            "seed": seeds,
        }
    ),
)
def layouts(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """x (non-zero values) as a transposed view (rank ≥ 2), every other element of a larger
    tensor (any rank), and channels_last (rank 4) or channels_last_3d (rank 5). For each: the
    output has x's shape; dropped units are exactly 0 and kept ones x/(1 − p) (bitwise when
    declared, else within 4u + 2u₆₄), p = 0 gives x bitwise; and the input is unchanged,
    unless the implementation is declared in-place."""
    p, x = case["p"], randn_nonzero(case["shape"], case["seed"], variant)
    inplace = getattr(impl, "inplace", False)
    for layout in _layouts(impl.rank):
        inp = _laid_out(x, layout)
        call = f"{impl.name}(x {layout}, strides {tuple(inp.stride())}, p={p}) {variant}"
        torch.manual_seed(case["seed"])
        out = _calling("the call", call, impl.apply, inp, p)
        if out.shape != x.shape:
            raise AssertionError(
                f"output has shape {list(out.shape)}, but should have x's {list(x.shape)} [{call}]"
            )
        if not inplace:
            _same("the input after the call (not declared in-place)", inp, x, call)
        if p == 0.0:
            _same("dropout(x, p=0) (should be x)", out, x, call)
        kept = out != 0
        if kept.any():
            _assert_scaled("non-zero (kept) units", out[kept], x[kept], p, impl.bitwise, call)


@_check(
    "empty",
    'torch.nn.Dropout: "Input: (*). Input can be of any shape; Output: (*). Output is of the '
    'same shape as input": an empty batch (a 0-size first dimension, as a last partial batch '
    "can be) gives an empty output, in train and eval, with an empty gradient",
    cases=lambda impl, v: st.fixed_dictionaries(
        {
            "unit": st.lists(st.integers(1, 4), min_size=impl.rank - 1, max_size=impl.rank - 1),
            "p": st.floats(0.1, 0.9),
        }
    ),
)
def empty(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """x of shape (0, …): no exception, out has x's shape and dtype, ∂⟨g, out⟩/∂x has x's
    shape; both in train() and in eval()."""
    p, shape = case["p"], [0, *case["unit"]]
    x = torch.zeros(shape, dtype=variant.torch_dtype, device=variant.device)
    for training in (True, False):
        call = f"{impl.name}(zeros({shape}), p={p}, training={training}) {variant}"
        out, grad = forward_backward(impl, x, p, torch.zeros_like(x), training, call)
        if out.shape != x.shape or out.dtype != x.dtype:
            raise AssertionError(
                f"output is {out.dtype} of shape {list(out.shape)}, but should be {x.dtype} of "
                f"shape {shape} [{call}]"
            )
        if grad.shape != x.shape:
            raise AssertionError(
                f"∂⟨g, out⟩/∂x has shape {list(grad.shape)}, but should have {shape} [{call}]"
            )


__all__ = ["empty", "layouts", "low_precision"]
