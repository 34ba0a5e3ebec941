r"""RAdam (Liu et al., 2020), as torch.optim.RAdam documents it.

With γ (lr), β₁, β₂ (betas), ε (eps), λ (weight_decay)::

    g ← −g if maximize;  g ← g + λθ (coupled)  or  θ ← θ − γλθ (decoupled_weight_decay)
    m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  m̂ ← m / (1 − β₁ᵗ)
    ρ_∞ ← 2/(1 − β₂) − 1,   ρ_t ← ρ_∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)
    if ρ_t > 5:   r_t ← √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))    (rectification)
                  θ ← θ − γ m̂ r_t √(1 − β₂ᵗ) / (√v + ε)       (ε outside √v, before the
                                                              bias correction: not Adam's ε)
    else:         θ ← θ − γ m̂                                 (SGD with momentum)

The threshold 5 is compared in exact arithmetic here; a drawn β₂ whose ρ_t lies within the
scalars' rounding of 5 is not drawn (:data:`NEAR_THRESHOLD`), so the branch is never a coin
toss between oracle and implementation.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from sgdbench.conformance.algorithms._bounded import B, C, Units
from sgdbench.conformance.algorithms._pieces import bias_correction, decay, gradient, moments
from sgdbench.conformance.algorithms._spec import Adaptive, Algorithm, adaptive_trajectory

__all__ = ["NEAR_THRESHOLD", "RADAM", "rho", "step"]

NEAR_THRESHOLD = 1e-3  # |ρ_t − 5| below this: ambiguous in float32 scalars; not drawn


def rho(beta2: float, t: int) -> tuple[float, float]:
    """(ρ_∞, ρ_t): the length of the approximated simple moving average, and at step t."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf, rho_inf - 2 * t * beta2**t / (1 - beta2**t)


def rectification(beta2: float, t: int) -> float | None:
    """r_t where ρ_t > 5 (the adaptive step), None where torch takes the momentum step."""
    rho_inf, rho_t = rho(beta2, t)
    if rho_t <= 5:
        return None
    return math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))


def step(theta: B, g: B, state: dict[str, Any], h: Adaptive, t: int, un: Units) -> B:
    """One RAdam step of one parameter (the docstring's lines, in order)."""
    g = gradient(g, h)
    theta, g = decay(theta, g, h, un)
    m, v = moments(state, g, h, un)
    bc1, r1 = bias_correction(h.betas[0], t, un)
    m_hat = m.scale(1 / bc1, un, rel=r1)
    r = rectification(h.betas[1], t)
    if r is None:
        return theta.add(m_hat.scale(h.lr, un), un, sign=-1.0)
    bc2, r2 = bias_correction(h.betas[1], t, un)
    rho_inf = 2 / (1 - h.betas[1]) - 1
    # r_t's scalars: ρ_t − 4 and ρ_t − 2 cancel when ρ_t is near 5; their relative error
    r_rel = C * un.u_s * (1 + rho_inf * (1 + t) / max(r * r * rho_inf - 4, 1e-300))
    adaptive = v.sqrt(un).plus(h.eps, un)
    update = m_hat.div(adaptive, un).scale(h.lr * r * math.sqrt(bc2), un, rel=r_rel + r2 / 2)
    return theta.add(update, un, sign=-1.0)


RADAM = Algorithm(
    name="radam",
    title="RAdam",
    cites="torch.optim.RAdam (Liu et al., 2020): the rectified adaptive step where ρ_t > 5, "
    "the momentum step before",
    hyper=Adaptive,
    trajectory=adaptive_trajectory(step),
    needs=("betas", "eps"),
    neutral={"weight_decay": 0.0, "maximize": False},
    probes={"weight_decay": {"weight_decay": 0.1}, "maximize": {"maximize": True}},
    forms=("coupled", "decoupled"),
    reference=torch.optim.RAdam,
    live=("lr", "betas"),
)
