"""The git the gate and the commit finder need: a base commit, and a commit checked out apart.

Both count other commits exactly as they count this tree (``benchmarks/instructions.py``'s
``count`` with ``root`` at the checkout): the counting is always this tree's, the code counted
the commit's.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["GitError", "base_commit", "checkout", "git", "subject"]

_WORKTREES = threading.Lock()  # git's worktree bookkeeping is not safe to change concurrently


class GitError(RuntimeError):
    """A git command failed; the message is one line (git's own last line)."""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise GitError(f"git {' '.join(args)}: {last}")
    return done.stdout.strip()


def subject(repo: Path, commit: str) -> str:
    """``abc1234 the commit's subject line`` (cut at 72 characters)."""
    line = git(repo, "show", "-s", "--format=%h %s", commit)
    return line if len(line) <= 72 else line[:71] + "…"


def base_commit(repo: Path, main: str = "main") -> tuple[str, str]:
    """(commit, why) of the base a paired run judges HEAD against.

    Uncommitted changes: HEAD itself (the change under test is the diff). A branch off main:
    the merge-base with main. On main (the merge-base is HEAD): HEAD's first parent, the
    previous commit on main. GitError when there is none (a first commit, not a repository).
    """
    head = git(repo, "rev-parse", "HEAD")
    if git(repo, "status", "--porcelain", "--untracked-files=no"):
        return head, "HEAD, under the uncommitted changes"
    for ref in (main, f"origin/{main}"):
        try:
            merge_base = git(repo, "merge-base", "HEAD", ref)
        except GitError:
            continue
        if merge_base != head:
            return merge_base, f"the merge-base with {ref}"
        break
    try:
        return git(repo, "rev-parse", "HEAD^1"), f"the previous commit on {main} (HEAD^1)"
    except GitError:
        raise GitError(f"HEAD ({head[:12]}) has no parent: no base commit to pair with") from None


@contextmanager
def checkout(repo: Path, commit: str) -> Iterator[Path]:
    """``commit`` in a detached git worktree of ``repo``, removed afterwards (interrupted too)."""
    with tempfile.TemporaryDirectory(prefix="sgdbench-tree-") as tmp:
        where = Path(tmp) / Path(tmp).name  # a name of its own in .git/worktrees/
        with _WORKTREES:
            git(repo, "worktree", "add", "--detach", "--quiet", str(where), commit)
        try:
            yield where
        finally:
            with _WORKTREES:
                for args in (["remove", "--force", str(where)], ["prune"]):
                    cmd = ["git", "-C", str(repo), "worktree", *args]
                    subprocess.run(cmd, capture_output=True, check=False)
