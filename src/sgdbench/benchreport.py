"""Turn a pytest-benchmark JSON run into results/BENCHMARKS.md, a plot, and a regression verdict.

The benchmarks (benchmarks/) time their compared cases interleaved and store every round's
time per case in ``extra_info["times_s"]``. Here those become medians with IQRs, and ratios
*paired by round* (case A's time in round i over case B's in round i), whose median is what the
regression gate tracks: absolute times drift by tens of percent between runs on a shared
machine, same-round ratios much less (see README, "Regression gate").
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GATE", "Ratio", "gate", "load", "met", "render", "run_label", "targets"]


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


def _bench(run: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((b for b in run["benchmarks"] if b["name"] == name), None)


def _quartiles(xs: list[float]) -> tuple[float, float, float]:
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
        b = _bench(run, self.bench)
        if b is None:
            return None
        times = b["extra_info"]["times_s"]
        if self.num not in times or self.den not in times:
            return None
        q1, med, q3 = _quartiles(
            [a / d for a, d in zip(times[self.num], times[self.den], strict=False)]
        )
        return med, q3 - q1

    def __str__(self) -> str:
        return f"{self.bench}: {self.num} / {self.den}"


# The figures the gate tracks: each is sgdbench's code over torch's doing the same work (or SGD
# over GD, both through Batches), timed in the same rounds, so "higher" always means "got slower".
# Thresholds: max(15 %, 5 × CV), CV measured over 6 default runs on the 2-core CI machine
# (README, "Regression gate"): a change between two runs has sd ≈ √2·CV, so 5·CV is 3.5 sd.
GATE = (
    Ratio("test_iteration_cost[cpu-n800]", "Batches", "DataLoader", 0.22),  # CV 4.4 %
    Ratio("test_epoch_cost[cpu-n800]", "SGD-32 Batches", "SGD-32 DataLoader", 0.15),  # 1.4 %
    Ratio("test_epoch_cost[cpu-n800]", "GD Batches", "GD DataLoader", 0.15),  # 2.0 %
    Ratio("test_epoch_cost[cpu-n800]", "SGD-32 Batches", "GD Batches", 0.22),  # 4.4 %
    Ratio("test_train_test_overhead", "train_test", "bare loop", 0.15),  # 1.8 %
    Ratio("test_reference_sgd_cost", "reference.SGD", "torch.optim.SGD", 0.15),  # 2.1 %
)


def gate(
    run: dict[str, Any], baseline: dict[str, Any], threshold: float | None = None
) -> tuple[bool, list[str]]:
    """(passed, markdown table rows) comparing ``run``'s tracked ratios with ``baseline``'s.

    ``threshold`` overrides every ratio's own threshold when given.
    """
    rows = [
        "| tracked ratio (higher = slower) | baseline | this run | change | threshold | verdict |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    passed, compared = True, 0
    for ratio in GATE:
        new, old = ratio.measure(run), ratio.measure(baseline)
        if new is None or old is None:
            rows.append(
                f"| {ratio} | {'—' if old is None else f'{old[0]:.3f}'} | "
                f"{'—' if new is None else f'{new[0]:.3f}'} | | not in both runs |"
            )
            continue
        compared += 1
        limit = ratio.threshold if threshold is None else threshold
        change = new[0] / old[0] - 1
        bad = change > limit
        passed &= not bad
        verdict = "**REGRESSION**" if bad else "ok"
        rows.append(
            f"| {ratio} | {old[0]:.3f} | {new[0]:.3f} | {change:+.1%} | +{limit:.0%} | {verdict} |"
        )
    if compared == 0:
        raise ValueError("the run and the baseline share no tracked ratio: nothing to compare")
    return passed, rows


# --------------------------------------------------------------------------- the report


def _ms(s: float) -> str:
    return f"{s * 1e3:.3f}"


def _case_rows(b: dict[str, Any]) -> Iterator[tuple[str, float, float, int, int]]:
    info = b["extra_info"]
    for case, times in info["times_s"].items():
        q1, med, q3 = _quartiles(times)
        yield case, med, q3 - q1, info["per"][case], len(times)


def _epoch_section(run: dict[str, Any]) -> list[str]:
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
        cpu = _bench(run, b["name"].replace("[cuda-", "[cpu-"))
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


def _batch_section(run: dict[str, Any], out_dir: Path | None) -> list[str]:
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

    from sgdbench import plots  # selects matplotlib's Agg backend before pyplot draws

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
    plots.save(fig, path)


def _tta_section(run: dict[str, Any]) -> list[str]:
    benches = [b for b in run["benchmarks"] if b["name"].startswith("test_time_to_accuracy")]
    lines: list[str] = []
    for b in benches:
        info = b["extra_info"]
        lines += [
            f"## Time to {info['target']:.0%} test accuracy ({info['device']})",
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


def targets(run: dict[str, Any]) -> list[tuple[str, float | None, float, str]]:
    """(figure, measured or None, target, "≥" or "≤") for each of the README's targets."""

    def med(bench: str, num: str, den: str) -> float | None:
        m = Ratio(bench, num, den).measure(run)
        return None if m is None else m[0]

    it = med("test_iteration_cost[cpu-n800]", "DataLoader", "Batches")
    sgd = med("test_epoch_cost[cpu-n800]", "SGD-32 DataLoader", "SGD-32 Batches")
    gd = med("test_epoch_cost[cpu-n800]", "GD DataLoader", "GD Batches")
    over = med("test_train_test_overhead", "train_test", "bare loop")
    return [
        ("Batches iteration speed-up over DataLoader, b = 32", it, 20.0, "≥"),
        ("SGD-32 epoch speed-up, Batches over DataLoader", sgd, 1.3, "≥"),
        ("GD epoch speed-up, Batches over DataLoader", gd, 6.0, "≥"),
        ("train_test / bare loop (epoch incl. evaluation)", over, 1.05, "≤"),
    ]


