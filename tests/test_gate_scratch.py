"""The gate and the commit finder on a planted history, under real callgrind (slow).

A scratch repository holds this tree's ``src/`` and ``benchmarks/`` and a few commits after
it, one of which adds one tensor op to every training step (``torch.add(batch_X, 0.0)`` in
``train_epoch``: +2.5 % on an SGD-32 epoch, docs/instructions.md). The gate, with no baseline
to match, pairs HEAD with its base commit and must fail on that commit and pass on a commit
that changes no code; the commit finder must name exactly the planted commit.

Counts are deterministic up to the A/A spread (≤ 0.4 % here, docs/instructions.md), 6 times
under the +2.5 % planted change, so neither test has a false-alarm budget to state: a wrong
verdict is a bug. They count one case, once per process, to stay near a minute each.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sgdbench.bench import counts, gates

ROOT = Path(__file__).resolve().parents[1]
CASE = "SGD-32 Batches"
STEP = "        optimizer.zero_grad()\n        loss = criterion(model(batch_X), batch_y)  # forward"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind (apt-get)"),
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _commit(repo: Path, message: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    return _git(repo, "rev-parse", "HEAD")


def _scratch(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A repository with: base, docs, the planted op, docs again; their commits by name."""
    repo = tmp_path / "scratch"
    for part in ("src", "benchmarks"):
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
        shutil.copytree(ROOT / part, repo / part, ignore=ignore)
    _git(repo.parent, "init", "-q", "-b", "main", str(repo))
    (repo / "README.md").write_text("scratch\n")
    commits = {"base": _commit(repo, "base")}
    (repo / "README.md").write_text("scratch, documented\n")
    commits["docs"] = _commit(repo, "docs only")
    training = repo / "src" / "sgdbench" / "training.py"
    text = training.read_text()
    assert text.count(STEP) == 1, "train_epoch changed: update the planted line"
    training.write_text(text.replace(STEP, "        torch.add(batch_X, 0.0)\n" + STEP))
    commits["planted"] = _commit(repo, "one more op per step")
    (repo / "README.md").write_text("scratch, documented twice\n")
    commits["later"] = _commit(repo, "docs again")
    return repo, commits


def _gate(repo: Path, tmp_path: Path) -> tuple[bool, list[str]]:
    c, r = tmp_path / "c.json", tmp_path / "r.json"
    cmd = [sys.executable, "-m", "benchmarks.gate", "--repo", str(repo), "--counts", str(c),
           "--reference", str(r), "--case", CASE, "--repeats", "1"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return gates.instructions(counts.load(c), counts.load(r))


def test_the_paired_gate_fails_the_planted_commit_and_passes_a_docs_commit(
    tmp_path: Path,
) -> None:
    repo, commits = _scratch(tmp_path)
    _git(repo, "checkout", "-q", commits["planted"])
    passed, rows = _gate(repo, tmp_path)
    assert not passed, "\n".join(rows)
    assert rows[0].startswith(f"Judged against the paired base {commits['docs'][:7]} docs only")
    assert any(f"| {CASE} (per epoch)" in r and "**REGRESSION**" in r for r in rows)
    _git(repo, "checkout", "-q", commits["later"])
    passed, rows = _gate(repo, tmp_path)
    assert passed, "\n".join(rows)
    assert rows[0].startswith(f"Judged against the paired base {commits['planted'][:7]}")


def test_findcommit_names_the_planted_commit(tmp_path: Path) -> None:
    repo, commits = _scratch(tmp_path)
    cmd = [sys.executable, "-m", "benchmarks.findcommit", commits["base"], commits["later"],
           "--repo", str(repo), "--case", CASE]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last == f"First commit that moved: {commits['planted'][:7]} one more op per step"
    # GOOD twice and BAD, then the two commits between: 'docs only' held, the planted one moved
    assert sum(line.startswith("| ") for line in done.stdout.splitlines()) == 2 + 3
    nothing = [*cmd[:3], commits["base"], commits["docs"], *cmd[5:]]
    done = subprocess.run(nothing, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "Nothing moved between GOOD and BAD" in done.stdout
