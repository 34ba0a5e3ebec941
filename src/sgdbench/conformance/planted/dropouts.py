"""Dropouts with one planted bug each, and correct ones written unlike torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "DropoutInEval",
    "batch_shared_mask",
    "dropout_by_division",
    "no_scaling",
    "row_dropout",
    "scale_by_one_over_p",
]


def _keep(x: Tensor, p: float) -> Tensor:
    return torch.rand(x.shape, dtype=x.dtype, device=x.device) > p


def no_scaling(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Forgets Algorithm 12's 1/(1 − p)."""
    return x * _keep(x, p) if training else x


def scale_by_one_over_p(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Scales kept units by 1/p instead of 1/(1 − p)."""
    if not training or p == 0:
        return x
    return x * _keep(x, p) / p


def row_dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Drops whole rows (one draw per sample), not units."""
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    u = torch.rand(x.shape[:1] + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device)
    return x * (u > p) * (1 / (1 - p))


def batch_shared_mask(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Draws one mask and applies it to every sample of the batch."""
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    u = torch.rand(x.shape[1:], dtype=x.dtype, device=x.device)
    return x * (u > p) * (1 / (1 - p))


def dropout_by_division(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Correct, written unlike torch: a Bernoulli mask and a division by (1 − p).

    x/(1 − p) is rounded once, x·fl(1/(1 − p)) twice: they differ in the last bit for some x,
    so this passes within 4 ulp, not bit for bit.
    """
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    mask = torch.bernoulli(torch.full_like(x, 1 - p))
    return x * mask / (1 - p)


class DropoutInEval(nn.Module):
    """Ignores ``self.training``: still drops in eval()."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if self.p == 1:
            return x * 0
        return x * _keep(x, self.p) / (1 - self.p)


# Which checks each planted bug must fail (the self-check asserts each of them fails).


BUGGY_DROPOUTS: dict[str, tuple[Callable[..., Any], set[str]]] = {
    "no 1/(1-p)": (no_scaling, {"expectation", "law"}),
    "1/p scaling": (scale_by_one_over_p, {"expectation", "law"}),
    "drops in eval": (DropoutInEval, {"eval_identity"}),
    "whole rows": (row_dropout, {"independent_units"}),
    "one mask per batch": (batch_shared_mask, {"independent_units"}),
}
