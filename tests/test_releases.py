"""sgdbench.releases without installing anything: release names, the tables, the differing
cells, the refusal to finish while one is unexplained, and a failing release as an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sgdbench.cli import main
from sgdbench.releases import session
from sgdbench.releases.explanations import Explanation
from sgdbench.releases.matrix import FORMAT, check_table, differences, merge, tally
from sgdbench.releases.plan import DEFAULT_RELEASES, Release, parse_releases
from sgdbench.releases.render import render, stale, unexplained


def result(check: str, dtype: str, status: str, fact: bool = False) -> dict[str, Any]:
    return {
        "id": f"{check}[cpu-{dtype}]",
        "check": check,
        "variant": f"cpu-{dtype}",
        "status": status,
        "fact_only": fact,
        "message": "",
    }


def record(label: str, grad: tuple[str, str] = ("holds", "holds"), **kw: Any) -> dict[str, Any]:
    """A release where torch-sgd-foreach ran two checks, and torch-sgd-fused is missing."""
    results = [
        result("optimizer.plain_step", "float32", "holds"),
        result("optimizer.plain_step", "float64", "holds"),
        result("optimizer.grad_unchanged", "float32", grad[0]),
        result("optimizer.grad_unchanged", "float64", grad[1]),
        result("optimizer.weight_decay_decoupled", "float32", "fails", fact=True),
    ]
    rec = {
        "release": label,
        "build": "cpu" if label.endswith("+cpu") else "cuda",
        "ran": True,
        "error": "",
        "subjects": {
            "torch-sgd-foreach": {"status": "ran", "reason": "", "results": results},
            "torch-sgd-fused": {"status": "n/a", "reason": "no fused", "results": []},
        },
        "instructions": {"cases": {"SGD-32 DataLoader": {"instructions": [1000], "steps": 25}}},
    }
    rec.update(kw)
    return rec


# ----------------------------------------------------------------------------- release names


def test_default_releases_span_at_least_six_from_the_declared_minimum() -> None:
    releases = parse_releases(DEFAULT_RELEASES)
    assert len(releases) >= 6
    assert (releases[0].major, releases[0].minor) == (2, 2)


def test_releases_sort_by_version_cuda_build_before_cpu() -> None:
    labels = [r.label for r in parse_releases(["2.13.0+cpu", "2.10.0", "2.13.0", "2.2.2"])]
    assert labels == ["2.2.2", "2.10.0", "2.13.0", "2.13.0+cpu"]


def test_requirements_pin_numpy_below_2_for_torch_2_2_only() -> None:
    assert Release(2, 2, 2).requirements() == ["torch==2.2.2", "numpy<2"]
    assert Release(2, 13, 0, "cpu").requirements() == ["torch==2.13.0+cpu"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2.4", "release must be MAJOR.MINOR.PATCH or MAJOR.MINOR.PATCH+cpu"),
        ("2.4.1+cu121", "release must be MAJOR.MINOR.PATCH or MAJOR.MINOR.PATCH+cpu"),
        ("2.1.2", "release must be ≥ 2.2 (pyproject.toml: torch>=2.2), but got '2.1.2'"),
    ],
)
def test_a_bad_release_is_an_error_naming_the_argument(given: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^release must") as e:
        parse_releases([given])
    assert message in str(e.value)


def test_a_repeated_release_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"more than once: \['2.4.1'\]"):
        parse_releases(["2.4.1", "2.4.1"])


# ----------------------------------------------------------------------------- tables


def test_cells_merge_dtypes_and_mark_facts_missing_paths_and_errors() -> None:
    broken = record("2.6.0", ran=False, error="RuntimeError: pip install failed", subjects={})
    records = [record("2.4.1", grad=("fails", "holds")), broken]
    rows, cells = check_table(records)
    assert rows == [
        "torch-sgd-foreach · optimizer.plain_step",
        "torch-sgd-foreach · optimizer.grad_unchanged",
        "torch-sgd-foreach · optimizer.weight_decay_decoupled",
    ]
    assert cells["torch-sgd-foreach · optimizer.plain_step"] == {"2.4.1": "holds", "2.6.0": "error"}
    assert cells["torch-sgd-foreach · optimizer.grad_unchanged"]["2.4.1"] == "FAILS f32, holds f64"
    assert cells["torch-sgd-foreach · optimizer.weight_decay_decoupled"]["2.4.1"] == (
        "fact: does not hold"
    )
    assert tally(records[0]) == {
        **dict.fromkeys(("holds", "fails", "n/a", "xfail", "facts", "errors", "missing"), 0),
        "holds": 3,
        "fails": 1,
        "facts": 1,
        "missing": 1,
    }


def test_a_changed_cell_is_a_difference_and_an_error_cell_is_skipped() -> None:
    records = [
        record("2.2.2"),
        record("2.4.1", ran=False, error="boom", subjects={}),
        record("2.6.0", grad=("fails", "fails")),
        record("2.9.1", grad=("fails", "fails")),
    ]
    found = [d for d in differences(records) if d.table == "checks"]
    assert [(d.row, d.previous, d.release, d.before, d.after) for d in found] == [
        ("torch-sgd-foreach · optimizer.grad_unchanged", "2.2.2", "2.6.0", "holds", "FAILS")
    ]


def test_instruction_counts_differ_only_beyond_one_percent() -> None:
    a, b, c = record("2.2.2"), record("2.4.1"), record("2.6.0")
    b["instructions"]["cases"]["SGD-32 DataLoader"]["instructions"] = [1009]
    c["instructions"]["cases"]["SGD-32 DataLoader"]["instructions"] = [1100]
    found = [d for d in differences([a, b, c]) if d.table == "instructions"]
    assert [(d.previous, d.release, d.before, d.after) for d in found] == [
        ("2.4.1", "2.6.0", "40", "44")
    ]


def test_merge_replaces_a_release_and_keeps_release_order() -> None:
    merged = merge([record("2.9.1"), record("2.2.2")], [record("2.4.1"), record("2.9.1", x=1)])
    assert [r["release"] for r in merged] == ["2.2.2", "2.4.1", "2.9.1"]
    assert merged[-1]["x"] == 1


# ----------------------------------------------------------------------------- explanations


def test_render_lists_an_unexplained_difference_and_an_explanation_covers_it() -> None:
    records = [record("2.2.2"), record("2.4.1", grad=("fails", "fails"))]
    text, missing = render(records, {"sessions": []}, notes=())
    assert [d.release for d in missing] == ["2.4.1"]
    assert "UNEXPLAINED" in text
    note = Explanation("foreach writes grads", "*foreach · optimizer.grad_unchanged", "2.4.*", "…")
    text, missing = render(records, {"sessions": []}, notes=(note,))
    assert missing == []
    assert "### foreach writes grads" in text and "**FAILS** ◆" in text
    diffs = differences(records)
    wrong = Explanation("typo", "*grad_unchnged", "*", "…")
    assert stale(diffs, (note, wrong)) == [wrong]
    assert unexplained(diffs, (wrong,)) == diffs


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"format": FORMAT, "sessions": [], "releases": records}))
    return path


def test_report_refuses_to_write_while_a_difference_is_unexplained(tmp_path: Path) -> None:
    records = [record("2.2.2"), record("2.4.1", grad=("fails", "fails"))]
    src = _write(tmp_path / "in.json", records)
    out = tmp_path / "results"
    out.mkdir()
    (out / "RELEASES.md").write_text("before")
    code = main(["releases-report", str(src), "--out", str(out), "--work", str(tmp_path / "w")])
    assert code == 1
    assert (out / "RELEASES.md").read_text() == "before"
    assert not (out / "releases.json").exists()
    assert (tmp_path / "w" / "RELEASES.draft.md").exists()


def test_report_writes_when_nothing_differs(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.json", [record("2.2.2"), record("2.4.1")])
    out = tmp_path / "results"
    assert main(["releases-report", str(src), "--out", str(out), "--work", str(tmp_path)]) == 0
    assert (
        "| torch-sgd-foreach · optimizer.plain_step | holds | holds |"
        in (out / "RELEASES.md").read_text()
    )


def test_bad_input_is_exit_2_naming_the_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subjects = tmp_path / "s.json"
    subjects.write_text("{}")
    assert main(["releases", "2.1.0", "--subjects", str(subjects), "--work", str(tmp_path)]) == 2
    assert "release must be ≥ 2.2" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    assert main(["releases-report", str(tmp_path / "bad.json")]) == 2
    assert "is not a releases file" in capsys.readouterr().err


# ----------------------------------------------------------------------------- a failing release


def test_a_release_whose_install_fails_is_recorded_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any) -> float:
        raise RuntimeError("pip install torch==2.4.1 failed:\nERROR: No matching distribution")

    monkeypatch.setattr(session, "_timed_install", fail)
    monkeypatch.setattr(session.subprocess, "run", lambda *a, **k: None)  # no venv made
    rec = session.run_release(Release(2, 4, 1), {}, tmp_path)
    assert rec["ran"] is False
    assert rec["error"].startswith("RuntimeError: pip install torch==2.4.1 failed")
    assert not (tmp_path / "envs" / "2.4.1").exists()
    text, missing = render([record("2.2.2"), rec], {"sessions": []}, notes=())
    assert missing == []
    assert "- 2.4.1: **error** RuntimeError: pip install torch==2.4.1 failed" in text


def test_a_release_is_not_installed_below_the_free_disk_floor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Usage:
        free = 3 * 10**9

    monkeypatch.setattr(session.shutil, "disk_usage", lambda path: Usage)
    rec = session.run_release(Release(2, 4, 1), {}, tmp_path)
    assert rec["error"] == "not installed: 3.0 GB free, below 15 GB"


def test_the_committed_matrix_is_fully_explained_by_the_current_explanations() -> None:
    """results/RELEASES.md is finished: no differing cell without an explanation, and no
    explanation that covers nothing (edit explanations.py, run this)."""
    from sgdbench.releases.explanations import EXPLANATIONS

    path = Path(__file__).parents[1] / "results" / "releases.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    diffs = differences(data["releases"])
    assert unexplained(diffs, EXPLANATIONS) == []
    assert stale(diffs, EXPLANATIONS) == []
    assert len(data["releases"]) >= 6
