"""Benchmark settings: thread count, --full, machine_info, and the interleaved timer.

Every timed case builds its model, optimizer and data (on the device) outside the timed call,
is warmed up first, and on CUDA synchronises at the end of each timed epoch (pytest-benchmark
never does). Cases that are compared run *interleaved* (A, B, C, A, B, C, …, order rotated each
round), so a ratio is taken between neighbours in time and machine drift cancels out of it.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
import torch

THREADS = int(os.environ.get("SGDBENCH_BENCH_THREADS", "1"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full", action="store_true", help="run the whole matrix (n up to 100 000, CUDA)"
    )


def pytest_configure(config: pytest.Config) -> None:
    # One thread: on a small shared machine it is the setting whose timings hold still, and a
    # 2-16-2 network gains nothing from more. Fixed here, recorded in machine_info.
    torch.set_num_threads(THREADS)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]):
    cuda = torch.cuda.is_available()
    machine_info["sgdbench"] = {
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda_version": torch.version.cuda,
        "device_name": torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu",
        "cuda_available": cuda,
        "slowdown_us": os.environ.get("SGDBENCH_INJECT_SLOWDOWN_US", "0"),
    }


@pytest.fixture
def full(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--full"))


def synchronizer(device: str) -> Callable[[], None]:
    if device == "cuda":
        return torch.cuda.synchronize
    return lambda: None


def interleaved(
    benchmark: Any,
    cases: dict[str, Callable[[], object]],
    *,
    device: str,
    rounds: int,
    warmup: int = 3,
    per: dict[str, int] | None = None,
) -> dict[str, list[float]]:
    """Time ``cases`` interleaved for ``rounds`` rounds under pytest-benchmark; record stats.

    Each round runs every case once, starting one later each round. Stored in
    ``benchmark.extra_info``: every case's time in every round (``times_s``), its median, and
    ``per[case]`` (e.g. steps per epoch). ``sgdbench.benchreport`` turns them into medians,
    IQRs and same-round ratios. pytest-benchmark's own stats describe a whole round.
    """
    sync = synchronizer(device)
    names = list(cases)
    times: dict[str, list[float]] = {k: [] for k in names}
    offset = 0

    def one_round() -> None:
        nonlocal offset
        for k in names[offset:] + names[:offset]:
            start = time.perf_counter()
            cases[k]()
            sync()
            times[k].append(time.perf_counter() - start)
        offset = (offset + 1) % len(names)

    for _ in range(warmup):
        one_round()
    for v in times.values():
        v.clear()
    benchmark.pedantic(one_round, rounds=rounds, iterations=1, warmup_rounds=0)

    info: dict[str, Any] = {
        "device": device,
        "rounds": rounds,
        "per": {k: (per or {}).get(k, 1) for k in names},
        "times_s": times,  # raw, per round: the report pairs them into same-round ratios
        "median_s": {k: statistics.median(v) for k, v in times.items()},
    }
    benchmark.extra_info.update(info)
    return times


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="part of the full matrix: nox -s bench -- --full")
    for item in items:
        if "full" in item.keywords:
            item.add_marker(skip)
