"""``bench-report``: a pytest-benchmark run into results/, and the regression gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sgdbench._output import staged_output


def bench_report(args: argparse.Namespace) -> int:
    """pytest-benchmark JSON → BENCHMARKS.md, plot, stored JSON; with --compare, the gate."""
    import shutil

    from sgdbench import benchreport

    try:
        run = benchreport.load(args.run)
    except (OSError, ValueError) as e:
        print(f"python -m sgdbench bench-report: error: {e}", file=sys.stderr)
        return 2
    label = benchreport.run_label(run)
    store = Path(args.out) / "benchmarks"
    gate_rows = None
    if args.compare:
        baseline_path = args.baseline or store / f"{label}-baseline.json"
        try:
            passed, gate_rows = benchreport.gate(
                run, benchreport.load(baseline_path), args.threshold
            )
        except (OSError, ValueError) as e:
            print(f"python -m sgdbench bench-report: error: baseline: {e}", file=sys.stderr)
            return 2
        print("\n".join(gate_rows))
        if not passed:
            print(
                f"regression gate: a tracked ratio worsened beyond its threshold against "
                f"{baseline_path}; {args.out} left as it was",
                file=sys.stderr,
            )
            return 1
        print(f"regression gate: passed against {baseline_path}", file=sys.stderr)
    with staged_output(args.out) as stage:
        (stage / "BENCHMARKS.md").write_text(
            benchreport.render(run, stage, gate_rows), encoding="utf-8"
        )
    store.mkdir(exist_ok=True)
    with staged_output(store) as stage:
        shutil.copyfile(args.run, stage / f"{label}-latest.json")
        if args.save_baseline:
            shutil.copyfile(args.run, stage / f"{label}-baseline.json")
    print(f"bench-report: wrote {Path(args.out) / 'BENCHMARKS.md'}", file=sys.stderr)
    return 0
