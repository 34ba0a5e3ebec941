"""Dropouts that break what a training loop relies on, one bug each.

Each of these is Algorithm 12 done right (p checked as torch checks it, p = 0 and p = 1
handled) except for the one thing its docstring names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from sgdbench.conformance.planted.dropouts import _keep, _valid

__all__ = [
    "StaysOffAfterEval",
    "accepts_any_p",
    "flat_view",
    "float32_mask",
    "no_p_one_case",
    "raises_on_empty",
]


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
BUGGY_DROPOUT_LOOP: dict[str, tuple[Callable[..., Any], set[str]]] = {
    "stays off after eval": (StaysOffAfterEval, {"round_trip"}),
    "0/0 at p = 1": (no_p_one_case, {"p_one", "p_one_grad"}),
    "accepts p = 1.5": (accepts_any_p, {"invalid_p"}),
    "float32 output for half input": (float32_mask, {"low_precision"}),
    "x.view(-1)": (flat_view, {"layouts"}),
    "raises on empty": (raises_on_empty, {"empty"}),
}
