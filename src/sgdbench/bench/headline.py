"""The few lines ``nox -s bench`` ends with: what a user should read first.

SGD-32 against GD (median epoch time with its IQR, and instructions when counted), Batches
against DataLoader, each target met or not, the gates' verdicts and where the report is.
pytest-benchmark's per-round table of interleaved cases comes before it and is not the summary.
"""

from __future__ import annotations

from typing import Any

from sgdbench.bench import seeds_section
from sgdbench.bench.run import Ratio, benchmark, met, quartiles, targets

__all__ = ["EPOCH", "headline"]

EPOCH = "test_epoch_cost[cpu-n800]"


def _time(run: dict[str, Any], case: str) -> str:
    b = benchmark(run, EPOCH)
    if b is None or case not in b["extra_info"]["times_s"]:
        return "not measured"
    q1, med, q3 = quartiles(b["extra_info"]["times_s"][case])
    return f"{med * 1e3:.2f} ms (IQR {(q3 - q1) * 1e3:.2f})"


def headline(run: dict[str, Any], counts: dict[str, Any] | None, report: str, gates: str) -> str:
    """The summary block, one fact a line."""
    ratio = Ratio(EPOCH, "SGD-32 Batches", "GD Batches").measure(run)
    lines = [
        "──── sgdbench bench: the headline (CPU, n = 800) ────",
        f"SGD-32 epoch {_time(run, 'SGD-32 Batches')}  vs  GD epoch {_time(run, 'GD Batches')}"
        + (f"  → {ratio[0]:.1f}× per epoch" if ratio else ""),
    ]
    if counts is not None:
        sgd = sorted(counts["cases"]["SGD-32 Batches"]["instructions"])
        gd = sorted(counts["cases"]["GD Batches"]["instructions"])
        s, g = sgd[len(sgd) // 2], gd[len(gd) // 2]
        per_step = s / counts["cases"]["SGD-32 Batches"]["steps"]
        lines.append(
            f"instructions: SGD-32 epoch {s / 1e6:.2f} M vs GD epoch {g / 1e6:.3f} M → "
            f"{s / g:.1f}× ({per_step / 1e3:.0f} k per SGD step)"
        )
    for s in (100, 1000):
        b = benchmark(run, "test_seed_epoch_cost")
        up = seeds_section.speedup(run, s)
        if b is not None and up is not None:
            med = b["extra_info"]["median_s"]
            lines.append(
                f"seeds in parallel: S={s} {med[f'stacked S={s}'] / s * 1e3:.3f} ms per seed-epoch "
                f"vs sequential {med['sequential'] * 1e3:.2f} ms → {up[0]:.1f}×"
            )
    for name, value, target, op in targets(run):
        shown = "not measured" if value is None else f"{value:.2f}"
        verdict = "—" if value is None else ("met" if met(value, target, op) else "NOT met")
        lines.append(f"{name}: {shown} (target {op} {target}: {verdict})")
    lines += [f"gates: {gates}", f"report: {report}"]
    return "\n".join(lines)
