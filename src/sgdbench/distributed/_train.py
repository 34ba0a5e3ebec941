"""One rank's share of the chapter's experiment, data-parallel (what every launcher runs).

Algorithm 11 with k workers: each rank takes its own mini-batch of b = B/k samples of the
epoch's order (``DistributedSampler``: one permutation from ``seed + epoch``, the same on every
rank, rank r takes every k-th index from r on), computes the mean cross-entropy of its batch,
and ``DistributedDataParallel`` averages the k gradients before ``optimizer.step()``. With a
mean-reduced loss that average is the gradient of the mean loss over the k·b samples: one step
of Algorithm 11 with batch B (checked in ``sgdbench.distributed.checks``).

The epoch's batches are gathered once per epoch from the sampler's indices and sliced, as
:class:`sgdbench.data.Batches` does, so the epoch cost is the training steps, not per-sample
Python. The loop itself is :func:`sgdbench.training.train_epoch`, unchanged.

(No ``from __future__ import annotations``: DDP checks that a communication hook's ``bucket``
annotation *is* ``dist.GradBucket``, not the string.)
"""

import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.distributed import GradBucket  # type: ignore[attr-defined]
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import Dataset, DistributedSampler

from sgdbench.data import Split, two_moons
from sgdbench.models import mlp
from sgdbench.training import SEED_LR, SEED_MOMENTUM, _evaluate, train_epoch

__all__ = ["CommTimer", "Config", "Fault", "shard", "train", "train_task"]

FAULTS = ("raise", "exit", "kill", "hang")


@dataclass(frozen=True)
class Fault:
    """For testing failure handling only: rank ``rank`` fails at global step ``step``.

    raise: RuntimeError; exit: ``os._exit(3)``; kill: SIGKILL to itself; hang: sleeps forever
    (its peers then wait in their all-reduce until the process group's timeout).
    """

    kind: str
    rank: int
    step: int

    @classmethod
    def parse(cls, text: str) -> "Fault":
        kind, _, rest = text.partition(":")
        rank, _, step = rest.partition(":")
        if kind not in FAULTS or not rank.isdigit() or not step.isdigit():
            raise ValueError(
                f"`fault` must be KIND:RANK:STEP with KIND one of {', '.join(FAULTS)}, "
                f"but got {text!r}"
            )
        return cls(kind, int(rank), int(step))

    def trigger(self) -> None:
        if self.kind == "raise":
            raise RuntimeError(f"injected fault at step {self.step}")
        if self.kind == "exit":
            os._exit(3)
        if self.kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        while True:  # hang
            time.sleep(3600)


@dataclass(frozen=True)
class Config:
    """The seed's experiment, data-parallel: global batch ``batch_size`` split over the ranks."""

    epochs: int = 100
    batch_size: int = 32  # global: each of k ranks takes batch_size // k
    n_samples: int = 1000
    seed: int = 0
    ddp: bool = True  # False: a plain single-process run (world size 1 only), the baseline
    time_comm: bool = False  # time every all-reduce through a DDP communication hook
    evaluate: bool = True
    fault: str | None = None


@dataclass
class Result:
    world_size: int
    rank: int
    config: dict[str, Any]
    epoch_seconds: list[float] = field(default_factory=list)
    comm_seconds: list[float] = field(default_factory=list)  # per epoch, all-reduces summed
    steps_per_epoch: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)


def shard(n: int, epoch: int, *, seed: int, world_size: int, rank: int) -> list[int]:
    """Rank ``rank``'s sample indices of ``epoch``: DistributedSampler, shuffled, padded.

    ``drop_last=False`` (its default): when k does not divide n, the order is padded with its
    own first indices so that every rank gets ⌈n/k⌉ samples.
    """
    sampler: DistributedSampler[int] = DistributedSampler(
        cast("Dataset[int]", range(n)), num_replicas=world_size, rank=rank, seed=seed
    )
    sampler.set_epoch(epoch)
    return list(sampler)


