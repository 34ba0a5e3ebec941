r"""NAdam (Dozat, 2016), as torch.optim.NAdam documents it.

With γ (lr), β₁, β₂ (betas), ε (eps), λ (weight_decay), ψ (momentum_decay)::

    g ← −g if maximize;  g ← g + λθ (coupled)  or  θ ← θ − γλθ (decoupled_weight_decay)
    μ_t ← β₁(1 − ½·0.96^{tψ}),  μ_{t+1} ← β₁(1 − ½·0.96^{(t+1)ψ})   (the momentum decay)
    Π_t ← Π_{t−1}·μ_t                                                  (Π₀ = 1: mu_product)
    m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  v̂ ← v / (1 − β₂ᵗ)
    θ ← θ − γ(1 − μ_t)/(1 − Π_t) · g/(√v̂ + ε) − γμ_{t+1}/(1 − Π_t μ_{t+1}) · m/(√v̂ + ε)

torch keeps Π (``mu_product``) as a float32 tensor unless the default dtype is float64: its
relative error is bounded with float32's unit roundoff (:class:`._bounded.Units`).
"""

from __future__ import annotations

from typing import Any

import torch

from sgdbench.conformance.algorithms._bounded import B, C, Units
from sgdbench.conformance.algorithms._pieces import bias_correction, decay, gradient, moments
from sgdbench.conformance.algorithms._spec import Adaptive, Algorithm, adaptive_trajectory

__all__ = ["NADAM", "mu", "step"]


def mu(h: Adaptive, t: int) -> float:
    """μ_t = β₁(1 − ½·0.96^{tψ}): NAdam's momentum schedule."""
    return float(h.betas[0] * (1.0 - 0.5 * 0.96 ** (t * h.momentum_decay)))


def step(theta: B, g: B, state: dict[str, Any], h: Adaptive, t: int, un: Units) -> B:
    """One NAdam step of one parameter (the docstring's lines, in order)."""
    g = gradient(g, h)
    theta, g = decay(theta, g, h, un)
    bc2, r2 = bias_correction(h.betas[1], t, un)
    mu_t, mu_next = mu(h, t), mu(h, t + 1)
    state["mu_product"] = prod = state.get("mu_product", 1.0) * mu_t
    state["prod_rel"] = rel = state.get("prod_rel", 0.0) + C * un.u_s
    m, v = moments(state, g, h, un)
    denom = v.scale(1 / bc2, un, rel=r2).sqrt(un).plus(h.eps, un)
    # the two step sizes, each with the cancellation of 1 − Π in its relative error
    c1 = h.lr * (1 - mu_t) / (1 - prod)
    r_c1 = C * un.u_s + rel * prod / (1 - prod)
    c2 = h.lr * mu_next / (1 - prod * mu_next)
    r_c2 = C * un.u_s + (rel + C * un.u_s) * prod * mu_next / (1 - prod * mu_next)
    theta = theta.add(g.div(denom, un).scale(c1, un, rel=r_c1), un, sign=-1.0)
    return theta.add(m.div(denom, un).scale(c2, un, rel=r_c2), un, sign=-1.0)


NADAM = Algorithm(
    name="nadam",
    title="NAdam",
    cites="torch.optim.NAdam (Dozat, 2016): Nesterov momentum in Adam, μ_t = β₁(1 − ½·0.96^{tψ})",
    hyper=Adaptive,
    trajectory=adaptive_trajectory(step),
    needs=("betas", "eps"),
    neutral={"weight_decay": 0.0, "maximize": False},
    probes={"weight_decay": {"weight_decay": 0.1}, "maximize": {"maximize": True}},
    forms=("coupled", "decoupled"),
    reference=torch.optim.NAdam,
    options=("momentum_decay",),
)
