"""Command-line arguments every entry point shares: ``python -m sgdbench`` (:mod:`sgdbench.cli`)
and one data-parallel rank (``torchrun … -m sgdbench.distributed``).

Low-level on purpose: the rank program sits in :mod:`sgdbench.distributed`, below the CLI, and
must not import it. :mod:`sgdbench.cli._common` re-exports these names.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

__all__ = ["Parser", "ddp_options", "int_at_least", "seconds"]


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, but got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            hi = "" if maximum is None else f" and ≤ {maximum}"
            raise argparse.ArgumentTypeError(f"must be ≥ {minimum}{hi}, but got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, but got {text!r}") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"must be in (0, 86400] seconds, but got {value}")
    return value


def ddp_options(parser: argparse.ArgumentParser) -> None:
    """--batch-size, --seed, --timeout (and the tests' hidden --fault): every data-parallel run."""
    parser.add_argument(
        "--batch-size",
        type=int_at_least(1),
        default=32,
        help="global batch, split evenly over the ranks (default: 32, the chapter's)",
    )
    parser.add_argument("--seed", type=int_at_least(0), default=0, help="(default: 0)")
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=60.0,
        help="seconds any collective may wait before the run fails (default: 60)",
    )
    parser.add_argument("--fault", help=argparse.SUPPRESS)  # tests only: KIND:RANK:STEP
