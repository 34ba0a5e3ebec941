"""BENCHMARKS.md's seed-parallel section: the cost of one seed-epoch against S, stacked.

From ``benchmarks/test_seeds.py`` (wall time, interleaved with the sequential epoch it
replaces, and torch.func beside the hand-stacked kernels) and, when counted, the stacked
training cases of ``benchmarks/instructions.py``.
"""

from __future__ import annotations

import re
from typing import Any

from sgdbench.bench import counts as c
from sgdbench.bench.run import Ratio, benchmark, quartiles

__all__ = ["COST", "FUNC", "section", "speedup"]

COST = "test_seed_epoch_cost"
FUNC = "test_stacked_against_torch_func"


def _seeds(case: str) -> int:
    m = re.search(r"S=(\d+)", case)
    return int(m.group(1)) if m else 1


def speedup(run: dict[str, Any], seeds: int) -> tuple[float, float] | None:
    """Sequential seed-epoch time over the stacked one at S = ``seeds`` (paired by round):
    (median, IQR), or None when not measured."""
    m = Ratio(COST, "sequential", f"stacked S={seeds}").measure(run)
    return None if m is None else (m[0] * seeds, m[1] * seeds)


def section(run: dict[str, Any], counts: dict[str, Any] | None = None) -> list[str]:
    b = benchmark(run, COST)
    if b is None:
        return []
    info = b["extra_info"]
    lines = [
        "## Seeds in parallel (sgdbench.stacked)",
        "",
        "One epoch of the chapter's run (2-16-2, SGD-32 shuffled, lr 0.1, μ 0.9, n = 800: the "
        "training pass and train_test's evaluation) for S seeds stacked, interleaved with one "
        "seed's sequential epoch (Batches, torch.optim.SGD, train_test's evaluation), which a "
        "sequential run of S seeds repeats S times. Per seed-epoch = the epoch's time / S; the "
        "speed-up is paired by round. Each stacked seed is bitwise its sequential run "
        "(properties/test_stacked.py).",
        "",
        "| case | seeds S | median ms per epoch | IQR ms | ms per seed-epoch | speed-up over "
        "sequential (IQR) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case, times in info["times_s"].items():
        q1, med, q3 = quartiles(times)
        s = info["per"][case]
        up = speedup(run, s) if case != "sequential" else None
        lines.append(
            f"| {case} | {s} | {med * 1e3:.3f} | {(q3 - q1) * 1e3:.3f} | {med / s * 1e3:.4f} | "
            + (f"{up[0]:.1f}× ({up[1]:.1f}) |" if up else "1× |")
        )
    rss = info.get("peak_rss_kib") or {}
    if rss:
        lines += [
            "",
            "Memory: a fresh process training one stacked epoch rose above its resident set "
            "before the stack by "
            + ", ".join(f"{v / 1024:.0f} MiB at S = {k}" for k, v in rss.items())
            + " (Linux VmHWM after a reset, minus VmRSS; `python -m benchmarks._seeds S`).",
        ]
    f = benchmark(run, FUNC)
    if f is not None:
        lines += [
            "",
            "The training pass alone, hand-stacked kernels (sgdbench.stacked) against torch.func "
            "(`stack_module_state` + `vmap(grad(functional_call))`, foreach heavy-ball update; "
            "not checked against the single runs), interleaved:",
            "",
            "| S | stacked ms per seed-epoch | torch.func ms per seed-epoch | torch.func / stacked "
            "(paired, IQR) |",
            "| ---: | ---: | ---: | ---: |",
        ]
        med = f["extra_info"]["median_s"]
        for s in sorted({_seeds(k) for k in med}):
            r = Ratio(FUNC, f"torch.func S={s}", f"stacked S={s}").measure(run)
            lines.append(
                f"| {s} | {med[f'stacked S={s}'] / s * 1e3:.4f} | "
                f"{med[f'torch.func S={s}'] / s * 1e3:.4f} | "
                + (f"{r[0]:.2f}× ({r[1]:.2f}) |" if r else "— |")
            )
    if counts is not None:
        stacked = [k for k in counts["cases"] if k.startswith("stacked S=")]
        seq = c.median(counts, "SGD-32 Batches")
        if stacked and seq:
            lines += [
                "",
                "Instructions of the training pass per seed-epoch (callgrind, "
                "`benchmarks/instructions.py`), against one sequential SGD-32 epoch "
                f"({seq / 1e6:.3f} M):",
                "",
                "| case | instructions per epoch | per seed-epoch | sequential / stacked |",
                "| --- | ---: | ---: | ---: |",
            ]
            for k in stacked:
                m, s = c.median(counts, k) or 0.0, _seeds(k)
                lines.append(
                    f"| {k} | {m / 1e6:.3f} M | {m / s / 1e6:.4f} M | {seq / (m / s):.1f}× |"
                )
    return lines
