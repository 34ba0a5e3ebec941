"""SGD: the chapter's Algorithm 11 with torch.optim.SGD's momentum, dampening, Nesterov and
weight decay; the oracle and its bound are :mod:`sgdbench.conformance._oracle`'s."""

from __future__ import annotations

from typing import Any

import torch

from sgdbench.conformance._oracle import Hyper, trajectory
from sgdbench.conformance.algorithms._spec import Algorithm

__all__ = ["NEUTRAL", "PROBES", "SGD"]

# The value that switches each optional hyper-parameter off (torch.optim.SGD's defaults).
NEUTRAL: dict[str, Any] = {
    "momentum": 0.0,
    "dampening": 0.0,
    "weight_decay": 0.0,
    "nesterov": False,
    "maximize": False,
}
# A working value of each, with what it needs beside it (Nesterov and dampening need momentum).
PROBES: dict[str, dict[str, Any]] = {
    "momentum": {"momentum": 0.9},
    "dampening": {"momentum": 0.9, "dampening": 0.5},
    "nesterov": {"momentum": 0.9, "nesterov": True},
    "weight_decay": {"weight_decay": 0.1},
    "maximize": {"maximize": True},
}

SGD = Algorithm(
    name="sgd",
    title="SGD",
    cites='Algorithm 11: "θ ← θ − η_t ∇L(B, θ)", with torch.optim.SGD\'s momentum',
    hyper=Hyper,
    trajectory=trajectory,
    needs=(),
    neutral=NEUTRAL,
    probes=PROBES,
    forms=("coupled", "decoupled"),
    reference=torch.optim.SGD,
)
