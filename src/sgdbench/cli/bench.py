"""``bench-report``: a pytest-benchmark run into results/, and the regression gate."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sgdbench._output import staged_output


def _error(message: str) -> int:
    print(f"python -m sgdbench bench-report: error: {message}", file=sys.stderr)
    return 2


def bench_report(args: argparse.Namespace) -> int:
    """pytest-benchmark JSON (and instruction counts) → BENCHMARKS.md, plot, stored JSON;
    with --compare, the gates: on instructions when counted (the wall-time ratios then only
    warn), else on the wall-time ratios."""
    import shutil

    from sgdbench import benchreport, instrreport
    from sgdbench.benchheadline import headline
    from sgdbench.distributed import bench as ddp_bench

    try:
        run = benchreport.load(args.run)
        counts = instrreport.load(args.instructions) if args.instructions else None
    except (OSError, ValueError) as e:
        return _error(str(e))
    label = benchreport.run_label(run)
    store = Path(args.out) / "benchmarks"
    gate_rows, instr_rows, verdicts = None, None, []
    if args.compare:
        baseline_path = args.baseline or store / f"{label}-baseline.json"
        try:
            passed, gate_rows = benchreport.gate(
                run, benchreport.load(baseline_path), args.threshold
            )
        except (OSError, ValueError) as e:
            return _error(f"baseline: {e}")
        print("\n".join(gate_rows))
        if not passed and counts is None:
            print(
                f"regression gate: a tracked ratio worsened beyond its threshold against "
                f"{baseline_path}; {args.out} left as it was",
                file=sys.stderr,
            )
            return 1
        verdicts.append(
            "wall-time ratios ok"
            if passed
            else "wall-time ratios WORSENED (a warning: instructions are gated)"
        )
    if args.compare and counts is not None:
        ipath = args.instructions_baseline or store / f"{label}-instructions-baseline.json"
        try:
            ipassed, instr_rows = instrreport.gate(counts, instrreport.load(ipath))
        except (OSError, ValueError) as e:
            return _error(f"instruction baseline: {e}")
        print("\n".join(instr_rows))
        if ipassed is False:
            print(
                f"instruction gate: a count or ratio grew beyond +{instrreport.THRESHOLD:.0%} "
                f"against {ipath}; {args.out} left as it was",
                file=sys.stderr,
            )
            return 1
        verdicts.append("instructions ok" if ipassed else "instructions: no comparable baseline")
    section = None
    if counts is not None:
        section = instrreport.section(counts, _time_ratios(run))
        if instr_rows:
            section += ["", "### Instruction gate", "", *instr_rows]
    with staged_output(args.out) as stage:
        text = benchreport.render(run, stage, gate_rows, section)
        ddp = store / ddp_bench.STORE  # ddp-bench's last measurement: its section is kept
        if ddp.exists():
            text = ddp_bench.with_section(text, json.loads(ddp.read_text(encoding="utf-8")))
        (stage / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    store.mkdir(exist_ok=True)
    with staged_output(store) as stage:
        shutil.copyfile(args.run, stage / f"{label}-latest.json")
        if counts is not None:
            shutil.copyfile(args.instructions, stage / f"{label}-instructions-latest.json")
        if args.save_baseline:
            shutil.copyfile(args.run, stage / f"{label}-baseline.json")
            if counts is not None:
                shutil.copyfile(args.instructions, stage / f"{label}-instructions-baseline.json")
    report = Path(args.out) / "BENCHMARKS.md"
    print(headline(run, counts, str(report), "; ".join(verdicts) or "not run (--compare)"))
    return 0


def _time_ratios(run: dict[str, object]) -> dict[str, float]:
    """The wall-time medians of the ratios the instruction section lists (same names)."""
    from sgdbench import benchreport, instrreport

    where = {
        "iteration": "test_iteration_cost[cpu-n800]",  # its cases are named by pipeline only
        "SGD-32": "test_epoch_cost[cpu-n800]",
        "GD": "test_epoch_cost[cpu-n800]",
        "train_test": "test_train_test_overhead",
        "reference.SGD": "test_reference_sgd_cost",
    }
    out = {}
    for num, den in instrreport.RATIOS:
        first = num.split()[0]
        n, d = (num.split()[-1], den.split()[-1]) if first == "iteration" else (num, den)
        m = benchreport.Ratio(where[first], n, d).measure(run)
        if m is not None:
            out[f"{num} / {den}"] = m[0]
    return out
