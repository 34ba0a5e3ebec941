"""What each rank does for the distributed checks, and the problem both sides build from a seed.

A task is called on every rank of a :class:`~sgdbench.distributed.WorkerGroup` with the same
payload (a plain dict) and returns plain data (tensors on the CPU). The parent process builds
the same problem from the same seed (:func:`problem`) and compares.
"""

from __future__ import annotations

from typing import Any, cast

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import Dataset, DistributedSampler

from sgdbench.conformance._impl import copy_state
from sgdbench.conformance._runner import DTYPES
from sgdbench.distributed._group import resolve
from sgdbench.models import mlp

__all__ = ["dropout_masks", "problem", "shards", "trajectory"]


def problem(case: dict[str, Any], world_size: int) -> tuple[nn.Module, Tensor, Tensor]:
    """The network (θ₀ from the seed) and k·b·steps samples (features, labels) of a case."""
    dtype = DTYPES[case["dtype"]]
    gen = torch.Generator().manual_seed(case["seed"])
    n = world_size * case["batch"] * case["steps"]
    X = torch.randn(n, case["features"], generator=gen, dtype=torch.float64).to(dtype)
    y = torch.randint(case["classes"], (n,), generator=gen)
    torch.manual_seed(case["seed"])
    model = mlp(case["features"], case["hidden"], case["classes"]).to(dtype)
    return model, X, y


def rank_batches(case: dict[str, Any], world_size: int, rank: int) -> list[list[int]]:
    """Rank ``rank``'s batch indices for each step: DistributedSampler, epoch 0, seed = case's."""
    n = world_size * case["batch"] * case["steps"]
    data = cast("Dataset[int]", range(n))
    order: list[int] = list(
        DistributedSampler(data, num_replicas=world_size, rank=rank, seed=case["seed"])
    )
    b = case["batch"]
    return [order[t * b : (t + 1) * b] for t in range(case["steps"])]


def _state(opt: torch.optim.Optimizer) -> dict[str, Any]:
    """The optimizer's state_dict with every parameter's state copied (tensors cloned)."""
    sd = opt.state_dict()
    return {
        "state": {i: copy_state(s) for i, s in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }


def trajectory(payload: dict[str, Any]) -> dict[str, Any]:
    """DDP training of the case on this rank: θ, optimizer state and .grad at every step.

    ``payload``: ``case`` (seed, batch, steps, features, hidden, classes, dtype, hyper),
    ``optimizer`` (an OptimizerUnderTest), ``reduction`` of the loss ("mean" or "sum") and
    ``hook`` (``module:function`` of a DDP communication hook, None for DDP's default).
    """
    case = payload["case"]
    k, rank = dist.get_world_size(), dist.get_rank()
    model, X, y = problem(case, k)
    ddp = DDP(model)
    if payload.get("hook"):
        ddp.register_comm_hook(None, resolve(payload["hook"]))
    opt = payload["optimizer"].make(ddp.parameters(), **case["hyper"])
    out: dict[str, Any] = {"theta": [], "state": [], "grad": []}

    def snapshot() -> None:
        out["theta"].append([p.detach().clone() for p in model.parameters()])
        out["state"].append(_state(opt))

    snapshot()
    for idx in rank_batches(case, k, rank):
        opt.zero_grad()
        loss = F.cross_entropy(ddp(X[idx]), y[idx], reduction=payload["reduction"])
        loss.backward()  # type: ignore[no-untyped-call]
        out["grad"].append([p.grad.detach().clone() for p in model.parameters()])  # type: ignore[union-attr]
        opt.step()
        snapshot()
    return out


def shards(payload: dict[str, Any]) -> list[list[int]]:
    """This rank's indices for each epoch, from a DistributedSampler built as users build it.

    The sampler takes the world size and rank from the process group; the rank's global RNG is
    seeded differently on every rank, which must not matter (the order comes from seed+epoch).
    """
    torch.manual_seed(1000 + dist.get_rank())
    sampler: DistributedSampler[int] = DistributedSampler(
        cast("Dataset[int]", range(payload["n"])),
        shuffle=True,
        seed=payload["seed"],
        drop_last=payload["drop_last"],
    )
    out = []
    for epoch in range(payload["epochs"]):
        sampler.set_epoch(epoch)
        out.append(list(sampler))
    return out


def dropout_masks(payload: dict[str, Any]) -> Tensor:
    """This rank's dropout mask on a (rows, width) input of ones after seeding as told.

    ``seeding``: "same" (every rank calls ``torch.manual_seed(seed)``, the common script) or
    "per-rank" (``seed + rank``). The layer is ``payload["dropout"]`` (a DropoutUnderTest).
    """
    rank = dist.get_rank()
    torch.manual_seed(payload["seed"] + (rank if payload["seeding"] == "per-rank" else 0))
    x = torch.ones(payload["rows"], payload["width"])
    layer = payload["dropout"].layer(payload["p"])
    layer.train()
    mask: Tensor = layer(x) == 0
    return mask
