"""``bench-report``: a pytest-benchmark run into results/, and the regression gate;
``bench-history``: the gate's history.

The work is :func:`sgdbench.bench.publish.publish`; here only the options become its request
and a bad input file becomes one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys


def _error(message: str) -> int:
    print(f"python -m sgdbench bench-report: error: {message}", file=sys.stderr)
    return 2


def bench_report(args: argparse.Namespace) -> int:
    """pytest-benchmark JSON (and instruction counts) → BENCHMARKS.md, plot, stored JSON;
    with --compare, the gates: on instructions when counted (the wall-time ratios then only
    warn), else on the wall-time ratios."""
    from sgdbench.bench.publish import InputError, Request, publish

    request = Request(
        run=args.run,
        out=args.out,
        instructions=args.instructions,
        compare=args.compare,
        baseline=args.baseline,
        threshold=args.threshold,
        instructions_baseline=args.instructions_baseline,
        save_baseline=args.save_baseline,
        history=args.history,
    )
    try:
        return publish(request)
    except InputError as e:
        return _error(str(e))


def bench_history(args: argparse.Namespace) -> int:
    """The gate's history as a table per commit, its steps, and (--plot) the trend plot."""
    from sgdbench.bench import history
    from sgdbench.bench.history_plot import plot

    prog = "python -m sgdbench bench-history"
    try:
        records = history.load(args.history)
    except (OSError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    known = sorted({k for r in records for k in r["counts"]})
    unknown = [c for c in args.case or [] if c not in known]
    if unknown:
        print(f"{prog}: error: --case must be one of {known}, but got {unknown}", file=sys.stderr)
        return 2
    print("\n".join(history.series(records, args.case)))
    if args.plot is not None and records:
        plot(records, args.plot, args.case)
        print(f"trend plot: {args.plot}")
    return 0
