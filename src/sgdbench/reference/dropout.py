r"""Reference dropout: Algorithm 12 of the chapter, line by line.

Algorithm 12 (Dropout layer)::

    input: h (the previous hidden layer's output, dimension d), the dropout probability p
    if not training: return h                                       (line 1)
    sample u ~ U([0, 1])^d                                          (line 2)
    1_u ← u > p                                                     (line 3)
    return 1/(1 − p) · 1_u ∘ h                                      (line 4)

"This scaling ensures that the expected activation remains unchanged between training and
inference": E[dropout(x)] = p·0 + (1 − p)·x/(1 − p) = x, Var = x²p/(1 − p).

Where the chapter is silent: p = 0 returns ``x`` itself, and p = 1 (1/(1 − p) undefined)
returns zeros, as ``torch.nn.functional.dropout`` does; the scale is applied as one multiply by
the dtype's rounding of 1/(1 − p), which is also what torch's kernels compute.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["Dropout", "dropout"]


def _check_p(p: object) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
        # torch.nn.functional.dropout's message, with the argument named.
        raise ValueError(f"dropout probability `p` has to be between 0 and 1, but got {p!r}")
    return float(p)


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, generator: torch.Generator | None = None
) -> Tensor:
    """Algorithm 12 on ``x``; gradients flow through the kept units only (∂out/∂x = 1_u/(1−p)).

    ``generator`` (on ``x``'s device) draws ``u``; None uses the global RNG of that device.
    """
    p = _check_p(p)
    if not training or p == 0.0:  # line 1 (and p = 0: nothing to drop)
        return x
    if p == 1.0:  # every unit dropped; 1/(1 − p) is never formed
        return x.mul(x.new_zeros(()))
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)  # line 2
    keep = u > p  # line 3
    return x * keep * (1.0 / (1.0 - p))  # line 4


class Dropout(nn.Module):
    """Algorithm 12 as a layer: active in ``train()``, the identity in ``eval()``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = _check_p(p)

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
