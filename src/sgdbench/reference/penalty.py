"""The L2 penalty that weight decay stands for (chapter, "Weight Decay").

"Defining the optimizer as ``optim.SGD(model.parameters(), lr=0.1, weight_decay=0.1)`` adds an
L2 regularization with regularization weight λ = 0.1. That is, the optimized loss is"
L(θ) + (λ/2)‖θ‖², whose gradient adds λθ: line [2] of :mod:`sgdbench.reference.sgd`.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from sgdbench._checks import check_range

__all__ = ["l2_penalty"]


def l2_penalty(params: Iterable[Tensor], weight_decay: float) -> Tensor:
    """(λ/2)·Σ‖θ‖² over ``params``, differentiable; ``weight_decay`` is λ ≥ 0."""
    lam = check_range("weight_decay", weight_decay, low=0.0)
    params = list(params)
    if not params:
        raise ValueError("`params` is empty: the penalty needs at least one tensor")
    total = torch.stack([p.pow(2).sum() for p in params]).sum()
    return total * (lam / 2)
