"""BENCHMARKS.md's instruction-count section, beside the same run's wall-time ratios."""

from __future__ import annotations

from typing import Any

from sgdbench.bench import counts as c
from sgdbench.bench.run import Ratio

__all__ = ["section", "wall_time_ratios"]


def section(data: dict[str, Any], time_ratios: dict[str, float] | None = None) -> list[str]:
    """BENCHMARKS.md's instruction section: per case, the ratios, where the step's go."""
    k = data["key"]
    fp = data.get("fingerprint") or {}
    seen = (
        f" The counted process saw (its fingerprint): {fp.get('cpu_brand', '?')}, torch's CPU "
        f"capability {fp.get('cpu_capability', '?')}, numpy {fp.get('numpy', '?')}, "
        f"{fp.get('glibc', '?')}."
        if fp
        else ""
    )
    lines = [
        "## Instruction counts (callgrind)",
        "",
        f"`python -m benchmarks.instructions` ({data['repeats']} repeats per case, one process "
        f"under callgrind): host {k['cpu']}, torch {k['torch']}, Python {k['python']}, "
        f"{k['threads']} thread, {k['valgrind']}.{seen} Injected ops per step: "
        f"{data.get('inject_step_ops', '0')}.",
        "",
        "| case (n = 800) | instructions per epoch | per step | repeat spread |",
        "| --- | ---: | ---: | ---: |",
    ]
    for case, counted in data["cases"].items():
        m = c.median(data, case) or 0.0
        lines.append(
            f"| {case} | {m / 1e6:.3f} M | {m / counted['steps'] / 1e3:.1f} k | "
            f"{c.spread(data, case):.2%} |"
        )
    lines += [
        "",
        "| ratio | in instructions | in time (same run's wall-time benchmarks) |",
        "| --- | ---: | ---: |",
    ]
    for n, d in c.RATIOS:
        r = c.ratio(data, n, d)
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


def wall_time_ratios(run: dict[str, Any]) -> dict[str, float]:
    """The wall-time medians of the ratios the instruction section lists (same names)."""
    where = {
        "iteration": "test_iteration_cost[cpu-n800]",  # its cases are named by pipeline only
        "SGD-32": "test_epoch_cost[cpu-n800]",
        "GD": "test_epoch_cost[cpu-n800]",
        "train_test": "test_train_test_overhead",
        "reference.SGD": "test_reference_sgd_cost",
    }
    out = {}
    for num, den in c.RATIOS:
        first = num.split()[0]
        n, d = (num.split()[-1], den.split()[-1]) if first == "iteration" else (num, den)
        m = Ratio(where[first], n, d).measure(run)
        if m is not None:
            out[f"{num} / {den}"] = m[0]
    return out
