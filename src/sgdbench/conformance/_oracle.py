r"""The update every optimizer check compares with, in float64, with a bound on its rounding.

The recursion is Algorithm 11's step with torch.optim.SGD's documented momentum and weight
decay (the same lines as :mod:`sgdbench.reference.sgd`; γ = lr, λ = weight_decay, μ = momentum,
τ = dampening)::

    g ← −∇ if maximize else ∇                                  [1]
    d ← g + λθ             (coupled weight decay; else d ← g)   [2]
    b ← d at the first step, else μb + (1 − τ)d                 [3, 4]
    v ← d + μb if nesterov, b if μ ≠ 0, d otherwise             [5, 6]
    θ ← θ − γv             (decoupled: θ ← θ − γλθ − γv)         [7]

**The tolerance, derived.** The checks feed the gradients themselves (p.grad is set, not
computed from θ), so the recursion is linear in its inputs and rounding errors are not
amplified by a loss surface. Each line has the form a + c·x. Computed in a dtype with unit
roundoff u (2⁻²⁴ for float32, 2⁻⁵³ for float64, 2⁻⁸ for bfloat16, 2⁻¹¹ for float16;
one per parameter where a group mixes them), in any order a correct implementation may
choose (c rounded to the dtype, the product, the sum; 1 − γλ formed first; a fused
multiply-add), it is off from the exact value by at most ``C·u·(|a| + |c·x|)`` plus what the
errors already in a and x carry (first order; C = 8 covers up to five roundings per line with
room for the second-order terms), and by at most ``C·tiny`` more where a product underflows.
:func:`trajectory` carries that bound E along with the exact values, element by element. An
implementation and this float64 oracle each stay within E of the exact recursion, so they may
differ by at most 2E: that is the tolerance. It is about 1e-6 relative in float32 after a few
steps, far below what any of the bugs the checks are for changes (τ·γ·|g| for a dampened first
step, γλ|θ| for misplaced decay, a whole momentum term for a reset buffer).

**Hyper-parameters that change between steps** (Algorithm 11's η_t; a learning-rate scheduler,
or a hand edit of ``param_groups``): :func:`trajectory` also takes one setting per step. Every
line above is still of the form a + c·x, with step t's γ, μ, τ, λ as its constants, so the
same per-line bound applies step by step and E stays valid; nothing in it assumed that the
constants of one step equal those of another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import torch
from torch import Tensor

__all__ = ["C", "Hyper", "Step", "trajectory"]

C = 8.0


@dataclass(frozen=True)
class Hyper:
    """One param group's hyper-parameters, as the oracle reads them."""

    lr: float
    momentum: float = 0.0
    dampening: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    maximize: bool = False
    decoupled: bool = False


@dataclass
class Step:
    """θ after one step (float64, exact up to the oracle's own rounding) and its bound E."""

    theta: list[Tensor]
    bound: list[Tensor]


def trajectory(
    theta0: list[Tensor],
    grads: list[list[Tensor | None]],
    hyper: Sequence[Hyper] | Sequence[Sequence[Hyper]],
    dtype: torch.dtype | Sequence[torch.dtype],
) -> list[Step]:
    """θ after every step, and the rounding bound of an implementation computing in ``dtype``.

    ``grads[t][i]`` is parameter i's gradient at step t (None: it sits the step out, its state
    untouched); ``hyper[i]`` is parameter i's group's settings, the same at every step, or
    ``hyper[t][i]`` its settings at step t (one list per step: a scheduler's η_t, μ_t).
    ``dtype`` is every parameter's dtype, or one per parameter (a param group mixing float32,
    bfloat16 and float16: each parameter's bound takes its own unit roundoff u = eps/2, 2⁻⁸ for
    bfloat16, 2⁻¹¹ for float16, and its own smallest normal for ``tiny``).
    """
    per_step: Sequence[Sequence[Hyper]]
    if all(isinstance(h, Hyper) for h in hyper):
        per_step = [cast(Sequence[Hyper], hyper)] * len(grads)
    else:
        per_step = cast(Sequence[Sequence[Hyper]], hyper)
        if len(per_step) != len(grads):
            raise ValueError(
                f"hyper has settings for {len(per_step)} steps, but grads has {len(grads)}"
            )
    dtypes = [dtype] * len(theta0) if isinstance(dtype, torch.dtype) else list(dtype)
    units = [torch.finfo(d).eps / 2 for d in dtypes]
    tinies = [C * torch.finfo(d).tiny for d in dtypes]
    theta = [t.detach().to("cpu", torch.float64).clone() for t in theta0]
    err = [torch.zeros_like(t) for t in theta]
    buf: list[Tensor | None] = [None] * len(theta)
    buf_err: list[Tensor] = [torch.zeros_like(t) for t in theta]
    out = []
    for step, settings in zip(grads, per_step, strict=True):
        for i, grad in enumerate(step):
            if grad is None:
                continue
            h, u, tiny = settings[i], units[i], tinies[i]
            th, e_th = theta[i], err[i]
            g = grad.to("cpu", torch.float64)
            g = -g if h.maximize else g  # [1] exact
            if h.weight_decay and not h.decoupled:  # [2]
                d = g + h.weight_decay * th
                e_d = h.weight_decay * e_th + C * u * (g.abs() + h.weight_decay * th.abs()) + tiny
            else:
                d, e_d = g, torch.zeros_like(g)
            if h.momentum:
                b = buf[i]
                if b is None:  # [3] the first buffer is the gradient itself, undampened
                    b, e_b = d.clone(), e_d.clone()
                else:  # [4]
                    keep = abs(1 - h.dampening)
                    e_b = (
                        h.momentum * buf_err[i]
                        + keep * e_d
                        + C * u * (h.momentum * b.abs() + keep * d.abs())
                        + tiny
                    )
                    b = h.momentum * b + (1 - h.dampening) * d
                buf[i], buf_err[i] = b, e_b
                if h.nesterov:  # [5]
                    v = d + h.momentum * b
                    e_v = e_d + h.momentum * e_b + C * u * (d.abs() + h.momentum * b.abs()) + tiny
                else:  # [6]
                    v, e_v = b, e_b
            else:
                v, e_v = d, e_d
            if h.weight_decay and h.decoupled:  # [7], decoupled: θ − γλθ − γv
                shrink = h.lr * h.weight_decay
                theta[i] = th - shrink * th - h.lr * v
                err[i] = (
                    e_th * (1 + shrink)
                    + h.lr * e_v
                    + C * u * ((1 + shrink) * th.abs() + h.lr * v.abs())
                    + tiny
                )
            else:  # [7]
                theta[i] = th - h.lr * v
                err[i] = e_th + h.lr * e_v + C * u * (th.abs() + h.lr * v.abs()) + tiny
        out.append(Step([t.clone() for t in theta], [e.clone() for e in err]))
    return out
