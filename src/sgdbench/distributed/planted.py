"""Broken DDP communication hooks, for checking that the distributed checks catch them.

Each is a ``register_comm_hook`` hook that gets one thing wrong (no ``from __future__
import annotations`` here: DDP checks that the ``bucket`` annotation *is* ``GradBucket``);
``properties/test_distributed.py`` asserts that ``ddp.matches_single_process`` fails on each.
"""

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.distributed import GradBucket  # type: ignore[attr-defined]

__all__ = ["keeps_local_on_rank1", "sum_not_average"]


def sum_not_average(state: Any, bucket: GradBucket) -> torch.futures.Future[Tensor]:
    """All-reduces the k gradients without dividing by k: every update k times too large."""
    fut = dist.all_reduce(bucket.buffer(), async_op=True).get_future()
    return fut.then(lambda f: f.value()[0])  # type: ignore[no-any-return]


def keeps_local_on_rank1(state: Any, bucket: GradBucket) -> torch.futures.Future[Tensor]:
    """Takes part in the all-reduce (so nobody hangs) but rank 1 keeps its own local gradient:
    a rank that skips its all-reduce."""
    local = bucket.buffer().clone()
    tensor = bucket.buffer().div_(dist.get_world_size())
    fut = dist.all_reduce(tensor, async_op=True).get_future()
    if dist.get_rank() == 1:
        return fut.then(lambda f: local)  # type: ignore[no-any-return]
    return fut.then(lambda f: f.value()[0])  # type: ignore[no-any-return]