def met(value: float, target: float, op: str) -> bool:
    return value >= target if op == "≥" else value <= target


def _targets_section(run: dict[str, Any]) -> list[str]:
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
    ep, itb = _bench(run, "test_epoch_cost[cpu-n800]"), _bench(run, "test_iteration_cost[cpu-n800]")
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


def render(
    run: dict[str, Any],
    out_dir: Path | None = None,
    gate_rows: list[str] | None = None,
    instructions: list[str] | None = None,
) -> str:
    """The whole BENCHMARKS.md text; writes the batch-size plot into ``out_dir`` if given.

    ``instructions``: the instruction-count section (``instrreport.section``), when counted.
    """
    mi = run["machine_info"]
    sb, cpu = mi["sgdbench"], mi.get("cpu", {})
    lines = [
        "# sgdbench benchmarks",
        "",
        f"Written by `nox -s bench` from pytest-benchmark's JSON "
        f"(`benchmarks/{run_label(run)}-latest.json`). Run of {run.get('datetime', '?')}.",
        "",
        f"- machine: {cpu.get('brand_raw', mi.get('processor', '?'))}, "
        f"{cpu.get('count', '?')} cores, Python {mi.get('python_version', '?')}",
        f"- torch {sb['torch']}, {sb['torch_threads']} thread(s), CUDA {sb['cuda_version']}, "
        f"device {sb['device_name']}",
        f"- injected slowdown: {sb['slowdown_us']} µs per batch (0 in a normal run)",
        "",
    ]
    if gate_rows:
        lines += ["## Regression gate (wall-time ratios)", "", *gate_rows, ""]
    lines += [*_targets_section(run), ""]
    if instructions:
        lines += [*instructions, ""]
    lines += [*_epoch_section(run), ""]
    lines += [*_batch_section(run, out_dir), ""]
    lines += _tta_section(run)
    return "\n".join(lines).rstrip() + "\n"
