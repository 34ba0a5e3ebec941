"""The gate's choice of reference and its refusals, on scratch git repositories (fast: the
counting is replaced by canned counts; tests/test_gate_scratch.py counts for real)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from benchmarks import _git, gate

from tests.test_instrreport import counts


def _run(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _commit(repo: Path, name: str, text: str) -> str:
    (repo / "src" / name).write_text(text)
    _run(repo, "add", "-A")
    _run(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"edit {name}")
    return _run(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "benchmarks").mkdir()
    (repo / "benchmarks" / "x.py").write_text("")
    _run(tmp_path, "init", "-q", "-b", "main", str(repo))
    _commit(repo, "a.py", "1")
    return repo


def test_the_base_commit(repo: Path) -> None:
    first = _run(repo, "rev-parse", "HEAD")
    with pytest.raises(_git.GitError, match="has no parent: no base commit to pair with"):
        _git.base_commit(repo)
    second = _commit(repo, "a.py", "2")
    assert _git.base_commit(repo) == (first, "the previous commit on main (HEAD^1)")
    (repo / "src" / "a.py").write_text("3")
    assert _git.base_commit(repo) == (second, "HEAD, under the uncommitted changes")
    _run(repo, "checkout", "-q", "--", ".")
    _run(repo, "checkout", "-q", "-b", "feature")
    _commit(repo, "b.py", "1")
    _commit(repo, "b.py", "2")
    assert _git.base_commit(repo) == (second, "the merge-base with main")


def _fake_count(broken: bool = False) -> Any:
    def count(root: Path, repeats: int, names: Any, inject: str | None = None) -> dict[str, Any]:
        if broken and inject == "0":  # the base: it does not count
            raise gate.CountError("the callgrind run of /x failed (exit 1): ImportError: nope")
        return {**counts(), "tree": {"commit": "", "root": str(root)}}

    return count


def _gate(repo: Path, tmp_path: Path, baseline: Path) -> tuple[int, Path, Path]:
    c, r = tmp_path / "c.json", tmp_path / "r.json"
    args = ["--repo", str(repo), "--counts", str(c), "--reference", str(r)]
    code = gate.main([*args, "--baseline", str(baseline), "--case", "GD Batches"])
    return code, c, r


def test_the_baseline_when_the_fingerprints_match_whatever_the_host(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate, "count", _fake_count())
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(counts(cpu="Intel(R) Xeon(R) Processor")))
    code, c, r = _gate(repo, tmp_path, baseline)
    assert code == 0
    ref = json.loads(r.read_text())["reference"]
    assert ref["kind"] == "baseline" and ref["why"] == "fingerprints match"
    assert "aa" in json.loads(c.read_text())


def test_a_paired_base_when_they_differ(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run(repo, "rev-parse", "HEAD")
    _commit(repo, "a.py", "2")
    monkeypatch.setattr(gate, "count", _fake_count())
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(counts(fingerprint={"torch": "2.12.0"})))
    code, _, r = _gate(repo, tmp_path, baseline)
    assert code == 0
    ref = json.loads(r.read_text())["reference"]
    assert ref["kind"] == "paired" and ref["label"].startswith(f"the paired base {first[:7]}")
    assert ref["why"] == "the baseline's fingerprint differs: torch: '2.12.0' → '2.13.0+cpu'"
    assert _run(repo, "worktree", "list").count("\n") == 0  # the worktree is gone


def test_a_base_that_does_not_count_fails_the_gate_in_one_line(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, "a.py", "2")
    monkeypatch.setattr(gate, "count", _fake_count(broken=True))
    code, c, r = _gate(repo, tmp_path, tmp_path / "no-baseline.json")
    assert code == 1 and not c.exists() and not r.exists()
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("gate: cannot judge: the base commit ")
    assert last.endswith("ImportError: nope; the gate fails, nothing written")


def test_a_corrupt_baseline_is_named_and_exit_2(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(gate, "count", _fake_count())
    baseline = tmp_path / "baseline.json"
    baseline.write_text("{broken")
    code, c, _ = _gate(repo, tmp_path, baseline)
    assert code == 2 and not c.exists()
    assert f"gate: {baseline} is not JSON" in capsys.readouterr().err
