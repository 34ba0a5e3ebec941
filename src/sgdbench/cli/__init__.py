"""``python -m sgdbench``: run the chapter's experiments and write their evidence to results/.

One module per concern: ``experiments`` (reproduce, claims), ``bench`` (bench-report),
``check`` (the conformance suite), ``ddp`` (ddp-bench), ``releases`` (the conformance suite
across torch releases); this
module only builds the parser and dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import sgdbench
from sgdbench.cli import check as _check
from sgdbench.cli import ddp as _ddp
from sgdbench.cli import releases as _releases
from sgdbench.cli._common import (
    MAX_SEEDS,
    Parser,
    datasets,
    fraction,
    int_at_least,
    model_options,
    run_options,
)
from sgdbench.cli.bench import bench_history, bench_report
from sgdbench.cli.experiments import claims, reproduce

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m sgdbench",
        description="sgdbench: the chapter's SGD, weight decay and dropout, run and measured.",
    )
    parser.add_argument("--version", action="version", version=sgdbench.__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rep = sub.add_parser(
        "reproduce",
        help="the chapter's SGD-32 vs GD experiment on two moons: JSON and figures",
        description=(
            "Train the chapter's 2-16-2 network with SGD (batch 32, shuffled) and with full-batch "
            "gradient descent from seeds 0..N-1, write reproduce.json (metrics, byte-identical "
            "across runs), reproduce_timings.json and two PNG figures into --out, and print a "
            "summary. Files already in --out are replaced only if the whole run succeeds."
        ),
    )
    run_options(rep, default_seeds=1)
    model_options(rep)
    rep.add_argument(
        "--sequential",
        action="store_true",
        help="train one seed after another (train_test, timed per seed) instead of stacked; "
        "the numbers are the same, bit for bit",
    )
    rep.set_defaults(func=reproduce)

    cl = sub.add_parser(
        "claims",
        help="the chapter's empirical claims over many seeds: CLAIMS.md and figures",
        description=(
            "Check the chapter's empirical statements (SGD vs GD, test above train accuracy, "
            "noisy SGD, weight decay, dropout, sharp vs flat minima, step-size decay, momentum, "
            "dropout and low rank, the fair SGD-vs-GD comparison) over seeds 0..N-1 and write "
            "CLAIMS.md, claims.json and PNG figures into --out. Files already in --out "
            "are replaced only if the whole run succeeds."
        ),
    )
    run_options(cl, default_seeds=10)
    cl.add_argument(
        "--slow-seeds",
        type=int_at_least(1, MAX_SEEDS),
        default=None,
        help="seeds for the claims the stacked trainer cannot run: the Hessian's top eigenvalue "
        "(sharp vs flat) and training seconds (per second), one run each (default: "
        "min(S, 10))",
    )
    cl.add_argument(
        "--digits-seeds",
        type=int_at_least(1, MAX_SEEDS),
        default=None,
        help="seeds on the digits data set (default: min(S, 100))",
    )
    cl.add_argument(
        "--datasets",
        type=datasets,
        default=["two_moons", "digits"],
        help="comma-separated data sets: two_moons, digits (default: both)",
    )
    cl.add_argument(
        "--wide-seeds",
        type=int_at_least(1, MAX_SEEDS),
        default=None,
        help="seeds for the 128-128 dropout claims, whose cost is arithmetic that stacking "
        "does not share (default: min(S, 100))",
    )
    cl.set_defaults(func=claims)

    br = sub.add_parser(
        "bench-report",
        help="turn a benchmark run (pytest-benchmark JSON) into results/BENCHMARKS.md and a plot",
        description=(
            "Read RUN (written by `pytest benchmarks --benchmark-json RUN`, as `nox -s bench` "
            "does), write BENCHMARKS.md and bench_batch_size.png into --out and copy RUN to "
            "--out/benchmarks/LABEL-latest.json (LABEL: cpu, or the GPU's name). With --compare, "
            "first gate the run's tracked same-run ratios against the baseline: exit 1, and "
            "write nothing, if one worsened by more than its threshold."
        ),
    )
    br.add_argument("run", type=Path, help="pytest-benchmark JSON of sgdbench's benchmarks/")
    br.add_argument("--out", type=Path, default=Path("results"), help="(default: results/)")
    br.add_argument("--compare", action="store_true", help="gate against the baseline first")
    br.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="baseline JSON (default: OUT/benchmarks/LABEL-baseline.json)",
    )
    br.add_argument(
        "--threshold",
        type=fraction,
        default=None,
        help="relative worsening that fails the gate, for every tracked ratio "
        "(default: each ratio's own, from its measured noise; see docs/gate.md)",
    )
    br.add_argument(
        "--save-baseline",
        action="store_true",
        help="also store RUN as OUT/benchmarks/LABEL-baseline.json",
    )
    br.add_argument(
        "--instructions",
        type=Path,
        metavar="COUNTS",
        help="instruction counts (python -m benchmarks.instructions): a section in the report; "
        "with --compare, gated against OUT/benchmarks/LABEL-instructions-baseline.json, and "
        "the wall-time ratios then only warn",
    )
    br.add_argument(
        "--instructions-baseline",
        type=Path,
        default=None,
        help="instruction baseline (default: OUT/benchmarks/LABEL-instructions-baseline.json)",
    )
    br.add_argument(
        "--history",
        type=Path,
        default=None,
        help="the gate's history, appended when a gated run on main passes "
        "(default: OUT/benchmarks/history.jsonl)",
    )
    br.set_defaults(func=bench_report)

    bh = sub.add_parser(
        "bench-history",
        help="print the instruction gate's history per commit, its steps, and its trend plot",
        description=(
            "Read the gate's history (one record per gated commit on main, appended by "
            "`nox -s bench -- --compare --instructions`) and print each case's count per "
            "commit with its change, and every step: a commit where a case moved by at least "
            "that run's threshold. --plot writes the trend plot."
        ),
    )
    bh.add_argument(
        "--history",
        type=Path,
        default=Path("results/benchmarks/history.jsonl"),
        help="(default: results/benchmarks/history.jsonl)",
    )
    bh.add_argument("--case", action="append", metavar="NAME", help="only this case (repeatable)")
    bh.add_argument("--plot", type=Path, metavar="PNG", help="also write the trend plot here")
    bh.set_defaults(func=bench_history)

    _check.add_parser(sub)
    _ddp.add_parser(sub)
    _releases.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except OSError as e:
        detail = f"{e.strerror}: {e.filename}" if e.strerror and e.filename else str(e)
        print(f"{parser.prog} {args.command}: error: cannot write --out: {detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted; --out left as it was", file=sys.stderr)
        return 130
    return code
