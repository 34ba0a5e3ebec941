"""What every subcommand shares: the parser that fails in one line, argument types, progress."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sgdbench._args import Parser, ddp_options, int_at_least, seconds

__all__ = [
    "MAX_SEEDS",
    "Parser",
    "ddp_options",
    "fraction",
    "int_at_least",
    "model_options",
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


MAX_SEEDS = 100_000


def model_options(parser: argparse.ArgumentParser) -> None:
    """--hidden, --dropout, --optimizer, --optimizer-kwargs: the network and its SGD."""
    parser.add_argument(
        "--hidden",
        type=widths,
        default=(16,),
        help="hidden widths of the mlp, comma-separated (default: 16, the chapter's 2-16-2)",
    )
    parser.add_argument(
        "--dropout",
        type=probability,
        default=0.0,
        help="torch.nn.Dropout(p) after every hidden ReLU, p in [0, 1] (default: 0, none)",
    )
    parser.add_argument(
        "--optimizer",
        default="SGD",
        help="the optimizer: only SGD (torch.optim.SGD) is supported (default: SGD)",
    )
    parser.add_argument(
        "--optimizer-kwargs",
        type=json_object,
        default=None,
        metavar="JSON",
        help='torch.optim.SGD arguments, e.g. \'{"lr": 0.1, "momentum": 0.9}\' (default: the '
        "chapter's lr 0.1, momentum 0.9); lr, momentum, dampening, weight_decay, nesterov and "
        "maximize are supported",
    )


def widths(text: str) -> tuple[int, ...]:
    parts = text.split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be positive integers separated by commas, e.g. 16 or 64,64, but got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"every width must be ≥ 1, but got {text!r}")
    return values


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], but got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], but got {value}")
    return value


def datasets(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",")]
    unknown = [n for n in names if n not in ("two_moons", "digits")]
    if unknown or not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"must be two_moons, digits or both, comma-separated, but got {text!r}"
        )
    return names


def json_object(text: str) -> dict[str, object]:
    import json

    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"is not JSON ({e.msg}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, but got {text!r}")
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
        type=int_at_least(1, MAX_SEEDS),
        default=default_seeds,
        help=f"number of seeds S, 1..{MAX_SEEDS}; seeds 0..S-1 are run, stacked in one pass "
        f"(sgdbench.stacked) (default: {default_seeds})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="folder to write into; created if missing (default: results/)",
    )
