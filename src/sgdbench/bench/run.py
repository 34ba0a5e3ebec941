"""A pytest-benchmark run of sgdbench's benchmarks: loading it, and the figures read from it.

The benchmarks (benchmarks/) time their compared cases interleaved and store every round's
time per case in ``extra_info["times_s"]``. Here those become medians with IQRs, and ratios
*paired by round* (case A's time in round i over case B's in round i), whose median is what the
regression gate tracks: absolute times drift by tens of percent between runs on a shared
machine, same-round ratios much less (see docs/gate.md).
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Ratio", "benchmark", "load", "met", "quartiles", "run_label", "targets"]


def load(path: str | Path) -> dict[str, Any]:
    """A pytest-benchmark JSON file, checked to come from sgdbench's benchmarks."""
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if "benchmarks" not in data or "sgdbench" not in data.get("machine_info", {}):
        raise ValueError(f"{path} is not a pytest-benchmark run of sgdbench's benchmarks/")
    return data


def run_label(run: dict[str, Any]) -> str:
    """'cpu', or the GPU's name as a file-name slug, e.g. 'nvidia-h100-80gb-hbm3'."""
    info = run["machine_info"]["sgdbench"]
    if not info["cuda_available"]:
        return "cpu"
    return re.sub(r"[^a-z0-9]+", "-", info["device_name"].lower()).strip("-")


def benchmark(run: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The run's benchmark called ``name``, or None."""
    return next((b for b in run["benchmarks"] if b["name"] == name), None)


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    """(Q1, median, Q3), inclusive method; one value is its own three quartiles."""
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


@dataclass(frozen=True)
class Ratio:
    """Median and IQR of case ``num`` over case ``den``, paired round by round.

    ``threshold`` (gated ratios only): the relative worsening against the baseline that fails
    the gate, max(15 %, 5 × the ratio's coefficient of variation over 6 runs here).
    """

    bench: str
    num: str
    den: str
    threshold: float = 0.15

    def measure(self, run: dict[str, Any]) -> tuple[float, float] | None:
        b = benchmark(run, self.bench)
        if b is None:
            return None
        times = b["extra_info"]["times_s"]
        if self.num not in times or self.den not in times:
            return None
        q1, med, q3 = quartiles(
            [a / d for a, d in zip(times[self.num], times[self.den], strict=False)]
        )
        return med, q3 - q1

    def __str__(self) -> str:
        return f"{self.bench}: {self.num} / {self.den}"


def targets(run: dict[str, Any]) -> list[tuple[str, float | None, float, str]]:
    """(figure, measured or None, target, "≥" or "≤") for each target (docs/benchmarks.md)."""

    def med(bench: str, num: str, den: str) -> float | None:
        m = Ratio(bench, num, den).measure(run)
        return None if m is None else m[0]

    it = med("test_iteration_cost[cpu-n800]", "DataLoader", "Batches")
    sgd = med("test_epoch_cost[cpu-n800]", "SGD-32 DataLoader", "SGD-32 Batches")
    gd = med("test_epoch_cost[cpu-n800]", "GD DataLoader", "GD Batches")
    over = med("test_train_test_overhead", "train_test", "bare loop")
    stacked = med("test_seed_epoch_cost", "sequential", "stacked S=100")
    return [
        ("Batches iteration speed-up over DataLoader, b = 32", it, 20.0, "≥"),
        ("SGD-32 epoch speed-up, Batches over DataLoader", sgd, 1.3, "≥"),
        ("GD epoch speed-up, Batches over DataLoader", gd, 6.0, "≥"),
        ("train_test / bare loop (epoch incl. evaluation)", over, 1.05, "≤"),
        (
            "seed-epoch speed-up, stacked S = 100 over sequential",
            None if stacked is None else stacked * 100,
            20.0,
            "≥",
        ),
    ]


def met(value: float, target: float, op: str) -> bool:
    return value >= target if op == "≥" else value <= target
