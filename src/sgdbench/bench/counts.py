"""Instruction counts (``python -m benchmarks.instructions``): loading them, their figures.

Counts do not drift with the machine's load, so the gate (:mod:`sgdbench.bench.gates`) can
compare each case's *own* count with the reference's, not only same-run ratios. Counts are
comparable only between runs with the same *fingerprint*: what the counted process ran on, read
inside valgrind (the CPU valgrind presents and torch's kernel choice for it, the thread
settings, the Python, torch, numpy, glibc and valgrind versions). The host's CPU name is not
part of it: valgrind masks it. A count file of the first format (``/1``) has no fingerprint and
is comparable with nothing.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

__all__ = [
    "FORMAT",
    "FORMATS",
    "RATIOS",
    "aa_spread",
    "comparable",
    "load",
    "median",
    "ratio",
    "spread",
]

FORMAT = "sgdbench-instructions/2"
FORMATS = ("sgdbench-instructions/1", FORMAT)  # /1: no fingerprint, read for its figures

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
        and data.get("format") in FORMATS
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


def comparable(run: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """What differs between the two fingerprints (empty when the counts can be compared).

    A file without a fingerprint (format ``/1``) differs from every other.
    """
    a, b = run.get("fingerprint"), reference.get("fingerprint")
    if not isinstance(a, dict) or not isinstance(b, dict):
        side = "reference" if not isinstance(b, dict) else "run"
        return [f"the {side} has no fingerprint (an sgdbench-instructions/1 file)"]
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            old, new = b.get(k), a.get(k)
            if isinstance(old, list) and isinstance(new, list):  # CPU flags: say which
                gone, came = sorted(set(old) - set(new)), sorted(set(new) - set(old))
                out.append(f"{k}: -{gone} +{came}")
            else:
                out.append(f"{k}: {old!r} → {new!r}")
    return out


def aa_spread(first: dict[str, Any], second: dict[str, Any]) -> float:
    """The A/A spread: the largest |change| of any count or ratio between two counts of the
    same code (two processes, same tree), each case by its median over the repeats."""
    changes = [
        abs(m / median(first, case) - 1)  # type: ignore[operator]
        for case in first["cases"]
        if (m := median(second, case)) is not None
    ]
    changes += [
        abs(b / a - 1)
        for n, d in RATIOS
        if (a := ratio(first, n, d)) is not None and (b := ratio(second, n, d)) is not None
    ]
    if not changes:
        raise ValueError("the two A/A counts share no case: nothing to measure a spread on")
    return max(changes)


def ratio(data: dict[str, Any], num: str, den: str) -> float | None:
    """Median count of ``num`` over that of ``den``; None when either is missing."""
    n, d = median(data, num), median(data, den)
    return None if n is None or d is None else n / d
