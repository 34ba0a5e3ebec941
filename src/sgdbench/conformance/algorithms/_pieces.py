"""The pieces the adaptive algorithms share (optax's way: a decay form, a moment estimate, a
bias correction), each on :class:`~sgdbench.conformance.algorithms._bounded.B` values, so that
"coupled or decoupled" is one switch for every algorithm, not a copy in each."""

from __future__ import annotations

from typing import Any

from sgdbench.conformance.algorithms._bounded import B, Units, power_rel
from sgdbench.conformance.algorithms._spec import Adaptive

__all__ = ["bias_correction", "decay", "gradient", "moments"]


def gradient(g: B, h: Adaptive) -> B:
    """g ← −∇ if maximize else ∇ (exact)."""
    return g.neg() if h.maximize else g


def decay(theta: B, g: B, h: Adaptive, un: Units) -> tuple[B, B]:
    """The weight decay, in the form the settings say: coupled, g ← g + λθ (L2: Adam's and
    torch.optim.Adam's ``weight_decay``), or decoupled, θ ← θ(1 − γλ) (AdamW, Loshchilov &
    Hutter 2019), applied before the moments as torch does."""
    if not h.weight_decay:
        return theta, g
    if h.decoupled:
        return theta.scale(1 - h.lr * h.weight_decay, un, rel=2 * un.u_s), g
    return theta, g.add(theta.scale(h.weight_decay, un), un)


def moments(state: dict[str, Any], g: B, h: Adaptive, un: Units) -> tuple[B, B]:
    """m ← β₁m + (1 − β₁)g and v ← β₂v + (1 − β₂)g², from zero (torch's exp_avg, exp_avg_sq)."""
    b1, b2 = h.betas
    zero = B.exact(g.x * 0)
    m = state.get("m", zero).lerp(g, 1 - b1, un)
    v = state.get("v", zero).scale(b2, un).add(g.mul(g, un).scale(1 - b2, un), un)
    state["m"], state["v"] = m, v
    return m, v


def bias_correction(beta: float, t: int, un: Units) -> tuple[float, float]:
    """1 − βᵗ and the relative error bound of an implementation's scalar for it."""
    return 1 - beta**t, power_rel(beta, t, un)
