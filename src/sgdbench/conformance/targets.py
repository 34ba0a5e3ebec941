"""Implementations that are not a plain class, made into one so the suite can name them.

``python -m sgdbench check --optimizer sgdbench.conformance.targets:CompiledSGD`` checks
``torch.optim.SGD`` with its ``step()`` compiled by ``torch.compile`` (TorchInductor; on a CPU
it generates and builds C++). Dynamo's recompile limit is lifted on import: every example
builds a new optimizer (new shapes, new hyper-parameters), and past the default limit of 8
dynamo would silently run the *eager* step, which the suite must not mistake for the compiled
one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["CompiledSGD"]

_dynamo_config: Any = torch._dynamo.config  # lifted once, for every CompiledSGD
for _name in ("recompile_limit", "cache_size_limit", "accumulated_recompile_limit"):
    if hasattr(_dynamo_config, _name):
        setattr(_dynamo_config, _name, 1_000_000)


class CompiledSGD(torch.optim.SGD):
    """torch.optim.SGD whose step() runs through ``torch.compile`` (compiled on first use)."""

    _compiled: Callable[..., Any] | None = None

    def step(self, closure: Callable[[], float] | None = None) -> Any:
        if self._compiled is None:
            self._compiled = torch.compile(super().step)
        return self._compiled(closure)
