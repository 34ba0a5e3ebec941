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


def test_python_reports_xpass_and_unmatched_xfails(tmp_path: Path) -> None:
    """The same accepted-deviation rules as check and pytest: XPASS fails, stale lines are said."""
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("optimizer.plain_step[*]  # thought broken\noptimizer.nope[*]  # stale\n")
    report = c.check_optimizer(
        torch.optim.SGD, examples=5, only="optimizer.plain*", xfails=c.load_xfails(xfails)
    )
    assert {r.status for r in report.results} == {"xpass"} and not report.ok
    assert report.unmatched_xfails == ["line 2: optimizer.nope[*]"]
    assert report.exit_status() == 1


def test_a_nondeterministic_entry_that_holds_is_not_an_xpass(tmp_path: Path) -> None:
    """An entry whose reason starts 'nondeterministic:' (its failure depends on uninitialised
    memory, say) is not strict: a run where the check holds reports it and passes."""
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("optimizer.plain_step[*]  # nondeterministic: reads empty_like memory\n")
    entries = c.load_xfails(xfails)
    assert [x.strict for x in entries] == [False]
    report = c.check_optimizer(torch.optim.SGD, examples=5, only="optimizer.plain*", xfails=entries)
    assert {r.status for r in report.results} == {"holds"} and report.ok
    assert all("nondeterministic deviation" in r.message for r in report.results)


def test_parametrize_with_checks_refuses_a_stale_expected_failure() -> None:
    with pytest.raises(c.UsageError, match=r"names \['optimizer.nope\[\*\]'\], which match no"):
        c.parametrize_with_checks(
            [c.OptimizerUnderTest(torch.optim.SGD)],
            expected_failed_checks=lambda impl: {"optimizer.nope[*]": "stale"},
        )


def test_base_kwargs_may_set_hyper_parameters_but_not_lr() -> None:
    impl = c.OptimizerUnderTest(planted.HeavyBallSGD, kwargs={"momentum": 0.9})
    assert impl.name.endswith("HeavyBallSGD(momentum=0.9)")
    assert impl.accepts(lr=0.1, momentum=0.0) is not None  # seen refused, not assumed
    with pytest.raises(c.UsageError, match=r"kwargs may not set \['lr'\]"):
        c.OptimizerUnderTest(torch.optim.SGD, kwargs={"lr": 0.1})


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"structure": "block"}, r"structure must be one of \['element', 'channel', 'sample'\]"),
        ({"structure": "channel"}, r"structure 'channel' needs rank ≥ 3 .* got rank 2"),
        ({"structure": "sample", "rank": 1}, r"structure 'sample' needs rank ≥ 2"),
        ({"kwargs": {"p": 0.5}}, r"dropout kwargs may not set \['p'\]"),
        ({"kwargs": [("inplace", True)]}, "dropout kwargs must be a mapping"),
        ({"inplace": "yes"}, "inplace must be True or False, but got 'yes'"),
    ],
)
def test_bad_dropout_declarations_name_the_argument(
    declared: dict[str, object], message: str
) -> None:
    with pytest.raises(c.UsageError, match=message):
        c.DropoutUnderTest(torch.nn.Dropout, **declared)  # type: ignore[arg-type]


def test_a_declared_dropouts_snippet_replays_with_its_declarations() -> None:
    """kwargs, inplace and structure travel in the snippet: replay rebuilds the same dropout."""
    impl, _ = planted.BUGGY_DROPOUTS["declared channel, one mask per row"]
    report = c.check_dropout(impl, examples=10, devices=["cpu"], dtypes=["float32"],
                             only="dropout.independent_units*")  # fmt: skip
    (failure,) = report.failures
    assert "structure='channel'" in failure.snippet and "rank=4" in failure.snippet
    with pytest.raises(AssertionError, match="has kept and dropped units"):
        exec(failure.snippet, {})
    spec = c.DropoutUnderTest(torch.nn.Dropout, kwargs={"inplace": True}, inplace=True).spec()
    assert spec["kwargs"] == {"inplace": True} and spec["inplace"] is True


def test_pytest_entry_point_takes_the_dropout_declarations() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "properties/test_dropout.py", "-q", "-p",
         "no:cacheprovider", "--dropout", "torch.nn:Dropout2d", "--dropout-rank", "4",
         "--dropout-structure", "channel", "-k", "independent_units-cpu-float32"],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 passed" in res.stdout


def test_undeclared_mask_structures_are_reported_as_facts() -> None:
    """Dropout2d declared element: its channel structure is a fact that holds, the others
    facts that do not; none of them counts as a failure."""
    report = c.check_dropout(torch.nn.Dropout2d, rank=4, examples=5, devices=["cpu"],
                             dtypes=["float32"], only="dropout.structure_*")  # fmt: skip
    seen = {r.check: (r.status, r.fact_only) for r in report.results}
    assert seen == {
        "dropout.structure_element": ("n/a", False),
        "dropout.structure_channel": ("holds", True),
        "dropout.structure_sample": ("fails", True),
    }
    assert report.ok


def test_pytest_layer_takes_a_declared_algorithm() -> None:
    """``pytest properties --optimizer … --optimizer-algorithm adamw``: the AdamW checks are
    the test ids (SGD's momentum check is not one); an unknown algorithm is a usage error."""
    root = ROOT
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "properties/test_optimizer.py", "-q",
         "-p", "no:cacheprovider", "-p", "no:xdist", "--optimizer", "torch.optim:AdamW",
         "--optimizer-algorithm", "adamw", "-k", "update or momentum", "--collect-only"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "-update-cpu-float32]" in done.stdout
    assert "-momentum-cpu" not in done.stdout  # SGD's, not AdamW's
    bad = subprocess.run(
        [sys.executable, "-m", "pytest", "properties/test_optimizer.py", "-q",
         "-p", "no:cacheprovider", "-p", "no:xdist", "--optimizer", "torch.optim:AdamW",
         "--optimizer-algorithm", "adamax", "--collect-only"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode != 0 and "algorithm must be one of" in bad.stdout + bad.stderr
