"""The instruction gate's counts: HEAD twice (the A/A spread), and the reference to judge it by.

``python -m benchmarks.gate --counts COUNTS.json --reference REF.json [--baseline B.json]``
(``nox -s bench -- --compare --instructions`` runs it) counts this tree twice, each in a fresh
process under callgrind (two at once: counts do not depend on the load), and then picks what
HEAD is judged against:

- **the committed baseline**, when its fingerprint (what the counted process ran on, read
  inside valgrind: docs/instructions.md) equals this run's, whatever the host's CPU name;
- **a paired base** otherwise (another torch, valgrind, Python, glibc, emulated CPU, or no
  baseline at all): the base commit (:func:`benchmarks._git.base_commit`: the merge-base with
  main, or the previous commit on main) checked out in a git worktree and counted by the same
  harness, in the same job.

COUNTS.json is HEAD's count with the second count's cases under ``"aa"``; REF.json is the
reference's count with ``"reference": {"kind": "baseline" | "paired", "label", "why"}``.
``python -m sgdbench bench-report --compare --instructions COUNTS.json
--instructions-baseline REF.json`` judges them. It never ends "not judged": a base that does not
check out or count is one line and exit 1 (the gate fails); a corrupt baseline is one line
naming it and exit 2. Nothing is written then.

``SGDBENCH_INJECT_STEP_OPS`` (the planted regression) reaches HEAD's counts only: it stands for
a change in HEAD, so the base is always counted without it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks import _git
from benchmarks.instructions import REPEATS, ROOT, CountError, check_args, count, write
from sgdbench.bench import counts

__all__ = ["aa_counts", "main", "reference"]


def _log(message: str) -> None:
    print(f"gate: {message}", file=sys.stderr, flush=True)


def aa_counts(root: Path, repeats: int, names: list[str] | None) -> dict[str, Any]:
    """``root`` counted twice at once; the first count, the second's cases under ``"aa"``.

    The second count runs on a copy of the tree's code (``src/``, ``benchmarks/``, uncommitted
    changes included) at a path like a worktree's: where the code lies shows up in the count
    (paths are strings the interpreter hashes and copies), and a paired base is counted from
    such a path, so the A/A spread includes that effect.
    """
    with tempfile.TemporaryDirectory(prefix="sgdbench-tree-") as tmp:
        copy = Path(tmp) / Path(tmp).name
        for part in ("src", "benchmarks"):
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(root / part, copy / part, ignore=ignore)
        with ThreadPoolExecutor(max_workers=2) as pool:
            a = pool.submit(count, root, repeats, names)
            b = pool.submit(count, copy, repeats, names)
            first, second = a.result(), b.result()
    return {**first, "aa": {"cases": second["cases"]}}


def reference(
    head: dict[str, Any],
    baseline: Path | None,
    repo: Path,
    repeats: int,
    names: list[str] | None,
    main: str = "main",
) -> dict[str, Any]:
    """The count HEAD is judged against: the baseline when the fingerprints match, else the
    base commit counted now. ValueError for a corrupt baseline; CountError or GitError when
    the base cannot be counted."""
    why = "no committed baseline"
    if baseline is not None and baseline.exists():
        base = counts.load(baseline)
        differs = counts.comparable(head, base)
        if not differs:
            label = f"the committed baseline {baseline}"
            return {**base, "reference": {"kind": "baseline", "label": label,
                                          "why": "fingerprints match"}}  # fmt: skip
        why = "the baseline's fingerprint differs: " + "; ".join(differs)
    commit, which = _git.base_commit(repo, main)
    _log(f"{why}; counting the base commit {_git.subject(repo, commit)} ({which})")
    with _git.checkout(repo, commit) as tree:
        try:
            base = count(tree, repeats, names, inject="0")
        except CountError as e:
            raise CountError(f"the base commit {commit[:12]} does not count: {e}") from None
    base["tree"]["commit"] = commit
    differs = counts.comparable(head, base)
    if differs:  # same harness, same interpreter: only a broken environment gets here
        raise CountError(f"the paired base's fingerprint differs too: {'; '.join(differs)}")
    label = f"the paired base {_git.subject(repo, commit)} ({which})"
    return {**base, "reference": {"kind": "paired", "label": label, "why": why}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gate")
    parser.add_argument("--counts", type=Path, required=True, help="HEAD's COUNTS.json to write")
    parser.add_argument("--reference", type=Path, required=True, help="REF.json to write")
    parser.add_argument("--baseline", type=Path, help="the committed instruction baseline")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--case", action="append", metavar="NAME", help="only this case")
    parser.add_argument("--main", default="main", help="the main branch (default: main)")
    parser.add_argument("--repo", type=Path, default=ROOT, help="(default: this repository)")
    args = parser.parse_args(argv)
    check_args(parser, args.repeats, args.case)
    inject = os.environ.get("SGDBENCH_INJECT_STEP_OPS", "0")
    _log(f"counting HEAD twice (A/A), SGDBENCH_INJECT_STEP_OPS={inject}")
    try:
        head = aa_counts(args.repo, args.repeats, args.case)
        ref = reference(head, args.baseline, args.repo, args.repeats, args.case, args.main)
    except ValueError as e:
        _log(f"{e}; nothing written")
        return 2
    except (CountError, _git.GitError) as e:
        _log(f"cannot judge: {e}; the gate fails, nothing written")
        return 1
    write(head, args.counts)
    write(ref, args.reference)
    _log(f"judging against {ref['reference']['label']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
