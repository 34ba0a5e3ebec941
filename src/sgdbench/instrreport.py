"""Instruction counts (``python -m benchmarks.instructions``) into a report section and a gate.

Counts do not drift with the machine's load, so the gate can compare each case's *own* count
with the baseline's, not only same-run ratios: a torch upgrade that makes every step dearer is
flagged too. Counts are comparable only between runs with the same key (CPU model, torch,
Python, threads, valgrind); a run with another key is shown against the baseline, not judged.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

__all__ = ["RATIOS", "THRESHOLD", "comparable", "gate", "load", "section"]

FORMAT = "sgdbench-instructions/1"
# Relative worsening that fails the gate, for each case's count and each ratio. Measured here
# (README, "Instruction counts"): over 10 unchanged runs the largest change of any count or
# ratio against the baseline was 0.30 %; 1 % is 3.3 times that, and one injected tensor op per
# training step (+2.5 % on an SGD-32 epoch) is 2.5 times above it.
THRESHOLD = 0.01

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


def _ratio(data: dict[str, Any], num: str, den: str) -> float | None:
    n, d = median(data, num), median(data, den)
    return None if n is None or d is None else n / d


def gate(
    run: dict[str, Any], baseline: dict[str, Any], threshold: float = THRESHOLD
) -> tuple[bool | None, list[str]]:
    """(passed, markdown rows): every case's count and every ratio against the baseline.

    passed is None when the keys differ: the changes are shown, not judged.
    """
    differs = comparable(run, baseline)
    rows = []
    if differs:
        rows += [f"No comparable baseline: {'; '.join(differs)}. Changes shown, not judged.", ""]
    rows += [
        "| instructions (higher = slower) | baseline | this run | change | verdict |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    passed = True
    items: list[tuple[str, float | None, float | None, str]] = [
        (f"{case} (per epoch)", median(baseline, case), median(run, case), "M")
        for case in run["cases"]
    ]
    items += [(f"{n} / {d}", _ratio(baseline, n, d), _ratio(run, n, d), "x") for n, d in RATIOS]
    for name, old, new, unit in items:
        if old is None or new is None:
            rows.append(f"| {name} | {_fmt(old, unit)} | {_fmt(new, unit)} | | not in both |")
            continue
        change = new / old - 1
        bad = change > threshold
        passed &= not bad
        verdict = "changed" if differs else ("**REGRESSION**" if bad else "ok")
        if differs and abs(change) <= threshold:
            verdict = "—"
        rows.append(
            f"| {name} | {_fmt(old, unit)} | {_fmt(new, unit)} | {change:+.2%} | {verdict} |"
        )
    rows += ["", f"Threshold: +{threshold:.0%} on every count and ratio."]
    return (None if differs else passed), rows


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value / 1e6:.3f} M" if unit == "M" else f"{value:.3f}"


def section(data: dict[str, Any], time_ratios: dict[str, float] | None = None) -> list[str]:
    """BENCHMARKS.md's instruction section: per case, the ratios, where the step's go."""
    k = data["key"]
    lines = [
        "## Instruction counts (callgrind)",
        "",
        f"`python -m benchmarks.instructions` ({data['repeats']} repeats per case, one process "
        f"under callgrind): {k['cpu']}, torch {k['torch']}, Python {k['python']}, "
        f"{k['threads']} thread, {k['valgrind']}. Injected ops per step: "
        f"{data.get('inject_step_ops', '0')}.",
        "",
        "| case (n = 800) | instructions per epoch | per step | repeat spread |",
        "| --- | ---: | ---: | ---: |",
    ]
    for case, c in data["cases"].items():
        m = median(data, case) or 0.0
        lines.append(
            f"| {case} | {m / 1e6:.3f} M | {m / c['steps'] / 1e3:.1f} k | "
            f"{spread(data, case):.2%} |"
        )
    lines += [
        "",
        "| ratio | in instructions | in time (same run's wall-time benchmarks) |",
        "| --- | ---: | ---: |",
    ]
    for n, d in RATIOS:
        r = _ratio(data, n, d)
        t = (time_ratios or {}).get(f"{n} / {d}")
        lines.append(
            f"| {n} / {d} | {'—' if r is None else f'{r:.3f}'} | "
            f"{'—' if t is None else f'{t:.3f}'} |"
        )
    objects = data.get("objects") or {}
    if objects:
        total = sum(objects.values())
        lines += [
            "",
            "Where an SGD-32 epoch's instructions go (Batches, self cost per shared object):",
            "",
            "| shared object | share | instructions per step |",
            "| --- | ---: | ---: |",
        ]
        steps = data["cases"].get("SGD-32 Batches", {}).get("steps", 1)
        for obj, n in sorted(objects.items(), key=lambda kv: -kv[1])[:8]:
            lines.append(f"| `{obj}` | {n / total:.1%} | {n / steps / 1e3:.1f} k |")
        functions = data.get("functions") or {}
        if functions:
            lines += [
                "",
                "Its dearest functions (self cost; `object:function`, names cut at 90 characters):",
                "",
                "| function | share |",
                "| --- | ---: |",
            ]
            for fn, n in sorted(functions.items(), key=lambda kv: -kv[1])[:12]:
                name = fn if len(fn) <= 90 else fn[:89] + "…"
                lines.append(f"| `{name.replace('|', '/')}` | {n / total:.1%} |")
    return lines
