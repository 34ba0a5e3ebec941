"""The GPU run's plan (``benchmarks/gpu``): every step can run and writes under results/gpu/.

The run itself needs a GPU; ``nox -s gpu -- --dry`` (CI) proves its commands on the CPU. Here:
the plan's shape, its time bound, and the runner's verdicts on small stand-in steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.gpu import run, summary
from benchmarks.gpu.plan import OUT, SUBJECTS, WALL_LIMIT_S, Step, bound_s, plan


def test_every_step_has_a_command_a_budget_and_outputs_under_results_gpu() -> None:
    steps = plan()
    assert len({s.name for s in steps}) == len(steps)
    for s in steps:
        assert s.argv and s.argv[0] == "python", s.name
        assert 0 < s.budget_s <= WALL_LIMIT_S, s.name
        assert s.outputs, s.name
        for p in s.outputs:
            assert p.is_relative_to(OUT), f"{s.name} writes {p}, outside {OUT}"
        assert s.dry in {"collect", "cpu"}, s.name
        assert s.imports and s.covers, s.name


def test_the_plan_fits_in_eight_minutes() -> None:
    assert bound_s(plan()) <= WALL_LIMIT_S == 480


def test_cuda_selection_and_the_dry_commands_stay_on_the_cpu(tmp_path: Path) -> None:
    real = {s.name: s for s in plan()}
    for s in plan(tmp_path):
        assert all(p.is_relative_to(tmp_path) for p in s.outputs), s.name
        if s.dry == "collect":
            marks = s.argv[s.argv.index("-m", 3) + 1]  # pytest's -m, past python's
            assert marks.startswith("cuda"), s.name
        else:
            dry = s.dry_argv or s.argv
            assert not {"cuda", "nccl", "--require-cuda"} & set(dry), s.name
    for name in SUBJECTS:
        step = real[f"conformance-{name}"]
        assert step.argv[-2:] == ("--device", "cuda")
        assert step.dry_argv[-4:] == ("--examples", "1", "--device", "cpu")
        assert step.report is not None and step.report.is_relative_to(OUT)


def test_subjects_that_drift_from_the_noxfile_are_said(tmp_path: Path) -> None:
    same, drifted = tmp_path / "same.json", tmp_path / "drifted.json"
    same.write_text(json.dumps(SUBJECTS))
    drifted.write_text(json.dumps({**SUBJECTS, "torch-sgd-fused": ["--optimizer", "x:Y"]}))
    assert run._subjects(same) == (SUBJECTS, "")
    assert "torch-sgd-fused" in run._subjects(drifted)[1]


def _step(name: str, code: str, budget: int = 20, **kw: object) -> Step:
    return Step(name, ("python", "-c", code), budget, (Path("x"),), "-", ("json",), **kw)  # type: ignore[arg-type]


def test_a_failing_or_slow_step_does_not_stop_the_others(tmp_path: Path) -> None:
    steps = [
        _step("ok", "pass", phase=0),
        _step("fails", "raise SystemExit(4)", phase=1, lane=0),
        _step("slow", "import time; time.sleep(30)", budget=1, phase=1, lane=0),
        _step("after", "pass", phase=1, lane=1, needs=tmp_path / "missing"),
        _step("findings", "raise SystemExit(1)", phase=2, ok=(0, 1)),
    ]
    got = {o.step.name: o for o in run.run_plan(steps, tmp_path, dry=False)}
    assert [got[n].status for n in ("ok", "fails", "slow", "after")] == [
        "passed",
        "failed",
        "timed out",
        "not run",
    ]
    assert got["findings"].status == "passed"  # an accepted status without a report
    assert (tmp_path / "logs" / "fails.log").read_text().startswith("$ ")
    info = {"command": "c", "started": "t", "wall_s": 1.0, "bound_s": 1, "exit": 1}
    text = summary.markdown(list(got.values()), info)
    assert "| slow | timed out |" in text and "## Not in this run" in text


def test_a_failed_preflight_stops_the_run(tmp_path: Path) -> None:
    steps = [_step("pre", "raise SystemExit(2)", phase=0), _step("next", "pass", phase=1)]
    assert [o.status for o in run.run_plan(steps, tmp_path, dry=False)] == ["failed", "not run"]


def test_junit_counts_and_skip_reasons(tmp_path: Path) -> None:
    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="1">'
        '<testcase classname="a" name="t1"/>'
        '<testcase classname="a" name="t2"><failure message="no"/></testcase>'
        '<testcase classname="a" name="t3"><skipped message="NCCL needs 2"/></testcase>'
        "</testsuite></testsuites>"
    )
    text, skips = summary.junit(xml)
    assert text == "1 passed, 1 failed, 1 skipped: a::t2"
    assert skips == {"NCCL needs 2": 1}


@pytest.mark.parametrize("only", [["tests-cuda"], ["nope"]])
def test_only_selects_known_steps(only: list[str]) -> None:
    if only == ["nope"]:
        with pytest.raises(SystemExit, match="unknown step"):
            run._select(plan(), only)
    else:
        assert [s.name for s in run._select(plan(), only)] == only
