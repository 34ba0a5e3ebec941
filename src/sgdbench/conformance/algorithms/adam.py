r"""Adam and AdamW (Kingma & Ba, 2015; Loshchilov & Hutter, 2019), as torch.optim documents them.

With γ (lr), β₁, β₂ (betas), ε (eps), λ (weight_decay), θ (params), g_t the gradient::

    g ← −g if maximize
    Adam:  g ← g + λθ                        (coupled: the L2 term in the gradient)
    AdamW: θ ← θ − γλθ                       (decoupled: the decay outside the moments)
    m ← β₁m + (1 − β₁)g                      (m₀ = 0)
    v ← β₂v + (1 − β₂)g²                     (v₀ = 0)
    m̂ ← m / (1 − β₁ᵗ)                        (bias correction, t this parameter's step count)
    v̂ ← v_max / (1 − β₂ᵗ), v_max ← max(v_max, v) if amsgrad, else v̂ ← v / (1 − β₂ᵗ)
    θ ← θ − γ m̂ / (√v̂ + ε)                   (ε outside the square root)

torch takes amsgrad's maximum over the *uncorrected* v and divides it by the current
1 − β₂ᵗ. The chapter's weight-decay statement ("adds an L2 regularization") holds for Adam's
coupled form exactly (Adam(weight_decay=λ) on L ≡ Adam on L + (λ/2)‖θ‖²) and not for AdamW,
whose decay does not pass through the moments: for Adam the two forms are two algorithms.
Oracle: these lines in float64 with the bound of :mod:`._bounded` (the same lines as
``torch.optim.adam._single_tensor_adam``; tests/test_algorithms.py compares them with torch's
for-loop in float64).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from sgdbench.conformance.algorithms._bounded import B, Units
from sgdbench.conformance.algorithms._pieces import bias_correction, decay, gradient, moments
from sgdbench.conformance.algorithms._spec import Adaptive, Algorithm, adaptive_trajectory

__all__ = ["ADAM", "ADAMW", "step"]


def step(theta: B, g: B, state: dict[str, Any], h: Adaptive, t: int, un: Units) -> B:
    """One Adam/AdamW step of one parameter (the docstring's lines, in order)."""
    g = gradient(g, h)
    theta, g = decay(theta, g, h, un)
    m, v = moments(state, g, h, un)
    bc1, r1 = bias_correction(h.betas[0], t, un)
    bc2, r2 = bias_correction(h.betas[1], t, un)
    if h.amsgrad:
        v = state["v_max"] = state["v_max"].maximum(v) if "v_max" in state else v
    denom = v.sqrt(un).scale(bc2**-0.5, un, rel=r2 / 2 + un.u_s).plus(h.eps, un)
    update = m.div(denom, un).scale(h.lr / bc1, un, rel=r1 + un.u_s)
    return theta.add(update, un, sign=-1.0)


_NEUTRAL = {"weight_decay": 0.0, "amsgrad": False, "maximize": False}
_PROBES: dict[str, dict[str, Any]] = {
    "weight_decay": {"weight_decay": 0.1},
    "amsgrad": {"amsgrad": True},
    "maximize": {"maximize": True},
}

ADAM = Algorithm(
    name="adam",
    title="Adam",
    cites="torch.optim.Adam (Kingma & Ba, 2015): coupled weight decay, g ← g + λθ",
    hyper=Adaptive,
    trajectory=adaptive_trajectory(step),
    needs=("betas", "eps"),
    neutral=_NEUTRAL,
    probes=_PROBES,
    forms=("coupled",),
    reference=torch.optim.Adam,
)

# AdamW is Adam with the decay moved out of the gradient: one switch, the same oracle
ADAMW = dataclasses.replace(
    ADAM,
    name="adamw",
    title="AdamW",
    cites="torch.optim.AdamW (Loshchilov & Hutter, 2019): decoupled decay, θ ← θ − γλθ",
    forms=("decoupled",),
    reference=torch.optim.AdamW,
)
