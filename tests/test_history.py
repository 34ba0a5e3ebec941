"""The gate's history: records, their bound, steps, the bench-history command, and bench-report
appending only a passed gate on a clean main checkout (never from a failed run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sgdbench import cli
from sgdbench.bench import history
from tests.test_instrreport import counts


def gated(commit: str, scale: dict[str, float] | None = None, **tree: Any) -> dict[str, Any]:
    data = counts(scale)
    data["tree"] = {"commit": commit, "date": "2026-12-06T07:00:00+00:00", "subject": f"s {commit}",
                    "branch": "main", "dirty": False, **tree}  # fmt: skip
    return data


def rec(commit: str, scale: dict[str, float] | None = None, **fp: Any) -> dict[str, Any]:
    data = gated(commit, scale)
    data["fingerprint"].update(fp)
    return history.record(data, "the baseline", 0.01, 0.001, {"ratio": 1.5})


def test_records_replace_their_commit_and_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    records = history.appended([], rec("a"))
    records = history.appended(records, rec("b"))
    records = history.appended(records, rec("a", {"GD Batches": 1.1}))
    assert [r["commit"] for r in records] == ["b", "a"]
    assert records[1]["counts"]["GD Batches"] == pytest.approx(1.6e6 * 1.1)
    monkeypatch.setattr(history, "MAX_RECORDS", 3)
    for c in "cdef":
        records = history.appended(records, rec(c))
    assert [r["commit"] for r in records] == ["d", "e", "f"]
    line = history.dumps([rec("a")])
    assert len(line) < 2000 and "cpu_flags" not in line  # the flags are in the id only


def test_steps_name_the_commit_and_a_fingerprint_change_starts_a_new_series() -> None:
    records = [
        rec("a"),
        rec("b", {"SGD-32 Batches": 1.004}),  # under the threshold
        rec("c", {"SGD-32 Batches": 1.004 * 1.025}),  # +2.5 % against b: a step
        rec("d", {"SGD-32 Batches": 1.3}, torch="2.14.0"),  # another fingerprint: not a step
        rec("e", {"SGD-32 Batches": 1.3 * 0.97}, torch="2.14.0"),  # −3 %: a step (improvement)
    ]
    found = history.steps(records)
    assert [(records[s.at]["commit"], s.case) for s in found] == [
        ("c", "SGD-32 Batches"),
        ("e", "SGD-32 Batches"),
    ]
    assert found[0].change == pytest.approx(0.025, rel=1e-3)
    text = "\n".join(history.series(records, ["SGD-32 Batches"]))
    assert "Step: SGD-32 Batches moved +2.50% (threshold 1.00%) at c s c" in text
    assert "**STEP**" in text and "5 records (at most 400" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{broken\n", "history.jsonl:1: not JSON"),
        ('{"format": "other"}\n', "history.jsonl:1: not an sgdbench history record"),
        (history.dumps([rec("a")]) + '{"format": "sgdbench-history/1"}\n', "history.jsonl:2"),
    ],
)
def test_a_corrupt_history_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(text)
    assert cli.main(["bench-history", "--history", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bench_history_prints_the_series_and_draws_the_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(history.dumps([rec("a"), rec("b", {"GD Batches": 1.02})]))
    png = tmp_path / "trend.png"
    assert cli.main(["bench-history", "--history", str(path), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "Step: GD Batches moved +2.00%" in out and png.read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["bench-history", "--history", str(path), "--case", "nope"]) == 2
    assert "--case must be one of [" in capsys.readouterr().err
    assert cli.main(["bench-history", "--history", str(tmp_path / "none.jsonl")]) == 0
    assert "no records yet" in capsys.readouterr().out


def _report(tmp_path: Path, data: dict[str, Any], name: str) -> list[str]:
    from tests.test_benchreport import _run

    out = tmp_path / "results"
    store = out / "benchmarks"
    store.mkdir(parents=True, exist_ok=True)
    (tmp_path / "run.json").write_text(json.dumps(_run()))
    (store / "cpu-baseline.json").write_text(json.dumps(_run()))
    (store / "cpu-instructions-baseline.json").write_text(json.dumps(counts()))
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    run = str(tmp_path / "run.json")
    return ["bench-report", run, "--out", str(out), "--compare", "--instructions", str(path)]


def test_bench_report_appends_a_passed_gate_on_main_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "results" / "benchmarks"
    assert cli.main(_report(tmp_path, gated("a" * 40), "a")) == 0
    assert "history: aaaaaaaaaaaa recorded" in capsys.readouterr().out
    assert (tmp_path / "results" / "bench_history.png").exists()
    assert cli.main(_report(tmp_path, gated("b" * 40, branch="feature"), "b")) == 0
    assert "history: not recorded (on branch 'feature', not main)" in capsys.readouterr().out
    assert cli.main(_report(tmp_path, gated("c" * 40, dirty=True), "c")) == 0
    assert "uncommitted changes" in capsys.readouterr().out
    before = (store / "history.jsonl").read_bytes()
    assert [r["commit"] for r in history.load(store / "history.jsonl")] == ["a" * 40]
    # a failed gate writes nothing: not the history, not its plot
    assert cli.main(_report(tmp_path, gated("d" * 40, {"GD Batches": 1.05}), "d")) == 1
    assert (store / "history.jsonl").read_bytes() == before
    # a corrupt history is refused before anything is written
    (store / "history.jsonl").write_text("{broken\n")
    capsys.readouterr()
    assert cli.main(_report(tmp_path, gated("e" * 40), "e")) == 2
    assert "history.jsonl:1: not JSON" in capsys.readouterr().err
    assert (store / "history.jsonl").read_text() == "{broken\n"


def test_an_interrupted_report_leaves_history_and_results_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the report and the new history are being written: nothing replaced."""
    from sgdbench.bench import publish

    args = _report(tmp_path, gated("a" * 40), "a")
    assert cli.main(args) == 0
    out = tmp_path / "results"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def interrupted(*_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(publish, "plot_history", interrupted)
    assert cli.main(_report(tmp_path, gated("b" * 40), "b")) == 130
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
