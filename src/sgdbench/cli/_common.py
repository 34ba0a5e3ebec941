"""What every subcommand shares: the parser that fails in one line, argument types, progress."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sgdbench._args import Parser, ddp_options, int_at_least, seconds

__all__ = [
    "Parser",
    "ddp_options",
    "fraction",
    "int_at_least",
    "progress",
    "run_options",
    "seconds",
]


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, but got {text!r}") from None
    if not 0 < value < 10:
        raise argparse.ArgumentTypeError(f"must be in (0, 10), but got {value}")
    return value


def run_options(parser: argparse.ArgumentParser, default_seeds: int) -> None:
    """--epochs, --seeds, --out: what every experiment subcommand takes."""
    parser.add_argument(
        "--epochs",
        type=int_at_least(1, 100_000),
        default=100,
        help="epochs per run, 1..100000 (default: 100, as the chapter)",
    )
    parser.add_argument(
        "--seeds",
        type=int_at_least(1, 1000),
        default=default_seeds,
        help=f"number of seeds, 1..1000; seeds 0..N-1 are run (default: {default_seeds})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="folder to write into; created if missing (default: results/)",
    )
