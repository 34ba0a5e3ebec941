"""Dropouts with one planted bug each, and correct ones written unlike torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sgdbench.conformance._impl import DropoutUnderTest

__all__ = [
    "DropoutInEval",
    "IgnoresInplace",
    "InplaceOwnGenerator",
    "batch_shared_mask",
    "channel_dropout_per_row",
    "drop_path",
    "drop_path_per_element",
    "dropout_by_division",
    "dropout_overwriting_input",
    "inplace_dropout",
    "no_scaling",
    "row_dropout",
    "scale_by_one_over_p",
]


def _keep(x: Tensor, p: float) -> Tensor:
    return torch.rand(x.shape, dtype=x.dtype, device=x.device) > p


def _valid(p: float) -> float:
    """p, or torch's ValueError when it is not a probability (nan included)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return p


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


class InplaceOwnGenerator(nn.Module):
    """In place, with masks from a private generator seeded from the OS: torch.manual_seed
    does not fix them, and the global RNG never advances."""

    def __init__(self, p: float, inplace: bool = True) -> None:
        super().__init__()
        self.p, self.inplace = p, inplace
        self.generator: torch.Generator | None = None

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x.zero_() if self.inplace else x * 0
        if self.generator is None or self.generator.device != x.device:
            self.generator = torch.Generator(device=x.device)
            self.generator.seed()  # a non-deterministic seed: the bug
        u = torch.rand(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        keep = u > self.p
        return x.mul_(keep).div_(1 - self.p) if self.inplace else x * keep / (1 - self.p)


class IgnoresInplace(nn.Module):
    """Takes ``inplace`` as nn.Dropout does, and ignores it: always returns a new tensor."""

    def __init__(self, p: float, inplace: bool = False) -> None:
        super().__init__()
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)


def inplace_dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Correct, in place: Algorithm 12 written into x (declare ``inplace=True``)."""
    return F.dropout(x, p, training, inplace=True)


def dropout_overwriting_input(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Correct output, but it zeroes the dropped units of its input in place, undeclared."""
    if not training or _valid(p) == 0:
        return x
    if p == 1:
        return x * 0
    return x.masked_fill_(~_keep(x, p), 0.0) * (1 / (1 - p))


def channel_dropout_per_row(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Meant as Dropout2d (declared ``channel``), but draws one mask per row of each channel,
    rand(N, C, H, 1), not per channel, rand(N, C, 1, 1)."""
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    u = torch.rand((*x.shape[:-1], 1), dtype=x.dtype, device=x.device)
    return x * (u > p) * (1 / (1 - p))


def drop_path(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Correct stochastic depth (declared ``sample``): one draw per sample, kept ones scaled
    by 1/(1 − p), written with a Bernoulli draw; p checked as torch checks it."""
    if not training or _valid(p) == 0:
        return x
    if p == 1:
        return x * 0
    keep = torch.empty(x.shape[:1] + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device)
    return x * keep.bernoulli_(1 - p) / (1 - p)


def drop_path_per_element(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Meant as stochastic depth (declared ``sample``), but draws one mask per element,
    rand(x.shape), not one per sample, rand(N, 1, …)."""
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    return x * _keep(x, p) * (1 / (1 - p))


def _declared(target: Callable[..., Any], **declared: Any) -> DropoutUnderTest:
    """``target`` with its declarations, named as reports name the package's implementations."""
    extra = ", ".join(f"{k}={v!r}" for k, v in declared.get("kwargs", {}).items())
    name = f"sgdbench.conformance.planted:{target.__qualname__}" + (f"({extra})" if extra else "")
    return DropoutUnderTest(target, name=name, **declared)


# Which checks each planted bug must fail (the self-check asserts each of them fails). A bug
# that needs declarations to be one comes as a DropoutUnderTest.


BUGGY_DROPOUTS: dict[str, tuple[Callable[..., Any] | DropoutUnderTest, set[str]]] = {
    "no 1/(1-p)": (no_scaling, {"expectation", "law"}),
    "1/p scaling": (scale_by_one_over_p, {"expectation", "law"}),
    "drops in eval": (DropoutInEval, {"eval_identity", "round_trip"}),
    "whole rows": (row_dropout, {"independent_units"}),
    "one mask per batch": (batch_shared_mask, {"independent_units"}),
    "in place, private unseeded generator": (
        _declared(InplaceOwnGenerator, inplace=True),
        {"seeded"},
    ),
    "declared in place, returns a copy": (
        _declared(IgnoresInplace, kwargs={"inplace": True}, inplace=True),
        {"inplace"},
    ),
    "declared channel, one mask per row": (
        _declared(channel_dropout_per_row, rank=4, structure="channel"),
        {"independent_units", "law"},
    ),
    "declared sample, one draw per element": (
        _declared(drop_path_per_element, rank=3, structure="sample"),
        {"independent_units", "law"},
    ),
}
