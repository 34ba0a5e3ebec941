"""Find the commit that moved the counts: ``python -m benchmarks.findcommit GOOD BAD``.

Like ``asv find``: the first-parent commits after GOOD up to BAD are searched by bisection for
the first one whose instruction counts moved past the gate's threshold against GOOD. Each commit
is checked out in a git worktree and counted by this tree's harness
(``benchmarks/instructions.py``, the same counting the gate uses), so only the counted code
differs. GOOD is counted twice (its A/A spread sets the threshold, max(1 %, 3 × spread), as in
the gate) and BAD once; then about log2(n) of the n commits between. ``nox -s bench_find --
GOOD BAD`` runs it.

Bisection assumes one step: the counts are as GOOD's up to some commit and as BAD's from it
on. The table it prints shows every commit it counted, so a second step, or a change that came
and went, shows there. ``--case`` (repeatable) narrows the cases counted (faster); by default
every case the gate tracks.

Exit statuses: 0 found (the commit is the last line), 1 nothing moved between GOOD and BAD
or a commit could not be counted (one line why), 2 bad arguments (GOOD not an ancestor of BAD,
an unknown revision or case).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks import _git
from benchmarks.instructions import ROOT, CountError, check_args, count
from sgdbench.bench import counts, gates

__all__ = ["Finder", "main"]


class Finder:
    """Counts commits of ``repo`` (each once, cached) and judges them against GOOD's."""

    def __init__(self, repo: Path, repeats: int, names: list[str] | None) -> None:
        self.repo, self.repeats, self.names = repo, repeats, names
        self.cache: dict[str, dict[str, Any]] = {}

    def count(self, commit: str) -> dict[str, Any]:
        if commit not in self.cache:
            with _git.checkout(self.repo, commit) as tree:
                try:
                    self.cache[commit] = count(tree, self.repeats, self.names, inject="0")
                except CountError as e:
                    raise CountError(
                        f"{_git.subject(self.repo, commit)} does not count: {e}"
                    ) from None
        return self.cache[commit]


def moved(data: dict[str, Any], good: dict[str, Any], limit: float) -> dict[str, float]:
    """The cases (and same-run ratios) whose count moved by more than ``limit`` against GOOD."""
    out = {}
    for case in data["cases"]:
        old, new = counts.median(good, case), counts.median(data, case)
        if old and new is not None and abs(new / old - 1) > limit:
            out[case] = new / old - 1
    for n, d in counts.RATIOS:
        old, new = counts.ratio(good, n, d), counts.ratio(data, n, d)
        if old and new is not None and abs(new / old - 1) > limit:
            out[f"{n} / {d}"] = new / old - 1
    return out


def find(
    repo: Path, good: str, bad: str, repeats: int, names: list[str] | None
) -> tuple[str | None, list[str]]:
    """(the first commit after ``good`` whose counts moved past the threshold, or None; the
    lines to print)."""
    commits = _git.git(repo, "rev-list", "--first-parent", "--reverse", f"{good}..{bad}").split()
    finder = Finder(repo, repeats, names)
    with ThreadPoolExecutor(max_workers=2) as pool:  # counts do not depend on the load
        jobs = [pool.submit(finder.count, good), pool.submit(count_again, finder, good)]
        jobs.append(pool.submit(finder.count, bad))
        first, again, last = (job.result() for job in jobs)
    spread = counts.aa_spread(first, again)
    limit = max(gates.INSTRUCTION_THRESHOLD, gates.AA_FACTOR * spread)
    lines = [
        f"{len(commits)} commits after {_git.subject(repo, good)} up to "
        f"{_git.subject(repo, bad)}; threshold +{limit:.2%} = max(1 %, "
        f"{gates.AA_FACTOR} × A/A spread {spread:.3%} of GOOD counted twice)",
        "",
        "| commit | moved past the threshold against GOOD |",
        "| --- | --- |",
    ]

    def row(commit: str, data: dict[str, Any]) -> dict[str, float]:
        found = moved(data, first, limit)
        text = ", ".join(f"{k} {v:+.2%}" for k, v in found.items()) or "nothing"
        lines.append(f"| {_git.subject(repo, commit)} | {text} |")
        return found

    if not row(bad, last):
        lines += ["", "Nothing moved between GOOD and BAD: no commit to name."]
        return None, lines
    lo, hi = -1, len(commits) - 1  # commits[lo] (GOOD at -1) held; commits[hi] moved
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if row(commits[mid], finder.count(commits[mid])):
            hi = mid
        else:
            lo = mid
    lines += ["", f"First commit that moved: {_git.subject(repo, commits[hi])}"]
    return commits[hi], lines


def count_again(finder: Finder, commit: str) -> dict[str, Any]:
    """A second, uncached count of ``commit`` (the A/A pair)."""
    with _git.checkout(finder.repo, commit) as tree:
        return count(tree, finder.repeats, finder.names, inject="0")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.findcommit")
    parser.add_argument("good", help="a commit whose counts are the reference")
    parser.add_argument("bad", help="a later commit whose counts moved")
    parser.add_argument("--repo", type=Path, default=ROOT, help="(default: this repository)")
    parser.add_argument("--repeats", type=int, default=1, help="repeats per case (default: 1)")
    parser.add_argument("--case", action="append", metavar="NAME", help="only this case")
    args = parser.parse_args(argv)
    check_args(parser, args.repeats, args.case)
    try:
        good = _git.git(args.repo, "rev-parse", "--verify", f"{args.good}^{{commit}}")
        bad = _git.git(args.repo, "rev-parse", "--verify", f"{args.bad}^{{commit}}")
        _git.git(args.repo, "merge-base", "--is-ancestor", good, bad)
    except _git.GitError as e:
        parser.error(f"GOOD must be an ancestor of BAD, both commits of {args.repo}: {e}")
    try:
        found, lines = find(args.repo, good, bad, args.repeats, args.case)
    except (CountError, _git.GitError) as e:
        print(f"findcommit: {e}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
