"""Dropouts with one planted bug each, and correct ones written unlike torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "DropoutInEval",
    "StaysOffAfterEval",
    "accepts_any_p",
    "batch_shared_mask",
    "dropout_by_division",
    "flat_view",
    "float32_mask",
    "no_p_one_case",
    "no_scaling",
    "raises_on_empty",
    "row_dropout",
    "scale_by_one_over_p",
]


def _valid(p: float) -> float:
    """p, or torch's ValueError when it is not a probability (nan included)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return p


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
    so this passes within 4 ulp, not bit for bit. p is checked as torch checks it.
    """
    if not training or _valid(p) == 0:
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


# --------------------------------------------------------------------------- a training loop's
# Each of these is Algorithm 12 done right (p checked as torch checks it, p = 0 and p = 1
# handled) except for the one thing its docstring names.


class StaysOffAfterEval(nn.Module):
    """Megatron-LM PR #411's bug: a flag set by the first eval() forward and never reset, so
    the layer stays the identity after model.train()."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p, self._off = _valid(p), False

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            self._off = True
        if self._off or self.p == 0:
            return x
        if self.p == 1:
            return x * 0
        return x * _keep(x, self.p) * (1 / (1 - self.p))


def no_p_one_case(x: Tensor, p: float, training: bool = True) -> Tensor:
    """x·1_u/(1 − p) with no case for p = 1: 0/0 = nan in the output and the gradient."""
    if not training or _valid(p) == 0:
        return x
    return x * _keep(x, p) / (1 - p)


def accepts_any_p(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Never checks p: p = 1.5 silently returns x·0·(1/(1 − 1.5)), p = −0.5 scales by 2/3."""
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    return x * _keep(x, p) * (1 / (1 - p))


def float32_mask(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Draws the mask in float32: x·mask promotes a bfloat16 or float16 x to float32."""
    if not training or _valid(p) == 0:
        return x
    if p == 1:
        return x * 0
    mask = (torch.rand(x.shape, device=x.device) > p).float()
    return x * mask * (1 / (1 - p))


def flat_view(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Flattens with x.view(-1), which raises on a non-contiguous x (a transposed view,
    channels_last)."""
    if not training or _valid(p) == 0:
        return x
    if p == 1:
        return x * 0
    flat = x.view(-1)
    return (flat * _keep(flat, p) * (1 / (1 - p))).view(x.shape)


def raises_on_empty(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Skips all-zero inputs by testing x.abs().max(), which raises on an empty x."""
    if not training or _valid(p) == 0:
        return x
    if p == 1:
        return x * 0
    if x.abs().max() == 0:
        return x
    return x * _keep(x, p) * (1 / (1 - p))


# Which checks each planted bug must fail (the self-check asserts each of them fails).


BUGGY_DROPOUTS: dict[str, tuple[Callable[..., Any], set[str]]] = {
    "no 1/(1-p)": (no_scaling, {"expectation", "law"}),
    "1/p scaling": (scale_by_one_over_p, {"expectation", "law"}),
    "drops in eval": (DropoutInEval, {"eval_identity", "round_trip"}),
    "whole rows": (row_dropout, {"independent_units"}),
    "one mask per batch": (batch_shared_mask, {"independent_units"}),
    "stays off after eval": (StaysOffAfterEval, {"round_trip"}),
    "0/0 at p = 1": (no_p_one_case, {"p_one", "p_one_grad"}),
    "accepts p = 1.5": (accepts_any_p, {"invalid_p"}),
    "float32 output for half input": (float32_mask, {"low_precision"}),
    "x.view(-1)": (flat_view, {"layouts"}),
    "raises on empty": (raises_on_empty, {"empty"}),
}
