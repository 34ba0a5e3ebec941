"""The batched matrix products, each bitwise the per-seed product autograd forms for one network.

See :mod:`sgdbench.stacked` for why these layouts and this fallback.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["batched_is_single", "linear", "mm"]

# bmm_out_or_baddbmm_ computes products with contraction·rows·cols below this with its own
# loop instead of the per-matrix GEMM (aten/src/ATen/native/LinearAlgebra.cpp); above it, MKL's
# strided batched GEMM, which differs from the single GEMM when a dimension is 1 (a
# matrix-vector product; measured: every mismatch of a sweep of shapes had k = 1 or n = 1).
_BMM_OWN_LOOP_BELOW = 400


def batched_is_single(m: int, k: int, n: int) -> bool:
    """Whether torch.bmm of ``[S, m, k] @ [S, k, n]`` is bitwise S calls of torch.mm."""
    return min(m, k, n) > 1 and m * k * n >= _BMM_OWN_LOOP_BELOW


def _per_seed(t: Tensor) -> list[Tensor]:
    """``t``'s seeds, each in memory of its own where it has its own (a stride-0 operand, the
    batch all seeds share, stays one view): the single run's operand is a fresh, aligned
    allocation, and MKL's small GEMM rounds differently on an unaligned slice (seed 1 of a
    stack of 9×3 gradients, at byte 108, differed by 2.3e-10 on an AVX-512 host)."""
    if t.stride(0) == 0:
        return list(t)
    return [x.clone() for x in t]


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Per seed ``a[s] @ b[s]`` with the GEMM ``torch.mm`` would call (see the module doc)."""
    if batched_is_single(a.shape[1], a.shape[2], b.shape[2]):
        return torch.bmm(a, b)
    pairs = zip(_per_seed(a), _per_seed(b), strict=True)
    return torch.stack([torch.mm(x, y) for x, y in pairs])


def linear(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """Per seed ``F.linear(x[s], w[s], b[s])``, i.e. ``addmm(b, x, w.t())``."""
    wt = w.transpose(1, 2)
    if batched_is_single(x.shape[1], x.shape[2], w.shape[1]):
        return torch.baddbmm(b.unsqueeze(1), x, wt)
    triples = zip(_per_seed(b), _per_seed(x), _per_seed(wt), strict=True)
    return torch.stack([torch.addmm(c, m, n) for c, m, n in triples])
