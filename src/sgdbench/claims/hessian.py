"""The top eigenvalue of the Hessian of the training loss, from Hessian-vector products.

Used by the sharp-against-flat claim (section "Properties of SGD": "Generally, sharp minima are
considered as less desirable since they are associated with poor generalization"). Sharpness is
λ_max(∇²L(θ)), the largest eigenvalue of the Hessian of the full training loss
L(θ) = (1/n) Σ ℓ(f_θ(x_i), y_i) at the trained weights θ.

The Hessian is never formed: ``hvp(v) = ∇²L(θ) v`` is reverse-over-reverse differentiation
(``torch.func.vjp`` of ``torch.func.grad``; forward-over-reverse, ``torch.func.jvp``, would do
too, but torch 2.13's forward-mode decompositions call the deprecated ``torch.jit.script``,
which warns on first use), in float64 so that the eigen-solver's tolerance is
not below float32's rounding. Power iteration finds the eigenvalue of largest *magnitude* λ_d;
if λ_d < 0 (a saddle, or a large negative curvature), it is run again on H − λ_d·I, which is
positive semi-definite with dominant eigenvalue λ_max − λ_d. ReLU's second derivative is taken
as 0, as autograd does; ``tests/test_claims.py`` checks the result against
``torch.autograd.functional.hessian`` and ``torch.linalg.eigvalsh`` on a small network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["Eigen", "hessian_operator", "power_iteration", "top_eigenvalue"]

TOL = 1e-6  # relative change of the Rayleigh quotient between iterations at which we stop
MAX_ITER = 2000


@dataclass(frozen=True)
class Eigen:
    """An eigenvalue estimate: the value, the iterations it took, whether ``tol`` was met."""

    value: float
    iterations: int
    converged: bool


def hessian_operator(
    model: nn.Module, X: Tensor, y: Tensor
) -> tuple[Tensor, Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """(θ, v ↦ ∇²L(θ)v, L) for the cross-entropy of ``model`` on (X, y), θ flattened, float64.

    ``model`` is only read (``torch.func.functional_call`` swaps the parameters in); it should
    be in eval mode if it has dropout.
    """
    named = {k: v.detach() for k, v in model.named_parameters()}
    names = list(named)
    shapes = [named[k].shape for k in names]
    sizes = [named[k].numel() for k in names]
    theta = torch.cat([named[k].flatten() for k in names]).double()
    X64 = X.double()

    def loss(flat: Tensor) -> Tensor:
        params = {
            k: c.view(s) for k, c, s in zip(names, torch.split(flat, sizes), shapes, strict=True)
        }
        return F.cross_entropy(torch.func.functional_call(model, params, (X64,)), y)

    # vᵀ∇²L = (∇²L v)ᵀ: the Hessian is symmetric, so a vector-Jacobian product of the gradient
    # is the HVP. Reverse over reverse, built once and reused for every v.
    vjp = torch.func.vjp(torch.func.grad(loss), theta)[1]

    def hvp(v: Tensor) -> Tensor:
        out: Tensor = vjp(v)[0]
        return out

    return theta, hvp, loss


def power_iteration(
    hvp: Callable[[Tensor], Tensor],
    dim: int,
    *,
    shift: float = 0.0,
    tol: float = TOL,
    max_iter: int = MAX_ITER,
    seed: int = 0,
) -> Eigen:
    """Dominant eigenvalue of H − shift·I by power iteration, H given as ``hvp``.

    v₀ ~ N(0, I) from ``seed``, v ← w/‖w‖ with w = (H − shift·I)v; the estimate is the Rayleigh
    quotient vᵀ(H − shift·I)v; stop when it changes by at most ``tol`` × its size. The
    returned value is that of H (the shift added back).
    """
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn(dim, generator=gen, dtype=torch.float64)
    v /= v.norm()
    previous = None
    for i in range(1, max_iter + 1):
        w = hvp(v) - shift * v
        estimate = float(v @ w)
        norm = w.norm()
        if norm == 0:  # v is in the null space: H − shift·I is 0 along every direction tried
            return Eigen(shift, i, True)
        v = w / norm
        if previous is not None and abs(estimate - previous) <= tol * max(abs(estimate), 1e-30):
            return Eigen(estimate + shift, i, True)
        previous = estimate
    assert previous is not None  # max_iter ≥ 1
    return Eigen(previous + shift, max_iter, False)


def top_eigenvalue(
    hvp: Callable[[Tensor], Tensor], dim: int, *, tol: float = TOL, seed: int = 0
) -> Eigen:
    """λ_max (the largest, not the largest in magnitude) of the symmetric H given as ``hvp``."""
    dominant = power_iteration(hvp, dim, tol=tol, seed=seed)
    if dominant.value >= 0:
        return dominant  # |λ_d| ≥ |λ| for every λ, so λ_d ≥ every λ
    shifted = power_iteration(hvp, dim, shift=dominant.value, tol=tol, seed=seed)
    return Eigen(shifted.value, dominant.iterations + shifted.iterations, shifted.converged)
