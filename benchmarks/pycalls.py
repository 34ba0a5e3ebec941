"""Python-level calls per epoch of the counted cases: which functions an epoch runs, how often.

``python -m benchmarks.pycalls --out CALLS.json [--case NAME ...]`` builds the same cases as
``benchmarks.instructions`` (same builders, same seeds), warms each up, then runs one epoch
under ``sys.setprofile`` and counts every Python function entered (``file:line name``, the
file relative to its ``site-packages`` or to this repository) and every C function called
from Python. Deterministic, like instruction counts, and it names the source lines a change
between two torch releases added or removed: ``nox -s releases`` explanations cite it.

CALLS.json: ``{"torch": version, "cases": {name: {"steps": steps per epoch, "calls":
{function: calls per epoch}}}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks.instructions import WARMUP, selected
from sgdbench.releases.session import COUNTED

ROOT = Path(__file__).resolve().parents[1]


def _where(filename: str) -> str:
    """The file relative to site-packages (torch/optim/sgd.py) or to the repository."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        return Path(filename).name


def profile(fn: Any) -> Counter[str]:
    """Every Python function entered and C function called in one call of ``fn``."""
    calls: Counter[str] = Counter()

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            code = frame.f_code
            calls[f"{_where(code.co_filename)}:{code.co_firstlineno} {code.co_name}"] += 1
        elif event == "c_call":
            calls[f"C {getattr(arg, '__qualname__', repr(arg))}"] += 1

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(prog="python -m benchmarks.pycalls")
    parser.add_argument("--out", type=Path, required=True, help="CALLS.json to write")
    parser.add_argument("--case", action="append", metavar="NAME", help="(repeatable)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        run, steps = selected(args.case or list(COUNTED))
    except ValueError as e:
        parser.error(str(e))
    cases = {}
    for name, fn in run.items():
        for _ in range(WARMUP):
            fn()
        cases[name] = {"steps": steps[name], "calls": dict(sorted(profile(fn).items()))}
    data = {"torch": torch.__version__, "cases": cases}
    args.out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
