"""``bench-report``: a pytest-benchmark run into results/, and the regression gate.

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
    )
    try:
        return publish(request)
    except InputError as e:
        return _error(str(e))
