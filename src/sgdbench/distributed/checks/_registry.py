"""What every ``ddp.*`` check shares: the implementation under test and the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from sgdbench.conformance._impl import DropoutUnderTest, OptimizerUnderTest
from sgdbench.conformance._runner import Body, Check, register
from sgdbench.distributed._group import WorkerGroup

CHECKS: list[Check] = []
TASKS = "sgdbench.distributed._tasks"


@dataclass
class DDPUnderTest:
    """What runs under DDP, and the ranks it runs on (``group``, started by the caller)."""

    group: WorkerGroup
    optimizer: OptimizerUnderTest = field(
        default_factory=lambda: OptimizerUnderTest(torch.optim.SGD)
    )
    dropout: DropoutUnderTest = field(default_factory=lambda: DropoutUnderTest(nn.Dropout))
    hook: str | None = None  # module:function of a DDP communication hook; None: DDP's own
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            hook = f", hook={self.hook}" if self.hook else ""
            self.name = (
                f"DDP[{self.group.backend}×{self.group.world_size}]({self.optimizer.name}{hook})"
            )

    def spec(self) -> dict[str, Any]:
        return {"world_size": self.group.world_size, **self.optimizer.spec(), "hook": self.hook}

    def checks(self) -> list[Check]:
        return CHECKS


def _check(name: str, cites: str, **kw: Any) -> Callable[[Body], Check]:
    return register(CHECKS, "ddp", name, cites, **kw)
