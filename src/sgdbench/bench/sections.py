"""BENCHMARKS.md's wall-time sections, each a list of markdown lines from one run.

:func:`targets_met` (the targets, docs/benchmarks.md), :func:`epoch` (epoch and iteration cost, then
the same-run ratios), :func:`batch_size` (cost against the batch size, with its plot) and
:func:`time_to_accuracy`. :mod:`sgdbench.bench.report` puts them in order.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sgdbench.bench.run import Ratio, benchmark, met, quartiles, targets

__all__ = ["batch_size", "epoch", "targets_met", "time_to_accuracy"]


def _ms(s: float) -> str:
    return f"{s * 1e3:.3f}"


def _case_rows(b: dict[str, Any]) -> Iterator[tuple[str, float, float, int, int]]:
    info = b["extra_info"]
    for case, times in info["times_s"].items():
        q1, med, q3 = quartiles(times)
        yield case, med, q3 - q1, info["per"][case], len(times)


def epoch(run: dict[str, Any]) -> list[str]:
    out = [
        "## Epoch cost",
        "",
        "One training epoch of the seed's 2-16-2 network (seed's optimizer and loss), the four "
        "cases of a row group timed interleaved. Median and IQR over rounds.",
        "",
        "| benchmark | case | median ms | IQR ms | steps | per step µs | rounds |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    ratio_rows = []
    for b in run["benchmarks"]:
        if not b["name"].startswith(("test_epoch_cost", "test_iteration_cost")):
            continue
        for case, med, iqr, per, rounds in _case_rows(b):
            out.append(
                f"| {b['name']} | {case} | {_ms(med)} | {_ms(iqr)} | {per} | "
                f"{med / per * 1e6:.1f} | {rounds} |"
            )
        if b["name"].startswith("test_epoch_cost"):
            pairs = [(f"{m} DataLoader", f"{m} Batches") for m in ("SGD-32", "GD")]
            pairs += [(f"SGD-32 {p}", f"GD {p}") for p in ("DataLoader", "Batches")]
        else:
            pairs = [("DataLoader", "Batches")]
        for num, den in pairs:
            m = Ratio(b["name"], num, den).measure(run)
            if m is not None:
                ratio_rows.append(f"| {b['name']} | {num} / {den} | {m[0]:.2f} | {m[1]:.2f} |")
    out += [
        "",
        "## Same-run ratios",
        "",
        "Each ratio is paired by round (the two cases ran back to back), then the median and IQR "
        "of those per-round ratios. DataLoader / Batches is the speed-up of Batches.",
        "",
        "| benchmark | ratio | median | IQR |",
        "| --- | --- | ---: | ---: |",
        *ratio_rows,
    ]
    cuda = [b for b in run["benchmarks"] if "[cuda-" in b["name"]]
    for b in cuda:  # CUDA / CPU: different benchmarks, so a ratio of medians, not paired
        cpu = benchmark(run, b["name"].replace("[cuda-", "[cpu-"))
        if cpu is None:
            continue
        for case, med in b["extra_info"]["median_s"].items():
            cpu_med = cpu["extra_info"]["median_s"].get(case)
            if cpu_med:
                out.append(
                    f"| {b['name']} | CUDA / CPU, {case} (medians, not paired) | "
                    f"{med / cpu_med:.2f} | |"
                )
    return out


def _fit(b: np.ndarray, per_step: np.ndarray) -> tuple[float, float]:
    c1, c0 = np.polyfit(b, per_step, 1)
    return float(c0), float(c1)


def batch_size(run: dict[str, Any], out_dir: Path | None) -> list[str]:
    benches = [b for b in run["benchmarks"] if b["name"].startswith("test_cost_against_batch")]
    if not benches:
        return []
    lines = [
        "## Cost against batch size",
        "",
        "n = 800, one epoch per case, all batch sizes and both pipelines interleaved. The fit is "
        "least squares of the per-step cost on b: c(b) = c₀ + c₁·b.",
        "",
        "| benchmark | pipeline | b | steps | epoch ms | IQR ms | per step µs |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    curves: dict[str, tuple[list[int], list[float], list[float]]] = {}
    for bench in benches:
        device = bench["extra_info"]["device"]
        for case, med, iqr, per, _ in _case_rows(bench):
            bs, pipeline = case.removeprefix("b=").split(" ", 1)
            lines.append(
                f"| {bench['name']} | {pipeline} | {bs} | {per} | {_ms(med)} | {_ms(iqr)} | "
                f"{med / per * 1e6:.1f} |"
            )
            xs, epoch, step = curves.setdefault(f"{device}, {pipeline}", ([], [], []))
            xs.append(int(bs))
            epoch.append(med)
            step.append(med / per)
    lines += [
        "",
        "| device, pipeline | c₀ (µs per step) | c₁ (µs per sample) |",
        "| --- | ---: | ---: |",
    ]
    for label, (xs, _, step) in curves.items():
        c0, c1 = _fit(np.array(xs, float), np.array(step))
        lines.append(f"| {label} | {c0 * 1e6:.1f} | {c1 * 1e6:.3f} |")
    if out_dir is not None:
        _plot(curves, out_dir / "bench_batch_size.png")
        lines += ["", "![epoch cost against batch size](bench_batch_size.png)"]
    return lines


def _plot(curves: dict[str, tuple[list[int], list[float], list[float]]], path: Path) -> None:
    import matplotlib.pyplot as plt

    from sgdbench._figures import save  # selects matplotlib's Agg backend before pyplot draws

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    for label, (xs, epoch, step) in curves.items():
        ax1.plot(xs, [e * 1e3 for e in epoch], marker="o", label=label)
        ax2.plot(xs, [s * 1e6 for s in step], marker="o", label=label)
    for ax, title, ylabel in (
        (ax1, "Epoch cost against batch size (n = 800)", "ms per epoch"),
        (ax2, "Step cost against batch size", "µs per step"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("batch size b")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save(fig, path)


def time_to_accuracy(run: dict[str, Any]) -> list[str]:
    benches = [b for b in run["benchmarks"] if b["name"].startswith("test_time_to_accuracy")]
    lines: list[str] = []
    for b in benches:
        info = b["extra_info"]
        lines += [
            f"## Time to {info['target']:.0%} test accuracy "
            f"({info.get('dataset', 'two moons, n = 800')}, {info['device']})",
            "",
            f"Training seconds (evaluation excluded) until the test accuracy first reaches "
            f"{info['target']:.0%}, within {info['epochs']} epochs, per seed.",
            "",
            "| method | per seed: epoch (seconds) | median seconds |",
            "| --- | --- | ---: |",
        ]
        for method, runs in info["time_to_accuracy"].items():
            cells = [
                "not reached" if r["epoch"] is None else f"{r['epoch']} ({r['seconds']:.3f} s)"
                for r in runs
            ]
            reached = [r["seconds"] for r in runs if r["seconds"] is not None]
            med = (
                f"{statistics.median(reached):.3f}"
                if len(reached) == len(runs)
                else f"not reached in {len(runs) - len(reached)}/{len(runs)} runs"
            )
            lines.append(f"| {method} | {', '.join(cells)} | {med} |")
        lines.append("")
    return lines


def targets_met(run: dict[str, Any]) -> list[str]:
    rows = targets(run)
    lines = [
        "## Targets (CPU, n = 800)",
        "",
        "| figure | measured | target | met |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, value, target, op in rows:
        if value is None:
            lines.append(f"| {name} | not measured | {op} {target} | — |")
            continue
        ok = met(value, target, op)
        lines.append(f"| {name} | {value:.2f} | {op} {target} | {'yes' if ok else '**no**'} |")
    ep = benchmark(run, "test_epoch_cost[cpu-n800]")
    itb = benchmark(run, "test_iteration_cost[cpu-n800]")
    if ep and itb:
        share = (
            itb["extra_info"]["median_s"]["Batches"]
            / ep["extra_info"]["median_s"]["SGD-32 Batches"]
        )
        lines += [
            "",
            f"Input pipeline share of an SGD-32 epoch through Batches: {share:.1%} (iteration "
            "median over training-epoch median, from two benchmarks of the same run); the rest "
            "is the step itself (forward, backward, update).",
        ]
    return lines
