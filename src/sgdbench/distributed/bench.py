"""``ddp-bench``: the cost of a data-parallel epoch against the world size, and its all-reduce.

For each world size k the chapter's experiment (2-16-2 on two moons, global batch B split into
k × B/k, SGD lr 0.1, momentum 0.9) trains ``epochs`` epochs on k ranks of a fresh
:class:`~sgdbench.distributed.WorkerGroup`, twice:

1. plain DDP: each epoch's training pass is timed (rank 0; the first epoch is warm-up and left
   out): the **epoch cost**;
2. the same with every all-reduce timed by a DDP communication hook
   (:class:`~sgdbench.distributed._train.CommTimer`: from the bucket's gradients being ready to
   the all-reduce's future completing): the **communication share** = all-reduce time / epoch
   time, per epoch. The hook is Python around the same all-reduce; its own overhead is the
   ratio of the two runs' medians, reported beside it.

A single-process run without DDP (k = 1, no process group work at all) is the baseline.
Numbers are medians over epochs with their interquartile range; all runs are in one session.
"""

from __future__ import annotations

import platform
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from sgdbench.distributed._group import WorkerGroup
from sgdbench.distributed._train import Config

__all__ = ["FORMAT", "STORE", "Settings", "measure"]

FORMAT = "sgdbench-ddp/1"
TASK = "sgdbench.distributed._train:train_task"
STORE = "ddp-cpu.json"  # under OUT/benchmarks/
# BENCHMARKS.md's section from this data is rendered by sgdbench.bench.ddp_section (a higher
# layer); its old names here still resolve, on first use, through __getattr__ below.
_MOVED = {"BEGIN", "END", "section", "update_benchmarks_md", "with_section"}


@dataclass(frozen=True)
class Settings:
    world_sizes: tuple[int, ...] = (1, 2)
    epochs: int = 20
    batch_size: int = 32
    seed: int = 0
    timeout: float = 60.0
    fault: str | None = None  # tests only: KIND:RANK:STEP on the largest world size


def _spread(xs: Sequence[float]) -> dict[str, float]:
    q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
    return {"median": q[1], "q1": q[0], "q3": q[2]}


def _run(k: int, config: Config, s: Settings) -> dict[str, Any]:
    with WorkerGroup(k, timeout=s.timeout) as group:
        result: dict[str, Any] = group.run(TASK, asdict(config))[0]  # rank 0's
    return result


def measure(s: Settings, progress: Callable[[str], None] = lambda _line: None) -> dict[str, Any]:
    """Every world size's epoch cost and communication share (see the module)."""
    base = Config(epochs=s.epochs, batch_size=s.batch_size, seed=s.seed, evaluate=False)
    rows: list[dict[str, Any]] = []
    single = _run(1, Config(**{**asdict(base), "ddp": False}), s)
    rows.append(_row("1 (no DDP)", 1, single, None))
    progress(f"ddp-bench: no DDP: epoch {rows[-1]['epoch_ms']['median']:.2f} ms")
    for k in s.world_sizes:
        fault = s.fault if k == max(s.world_sizes) else None
        with WorkerGroup(k, timeout=s.timeout) as group:
            plain = group.run(TASK, asdict(Config(**{**asdict(base), "fault": fault})))[0]
            timed = group.run(TASK, asdict(Config(**{**asdict(base), "time_comm": True})))[0]
        rows.append(_row(str(k), k, plain, timed))
        r = rows[-1]
        progress(
            f"ddp-bench: k={k}: epoch {r['epoch_ms']['median']:.2f} ms, all-reduce "
            f"{r['comm_share']['median']:.0%} of it"
        )
    return {
        "format": FORMAT,
        "settings": asdict(s) | {"world_sizes": list(s.world_sizes)},
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": _cores(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "backend": "gloo",
        },
        "rows": rows,
    }


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _row(label: str, k: int, plain: dict[str, Any], timed: dict[str, Any] | None) -> dict[str, Any]:
    epochs = plain["epoch_seconds"][1:] or plain["epoch_seconds"]  # the first is warm-up
    row: dict[str, Any] = {
        "label": label,
        "world_size": k,
        "per_rank_batch": plain["config"]["batch_size"] // k,
        "steps_per_epoch": plain["steps_per_epoch"],
        "epoch_ms": _spread([1e3 * x for x in epochs]),
    }
    if timed is not None:
        t_epochs = timed["epoch_seconds"][1:] or timed["epoch_seconds"]
        comm = timed["comm_seconds"][-len(t_epochs) :]
        row["comm_share"] = _spread([c / e for c, e in zip(comm, t_epochs, strict=True)])
        row["comm_ms_per_step"] = _spread([1e3 * c / plain["steps_per_epoch"] for c in comm])
        row["hook_overhead"] = (
            statistics.median(t_epochs) / statistics.median(epochs) if epochs else float("nan")
        )
    return row


def __getattr__(name: str) -> Any:
    """``section``, ``with_section``, ``update_benchmarks_md``, ``BEGIN``, ``END``: moved to
    :mod:`sgdbench.bench.ddp_section`; imported from there when first asked for here."""
    if name in _MOVED:
        from sgdbench.bench import ddp_section

        return getattr(ddp_section, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
