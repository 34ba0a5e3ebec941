r"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2).

With γ (lr), β₁, β₂ (betas), λ (weight_decay)::

    c ← β₁m + (1 − β₁)g                 (the interpolation)
    θ ← θ − γ(sign(c) + λθ)             (decoupled decay, as the paper and lion-pytorch)
    m ← β₂m + (1 − β₂)g                 (m₀ = 0)

**The bound at the sign.** sign(c) is exact wherever |c| exceeds the bound E_c on c's
rounding; where |c| ≤ E_c an implementation's c may have either sign (or be 0), so θ there may
be off by up to 2γ: the oracle carries that (:meth:`._bounded.B.sign`) into E_θ for that
element and every later step, instead of allowing "k wrong elements". Elements with |c| > E_c,
almost all, are held to the rounding bound. There is no torch class; tests/test_algorithms.py
compares the oracle with lion-pytorch where it is installed.
"""

from __future__ import annotations

from typing import Any

from sgdbench.conformance.algorithms._bounded import B, Units
from sgdbench.conformance.algorithms._pieces import gradient
from sgdbench.conformance.algorithms._spec import Adaptive, Algorithm, adaptive_trajectory

__all__ = ["LION", "step"]


def step(theta: B, g: B, state: dict[str, Any], h: Adaptive, t: int, un: Units) -> B:
    """One Lion step of one parameter (the paper's lines, in order)."""
    g = gradient(g, h)
    b1, b2 = h.betas
    m = state.get("m", B.exact(g.x * 0))
    if h.weight_decay:
        theta = theta.scale(1 - h.lr * h.weight_decay, un, rel=2 * un.u_s)
    c = m.lerp(g, 1 - b1, un)
    theta = theta.add(c.sign().scale(h.lr, un), un, sign=-1.0)
    state["m"] = m.lerp(g, 1 - b2, un)
    return theta


LION = Algorithm(
    name="lion",
    title="Lion",
    cites="Lion (Chen et al., 2023): θ ← θ − γ(sign(β₁m + (1 − β₁)g) + λθ), m ← β₂m + (1 − β₂)g",
    hyper=Adaptive,
    trajectory=adaptive_trajectory(step),
    needs=("betas",),
    neutral={"weight_decay": 0.0},
    probes={"weight_decay": {"weight_decay": 0.1}},
    forms=("decoupled",),
    reference=None,
)
