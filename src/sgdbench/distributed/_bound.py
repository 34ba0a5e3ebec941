r"""How far DDP's gradient may be from the single-process one: the change of summation order.

With k ranks, per-rank batch b and the mean loss, rank r computes ĝ_r = (1/b)·Σ_{i∈B_r} t_i
(t_i: sample i's gradient), DDP divides by k and sums the k results; single-process SGD on the
same N = k·b samples computes (1/N)·Σ_i t_i in one sum. In exact arithmetic the two are equal
(Algorithm 11 with batch N). In floating point they differ only by rounding: the same terms
added in another order, and each sample's forward and backward pass run by kernels of another
batch shape (which may order a dot product differently or fuse a multiply-add).

**The bound.** Every quantity is a straight-line program of sums and products with a softmax at
the end, so to first order its rounding error is at most γ_K = K·u/(1 − K·u) times the *same
program run on absolute values* (Higham, *Accuracy and Stability of Numerical Algorithms*, §3),
where K is the longest chain of roundings behind one result:

    K = (N + 4)                      the batch sum, 1/b or 1/N, ÷k, the k-term all-reduce sum
      + Σ_l (fan_in_l + 1 + fan_out_l)  each layer's forward dot product and bias, backward dot
      + C + 8                        the softmax and cross-entropy (exp, C-term sum, log, ÷)

:func:`magnitudes` runs that absolute-value program for an MLP: activations A_l = relu-mask ⊙
(|W_l|·A_{l−1} + |c_l|) from |x|, output deltas (p + y + max|z|)/N (the terms p − y subtracts,
plus the logits' own error passed through the softmax, whose Jacobian has ∞-norm ≤ 1), and
deltas passed back through |W_l|. Each of the two computations is within γ_K·G of the exact
gradient (G: the magnitudes), so they differ by at most **2·γ_K·G** (+ 2·tiny for underflow).

An optimizer step from the same state turns a gradient difference Δg into Δθ ≤ γ·(1 + μ)·Δg
(SGD: the gradient enters the update once, and once more through the buffer for Nesterov; λ and
τ only shrink it), plus one rounding landing differently in each of at most 8 operations:
8u·(|θ| + γ·(|v| + |g| + λ|θ|)). The buffer: Δv ≤ Δg + 8u·(|v| + |g| + λ|θ|). In float32 the
bound comes to about 1e-5 of the gradient's scale for N = 32; the bugs it is there for (a rank
that keeps its local gradient, a gradient k times too large) move it by its own size.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["chain_length", "gamma", "magnitudes"]


def gamma(k: int, u: float) -> float:
    """γ_k = k·u/(1 − k·u), u the unit roundoff (``Variant.unit_roundoff``)."""
    return k * u / (1 - k * u)


def _linears(model: nn.Module) -> list[nn.Linear]:
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise TypeError("the distributed checks need an MLP of nn.Linear layers")
    return layers


def chain_length(model: nn.Module, n: int) -> int:
    """K: the longest chain of roundings behind one gradient element (see the module)."""
    layers = _linears(model)
    classes = layers[-1].out_features
    per_layer = sum(m.in_features + 1 + m.out_features for m in layers)
    return n + 4 + per_layer + classes + 8


@torch.no_grad()
def magnitudes(model: nn.Module, X: Tensor, y: Tensor, *, reduction: str) -> list[Tensor]:
    """G: the gradient of the cross-entropy run on absolute values, in parameter order."""
    layers = _linears(model)
    acts, masks = [X.abs()], []
    a = X
    for i, lin in enumerate(layers):
        z = a @ lin.weight.T + lin.bias
        Z = acts[-1] @ lin.weight.abs().T + lin.bias.abs()
        if i < len(layers) - 1:
            mask = (z > 0).to(X.dtype)
            masks.append(mask)
            a = torch.relu(z)
            acts.append(Z * mask)
    p = torch.softmax(z, dim=1)
    onehot = torch.nn.functional.one_hot(y, p.shape[1]).to(X.dtype)
    scale = 1.0 / len(y) if reduction == "mean" else 1.0
    D = (p + onehot + Z.max(dim=1, keepdim=True).values) * scale
    out: list[Tensor] = []
    for i in reversed(range(len(layers))):
        out = [D.T @ acts[i], D.sum(0), *out]
        if i > 0:
            D = (D @ layers[i].weight.abs()) * masks[i - 1]
    return out
