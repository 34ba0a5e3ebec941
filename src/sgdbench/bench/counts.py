"""Instruction counts (``python -m benchmarks.instructions``): loading them, their figures.

Counts do not drift with the machine's load, so the gate (:mod:`sgdbench.bench.gates`) can
compare each case's *own* count with the baseline's, not only same-run ratios. Counts are
comparable only between runs with the same key (CPU model, torch, Python, threads, valgrind).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "RATIOS", "comparable", "load", "median", "ratio", "spread"]

FORMAT = "sgdbench-instructions/1"

# Same-run ratios in instructions, as the wall-time gate tracks them in seconds.
RATIOS = (
    ("iteration Batches", "iteration DataLoader"),
    ("SGD-32 Batches", "SGD-32 DataLoader"),
    ("GD Batches", "GD DataLoader"),
    ("SGD-32 Batches", "GD Batches"),
    ("train_test", "bare loop"),
    ("reference.SGD", "torch.optim.SGD"),
)


def load(path: str | Path) -> dict[str, Any]:
    """A COUNTS.json, checked: ValueError naming the file when it is corrupt or foreign."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(
            f"{path} is not JSON ({e.msg}): a corrupt instruction-count file"
        ) from None
    ok = (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and isinstance(data.get("cases"), dict)
        and isinstance(data.get("key"), dict)
        and all(
            isinstance(c, dict) and c.get("instructions") and isinstance(c.get("steps"), int)
            for c in data["cases"].values()
        )
    )
    if not ok:
        raise ValueError(f"{path} is not an sgdbench instruction-count file ({FORMAT})")
    checked: dict[str, Any] = data
    return checked


def median(data: dict[str, Any], case: str) -> float | None:
    c = data["cases"].get(case)
    return None if c is None else float(statistics.median(c["instructions"]))


def spread(data: dict[str, Any], case: str) -> float:
    """(max − min) / median of a case's repeats: how still its count holds within one run."""
    xs = data["cases"][case]["instructions"]
    return float((max(xs) - min(xs)) / statistics.median(xs))


def comparable(run: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """What differs between the two keys ('' when the counts can be compared)."""
    a, b = run["key"], baseline["key"]
    return [
        f"{k}: {b.get(k)!r} → {a.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
    ]


def ratio(data: dict[str, Any], num: str, den: str) -> float | None:
    """Median count of ``num`` over that of ``den``; None when either is missing."""
    n, d = median(data, num), median(data, den)
    return None if n is None or d is None else n / d
