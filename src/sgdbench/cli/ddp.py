"""``ddp-bench``: data-parallel epoch cost against the world size → results/ (one section)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sgdbench._output import staged_output, write_json
from sgdbench.cli._common import ddp_options, int_at_least, progress

PROG = "python -m sgdbench ddp-bench"


def world_sizes(text: str) -> tuple[int, ...]:
    """``1,2,4`` → (1, 2, 4): distinct integers ≥ 1, ascending."""
    try:
        sizes = tuple(sorted({int(part) for part in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated integers ≥ 1 such as 1,2, but got {text!r}"
        ) from None
    if not sizes or sizes[0] < 1 or sizes[-1] > 64:
        raise argparse.ArgumentTypeError(f"each must be in 1..64, but got {text!r}")
    return sizes


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "ddp-bench",
        help="data-parallel (DDP, gloo) epoch cost and all-reduce share against the world size",
        description=(
            "Train the chapter's experiment under DistributedDataParallel on k local gloo ranks "
            "for each k in --world-sizes (global batch --batch-size split over the ranks), time "
            "every epoch and, in a second pass, every all-reduce; write "
            "OUT/benchmarks/ddp-cpu.json and the data-parallel section of OUT/BENCHMARKS.md. "
            "A rank that fails ends the run with one line naming it; OUT is then left as it was."
        ),
    )
    p.add_argument("--world-sizes", type=world_sizes, default=(1, 2), help="(default: 1,2)")
    p.add_argument("--epochs", type=int_at_least(2, 10_000), default=20, help="(default: 20)")
    ddp_options(p)
    p.add_argument("--out", type=Path, default=Path("results"), help="(default: results/)")
    p.set_defaults(func=ddp_bench)


def ddp_bench(args: argparse.Namespace) -> int:
    from sgdbench.bench.ddp_section import update_benchmarks_md
    from sgdbench.distributed import RankFailed
    from sgdbench.distributed.bench import STORE, Settings, measure

    bad = [k for k in args.world_sizes if args.batch_size % k]
    if bad:
        print(
            f"{PROG}: error: --batch-size {args.batch_size} must be divisible by every world "
            f"size, but not by {bad}",
            file=sys.stderr,
        )
        return 2
    settings = Settings(
        tuple(args.world_sizes), args.epochs, args.batch_size, args.seed, args.timeout, args.fault
    )
    try:
        data = measure(settings, progress)
    except RankFailed as e:
        print(f"{PROG}: {e}; {args.out} left as it was", file=sys.stderr)
        return 1
    out = Path(args.out)
    md = update_benchmarks_md(out / "BENCHMARKS.md", data)
    with staged_output(out / "benchmarks") as stage:
        write_json(stage / STORE, data)
    with staged_output(out) as stage:
        (stage / "BENCHMARKS.md").write_text(md, encoding="utf-8")
    print("\n".join(line for line in md.splitlines() if line.startswith("|")))
    return 0