class CommTimer:
    """A DDP communication hook: the default all-reduce (divide by k, sum), timed.

    Each bucket's time runs from the hook's call (its gradients are ready) to the moment the
    all-reduce's future completes; ``seconds`` sums them. The chapter's network has one bucket,
    so its all-reduce starts when the backward pass ends and nothing overlaps it.
    """

    def __init__(self) -> None:
        self.seconds = 0.0

    def hook(self, state: Any, bucket: GradBucket) -> torch.futures.Future[Tensor]:
        start = time.perf_counter()
        tensor = bucket.buffer().div_(dist.get_world_size())
        fut = dist.all_reduce(tensor, async_op=True).get_future()

        def done(f: torch.futures.Future[list[Tensor]]) -> Tensor:
            self.seconds += time.perf_counter() - start
            return f.value()[0]

        return fut.then(done)  # type: ignore[no-any-return]


def _epoch_batches(split: Split, indices: list[int], b: int) -> list[tuple[Tensor, Tensor]]:
    idx = torch.tensor(indices, device=split.device)
    X, y = split.X_train[idx], split.y_train[idx]
    return [(X[i : i + b], y[i : i + b]) for i in range(0, len(indices), b)]


def _faulty(
    batches: Iterable[tuple[Tensor, Tensor]], fault: Fault, first_step: int
) -> Iterator[tuple[Tensor, Tensor]]:
    for step, batch in enumerate(batches, first_step):
        if step == fault.step:
            fault.trigger()
        yield batch


def train(config: Config, device: torch.device | None = None) -> Result:
    """Train on this rank (``torch.distributed`` initialised, or ``config.ddp`` false)."""
    world_size = dist.get_world_size() if config.ddp else 1
    rank = dist.get_rank() if config.ddp else 0
    if config.batch_size % world_size:
        raise ValueError(
            f"`batch_size` {config.batch_size} must be divisible by the world size {world_size}"
        )
    b = config.batch_size // world_size
    device = device or torch.device("cpu")
    split = two_moons(config.n_samples).to(device)
    torch.manual_seed(config.seed)  # the same initial θ on every rank (DDP broadcasts rank 0's)
    net = mlp().to(device)
    model: nn.Module = DDP(net) if config.ddp else net
    timer = CommTimer()
    if config.ddp and config.time_comm:
        model.register_comm_hook(None, timer.hook)  # type: ignore[operator]
    optimizer = torch.optim.SGD(model.parameters(), lr=SEED_LR, momentum=SEED_MOMENTUM)
    criterion = nn.CrossEntropyLoss()
    fault = Fault.parse(config.fault) if config.fault else None
    sync: Callable[[], None] = (
        (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    )
    n = len(split.y_train)
    out = Result(world_size, rank, asdict(config))
    metrics: list[list[float]] = [[], [], [], []]
    for epoch in range(config.epochs):
        batches = _epoch_batches(
            split, shard(n, epoch, seed=config.seed, world_size=world_size, rank=rank), b
        )
        out.steps_per_epoch = len(batches)
        run: Iterable[tuple[Tensor, Tensor]] = batches
        if fault is not None and fault.rank == rank:
            run = _faulty(batches, fault, epoch * len(batches))
        before = timer.seconds
        start = time.perf_counter()
        train_epoch(model, run, optimizer, criterion)
        sync()
        out.epoch_seconds.append(time.perf_counter() - start)
        out.comm_seconds.append(timer.seconds - before)
        if config.evaluate and rank == 0:
            net.eval()
            with torch.no_grad():
                for column, v in zip(metrics, _evaluate(net, criterion, split), strict=True):
                    column.append(v.item())
    if config.evaluate and rank == 0:
        keys = ("train_acc", "test_acc", "train_loss", "test_loss")
        out.history = dict(zip(keys, metrics, strict=True))
    return out


def train_task(payload: dict[str, Any]) -> dict[str, Any]:
    """A WorkerGroup task: :func:`train` with ``Config(**payload)``, as a plain dict."""
    return asdict(train(Config(**payload)))
