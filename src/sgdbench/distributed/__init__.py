"""sgdbench.distributed: data-parallel SGD on torch.distributed, checked and measured.

Read against the chapter, k workers that each take a mini-batch of b and average their gradients
run Algorithm 11 with a batch of k·b, if the loss is mean-reduced and the epoch's samples are
shared out once. This package checks that on your setup and measures what it costs:

- :func:`check_ddp`: the ``ddp.*`` conformance checks (:mod:`sgdbench.distributed.checks`) on
  k ranks of a :class:`WorkerGroup` (gloo on CPUs, NCCL on ≥ 2 GPUs), for torch.optim.SGD or
  your optimizer; ``pytest properties`` runs them with 2 gloo ranks;
- ``torchrun --standalone --nproc-per-node K -m sgdbench.distributed``: the chapter's experiment,
  data-parallel, one machine or many (:mod:`sgdbench.distributed.__main__`);
- ``python -m sgdbench ddp-bench --world-sizes 1,2``: the epoch's cost against the world size
  and the share of it spent in the all-reduce (:mod:`sgdbench.distributed.bench`).
"""

from __future__ import annotations

from typing import Any

from sgdbench.conformance import (
    DropoutUnderTest,
    OptimizerUnderTest,
    Report,
    UsageError,
    run_checks,
)
from sgdbench.distributed._group import RankFailed, WorkerGroup, free_port, run_on_ranks
from sgdbench.distributed.checks import CHECKS as DDP_CHECKS
from sgdbench.distributed.checks import DDPUnderTest

__all__ = [
    "DDP_CHECKS",
    "DDPUnderTest",
    "RankFailed",
    "WorkerGroup",
    "check_ddp",
    "free_port",
    "run_on_ranks",
]


def check_ddp(
    *,
    world_size: int = 2,
    backend: str = "gloo",
    optimizer: OptimizerUnderTest | None = None,
    dropout: DropoutUnderTest | None = None,
    hook: str | None = None,
    timeout: float = 60.0,
    **run: Any,
) -> Report:
    """Every ``ddp.*`` check on ``world_size`` fresh ranks; ``run`` goes to ``run_checks``.

    ``devices`` default to the backend's: cpu for gloo, cuda for NCCL.
    """
    if optimizer is not None and optimizer.algorithm != "sgd":
        raise UsageError(
            f"the ddp.* checks' bound is derived for SGD's update (linear in the gradient); "
            f"algorithm {optimizer.algorithm!r} is not supported with them yet: give an SGD "
            "optimizer, or run the other checks without --ddp"
        )
    run.setdefault("devices", ["cuda" if backend == "nccl" else "cpu"])
    with WorkerGroup(world_size, backend=backend, timeout=timeout) as group:
        under_test: dict[str, Any] = {"optimizer": optimizer, "dropout": dropout}
        impl = DDPUnderTest(group, hook=hook, **{k: v for k, v in under_test.items() if v})
        return run_checks(impl, **run)
