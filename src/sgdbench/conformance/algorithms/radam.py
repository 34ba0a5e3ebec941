r"""RAdam (Liu et al., 2020), as torch.optim.RAdam documents it.

With γ (lr), β₁, β₂ (betas), ε (eps), λ (weight_decay)::

    g ← −g if maximize;  g ← g + λθ (coupled)  or  θ ← θ − γλθ (decoupled_weight_decay)
    m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  m̂ ← m / (1 − β₁ᵗ)
    ρ_∞ ← 2/(1 − β₂) − 1,   ρ_t ← ρ_∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)
    if ρ_t > 5:   r_t ← √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))    (rectification)
                  θ ← θ − γ m̂ r_t √(1 − β₂ᵗ) / (√v + ε)       (ε outside √v, before the
                                                              bias correction: not Adam's ε)
    else:         θ ← θ − γ m̂                                 (SGD with momentum)

The threshold 5 is compared in exact arithmetic here; a β₂ whose ρ_t lies within twice the
scalars' rounding bound of 5 (:func:`rho_error`, float32 scalars) is not drawn
(:func:`near_threshold`), so the branch is never a coin toss between oracle and
implementation. r_t's relative error is that bound over ρ_t − 4, ρ_t − 2 and ρ_t.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from sgdbench.conformance.algorithms._bounded import B, C, Units
from sgdbench.conformance.algorithms._pieces import bias_correction, decay, gradient, moments
from sgdbench.conformance.algorithms._spec import Adaptive, Algorithm, adaptive_trajectory

__all__ = ["RADAM", "near_threshold", "rho", "rho_error", "step"]

U_SCALAR = 2.0**-24  # scalars an implementation may form in float32


def rho(beta2: float, t: int) -> tuple[float, float]:
    """(ρ_∞, ρ_t): the length of the approximated simple moving average, and at step t."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf, rho_inf - 2 * t * beta2**t / (1 - beta2**t)


def rho_error(beta2: float, t: int, u: float = U_SCALAR) -> float:
    """A bound on |ρ̃_t − ρ_t| for ρ_t formed in scalars of unit roundoff u: ρ_∞ carries the
    rounding of 1 − β₂ amplified by 1/(1 − β₂); F = 2tβ₂ᵗ/(1 − β₂ᵗ) carries t roundings of
    βᵗ and the cancellation of 1 − β₂ᵗ (:func:`._bounded.power_rel`)."""
    rho_inf, rho_t = rho(beta2, t)
    f = rho_inf - rho_t
    bt = beta2**t
    rel_f = C * u * (t + 2) * (1 + bt / max(1 - bt, 1e-300))
    return float(C * u * rho_inf * (1 + 1 / (1 - beta2)) + f * rel_f + C * u * abs(rho_t))


def near_threshold(beta2: float, steps: int) -> bool:
    """Whether ρ_t lies within twice its rounding bound of 5 at some step ≤ ``steps``: there
    the branch an implementation takes is a coin toss, and such a β₂ is not drawn."""
    return any(abs(rho(beta2, t)[1] - 5) <= 2 * rho_error(beta2, t) for t in range(1, steps + 1))


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
    rho_inf, rho_t = rho(h.betas[1], t)
    # r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t)): each factor's relative error
    # is ρ_t's absolute error over it (ρ_t − 4 cancels most), halved by the root
    d, d_inf = rho_error(h.betas[1], t, un.u_s), C * un.u_s * rho_inf * (1 + 1 / (1 - h.betas[1]))
    r_rel = 0.5 * (d / (rho_t - 4) + d / (rho_t - 2) + d / rho_t)
    r_rel += 0.5 * (d_inf / (rho_inf - 4) + d_inf / (rho_inf - 2) + d_inf / rho_inf)
    r_rel += 4 * C * un.u_s
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
)
