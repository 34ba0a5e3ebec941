"""The Python entry points of sgdbench.conformance: check_optimizer/check_dropout return a
Report, parametrize_with_checks puts the checks in a user's own test suite, and the pytest
entry point (``pytest properties --optimizer …``) runs the property modules on a named one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sgdbench import conformance as c
from sgdbench.conformance import planted

ROOT = Path(__file__).resolve().parents[1]


def test_check_optimizer_returns_a_report() -> None:
    report = c.check_optimizer(planted.DampenedFirstStep, examples=10, only="optimizer.dampening*")
    assert not report.ok
    assert {r.id for r in report.failures} == {
        "optimizer.dampening[cpu-float32]",
        "optimizer.dampening[cpu-float64]",
    }
    failure = report.failures[0]
    assert failure.example is not None and "replay(" in failure.snippet
    assert report.to_json()["counts"]["fails"] == 2
    assert "### `optimizer.dampening[cpu-float32]`" in report.to_markdown()


def test_check_dropout_with_declared_rank() -> None:
    """A channel dropout (Dropout2d, rank 4) keeps the expectation but not independent units."""
    report = c.check_dropout(
        torch.nn.Dropout2d, rank=4, examples=10, only=["dropout.expectation*", "dropout.indep*"]
    )
    status = {r.id: r.status for r in report.results}
    assert status["dropout.expectation[cpu-float32]"] == "holds"
    assert status["dropout.independent_units[cpu-float32]"] == "fails"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: c.OptimizerUnderTest(torch.nn.Linear), "not a torch.optim.Optimizer"),
        (lambda: c.OptimizerUnderTest(torch.optim.SGD, weight_decay="both"), "weight_decay must"),
        (lambda: c.DropoutUnderTest(torch.nn.Dropout(0.5)), "is a module instance"),
        (lambda: c.DropoutUnderTest(torch.nn.Dropout, rank=7), "rank must be one of"),
        (lambda: c.replay("momentum", {}, optimizer="torch.optim:SGD"), "check_id must look"),
    ],
)
def test_bad_input_names_the_argument(make: object, message: str) -> None:
    with pytest.raises(c.UsageError, match=message):
        make()  # type: ignore[operator]


@c.parametrize_with_checks(
    [
        c.OptimizerUnderTest(planted.LrInMomentum),
        c.OptimizerUnderTest(planted.LrInMomentum, name="LrInMomentum(bitwise)", bitwise=True),
    ],
    devices=["cpu"],
    dtypes=["float32"],
    expected_failed_checks=lambda impl: {
        "optimizer.hyper_live*": "η inside the velocity: torch's update only while η is constant",
        **(
            {"optimizer.matches_torch*": "rounds in another order than torch"}
            if impl.bitwise
            else {}
        ),
    },
)
def test_parametrize_with_checks_in_a_user_suite(impl: c.OptimizerUnderTest, check: object) -> None:
    """As a user writes it: one test id per (implementation, check); xfail where accepted."""
    check(impl)  # type: ignore[operator]


def test_parametrize_with_checks_ids() -> None:
    mark = c.parametrize_with_checks([c.DropoutUnderTest(planted.no_scaling)], devices=["cpu"])
    ids = [p.id for p in mark.args[1]]
    assert "sgdbench.conformance.planted:no_scaling-dropout.law[cpu-float64]" in ids
    assert len(ids) == len(c.DROPOUT_CHECKS) * 2


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "properties/test_optimizer.py", "-q",
         "-p", "no:cacheprovider", *args],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip


def test_pytest_entry_point_runs_the_properties_on_a_named_optimizer(tmp_path: Path) -> None:
    res = _pytest("--optimizer", "sgdbench.conformance.planted:MomentumReset",
                  "-k", "MomentumReset-momentum-cpu-float32")  # fmt: skip
    assert res.returncode == 1, res.stdout
    assert "MomentumReset-momentum-cpu-float32" in res.stdout and "FAILS" in res.stdout
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("optimizer.momentum[*]  # planted\noptimizer.nothing[*]  # stale entry\n")
    res = _pytest("--optimizer", "sgdbench.conformance.planted:MomentumReset",
                  "-k", "MomentumReset-momentum-cpu-float32", "--xfails", str(xfails))  # fmt: skip
    assert res.returncode == 0, res.stdout
    assert "1 xfailed" in res.stdout
    assert "xfails: line 2 'optimizer.nothing[*]' matched no test" in res.stdout


def test_pytest_entry_point_bad_name_is_a_usage_error() -> None:
    res = _pytest("--optimizer", "no_such_module:SGD")
    assert res.returncode == 4  # pytest's usage error
    assert "cannot import 'no_such_module'" in res.stderr + res.stdout
