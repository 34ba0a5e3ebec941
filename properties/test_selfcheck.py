"""A test suite must catch bugs: the properties, run against deliberately broken code.

Each case plants one bug a real implementation could have and runs the checks that should
notice it, with fixed examples (a fixed Hypothesis seed, or derandomized: the verdict is the
same every run, so this check cannot flake). Optimizers and dropouts go through the public
entry point a user has (:func:`sgdbench.conformance.check_optimizer` / ``check_dropout``; the
CLI is exercised on some of them in ``tests/test_check_cli.py``): each planted bug must fail
every check named for it, and the correct implementations written unlike torch must pass
everything they are not declared bitwise for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from torch import Tensor

from properties import test_minibatches
from sgdbench.conformance import Report, check_dropout, check_optimizer, planted, settings_for
from sgdbench.data import Batches

# 100 examples per check on every planted bug and every correct implementation: ~80 s of CPU,
# so it runs in its own session (nox -s slow), which CI runs after nox -s tests.
pytestmark = pytest.mark.slow

# The settings every planted Batches bug is hunted with. A property's settings are fixed when
# @given wraps it, so each case re-wraps the property's inner test with its own strategies and
# these settings; the property itself is untouched.
HUNT = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)
# Per check: 100 examples from seed 0 (the same every run), no shrinking (a verdict is all a
# self-check needs; shrinking a 100 000-sample expectation example costs a minute).
EXAMPLES = settings(settings_for(100), phases=[Phase.generate])


# --------------------------------------------------------------------------- optimizers, dropouts


def _only(run: Any, impl: Any, kind: str, names: set[str]) -> Report:
    """The named checks only, both dtypes, on the CPU."""
    report = Report()
    for name in sorted(names):
        report.merge(
            run(impl, hsettings=EXAMPLES, seed=0, devices=["cpu"], only=f"{kind}.{name}[*")
        )
    return report


BUGGY_OPTIMIZERS = {
    **planted.BUGGY_OPTIMIZERS,
    **planted.BUGGY_PRECISION,
    **planted.BUGGY_LOOP,
}
BUGGY_DROPOUTS = {**planted.BUGGY_DROPOUTS, **planted.BUGGY_DROPOUT_LOOP}


@pytest.mark.parametrize(
    ("cls", "must_fail"), list(BUGGY_OPTIMIZERS.values()), ids=list(BUGGY_OPTIMIZERS)
)
def test_planted_optimizer_bug_is_caught(cls: type[Any], must_fail: set[str]) -> None:
    """Every check named for the bug fails on it, in both dtypes."""
    report = _only(check_optimizer, cls, "optimizer", must_fail)
    failed = {(r.check.split(".")[1], r.variant) for r in report.failures}
    missed = {(c, v) for c in must_fail for v in ("cpu-float32", "cpu-float64")} - failed
    assert not missed, f"{cls.__name__}: these checks did not catch the bug: {sorted(missed)}"


@pytest.mark.parametrize(
    ("fn", "must_fail"), list(BUGGY_DROPOUTS.values()), ids=list(BUGGY_DROPOUTS)
)
def test_planted_dropout_bug_is_caught(fn: Any, must_fail: set[str]) -> None:
    """``fn``: a function or class, or a DropoutUnderTest where the bug needs declarations."""
    report = _only(check_dropout, fn, "dropout", must_fail)
    failed = {(r.check.split(".")[1], r.variant) for r in report.failures}
    missed = {(c, v) for c in must_fail for v in ("cpu-float32", "cpu-float64")} - failed
    name = getattr(fn, "name", None) or fn.__name__
    assert not missed, f"{name}: these checks did not catch the bug: {sorted(missed)}"


def test_correct_optimizer_written_unlike_torch_passes() -> None:
    """LrInMomentum rounds in another order: within the derived bound, not bit for bit.

    It keeps η inside the velocity (v ← μv + ηg, θ ← θ − v), which is torch's update only while
    η is constant; under a scheduler it is the Sutskever et al. form that torch.optim.SGD's
    documentation says it differs from, so hyper_live fails it, and only hyper_live.
    """
    report = check_optimizer(planted.LrInMomentum, hsettings=EXAMPLES, seed=0, devices=["cpu"])
    failed = {r.id for r in report.failures}
    expected = {f"optimizer.hyper_live[cpu-{d}]" for d in ("float32", "float64")}
    assert failed == expected, [f"{r.id}: {r.message}" for r in report.failures]
    bitwise = check_optimizer(
        planted.LrInMomentum,
        bitwise=True,
        hsettings=EXAMPLES,
        seed=0,
        devices=["cpu"],
        only="optimizer.matches_torch*",
    )
    assert {r.status for r in bitwise.results} == {"fails"}, "declared bitwise, it should fail"


def test_correct_dropout_written_unlike_torch_passes() -> None:
    """dropout_by_division: x/(1 − p) rounds once where torch rounds twice."""
    report = check_dropout(planted.dropout_by_division, hsettings=EXAMPLES, seed=0, devices=["cpu"])
    assert report.ok, [f"{r.id}: {r.message}" for r in report.failures]


@pytest.mark.parametrize(
    ("fn", "declared"),
    [
        (planted.inplace_dropout, {"inplace": True}),
        (planted.drop_path, {"rank": 3, "structure": "sample"}),
    ],
    ids=["in place, declared", "stochastic depth, declared sample"],
)
def test_correct_declared_dropout_passes(fn: Any, declared: dict[str, Any]) -> None:
    """Algorithm 12 written into its input, and one draw per sample: each passes everything
    under its declarations, the declared one of the structure checks included (n/a there)."""
    report = check_dropout(fn, **declared, hsettings=EXAMPLES, seed=0, devices=["cpu"])
    assert report.ok, [f"{r.id}: {r.message}" for r in report.failures]
    inplace = {(r.status, r.fact_only) for r in report.results if r.check == "dropout.inplace"}
    # declared: a requirement that holds; not declared: the fact "input unchanged" holds
    assert inplace == {("holds", not declared.get("inplace", False))}


def test_undeclared_input_mutation_is_a_fact_not_a_failure() -> None:
    """A correct dropout that zeroes its input's dropped units in place, undeclared: the
    inplace check reports it as a fact (what was changed), and nothing fails."""
    report = check_dropout(
        planted.dropout_overwriting_input,
        hsettings=EXAMPLES,
        seed=0,
        devices=["cpu"],
        only=["dropout.inplace*", "dropout.law*", "dropout.seeded*"],
    )
    assert report.ok, [f"{r.id}: {r.message}" for r in report.failures]
    facts = [r for r in report.results if r.check == "dropout.inplace"]
    assert [(r.status, r.fact_only) for r in facts] == [("fails", True)] * 2
    assert all("the input was changed in place: x[" in r.message for r in facts)


# --------------------------------------------------------------------------- broken Batches


class BatchesSkippingBaseSeed(Batches):
    """Skips the base-seed draw DataLoader makes at every iter()."""

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        return self._epoch()


class BatchesSkippingDiscardedPerm(Batches):
    """Skips the discarded randperm RandomSampler draws at the end of an epoch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._real_generator = self.generator

    def _epoch(self) -> Iterator[tuple[Tensor, Tensor]]:
        if self.generator is None:
            yield from super()._epoch()
            return
        state = None
        for batch in super()._epoch():
            yield batch
            state = self.generator.get_state()
        if state is not None:
            self.generator.set_state(state)  # undo the draw after the last batch


# --------------------------------------------------------------------------- the cases


def hunt(test: Any, given_kwargs: dict[str, Any], **kwargs: Any) -> None:
    """Run property ``test`` with ``kwargs`` for its parameters, under HUNT."""
    HUNT(given(**given_kwargs)(test.hypothesis.inner_test))(**kwargs)


BATCHES = test_minibatches.test_batches_equal_dataloader
BATCHES_GIVEN = test_minibatches.BATCHES_GIVEN


@pytest.mark.parametrize(
    "batches_cls",
    [BatchesSkippingBaseSeed, BatchesSkippingDiscardedPerm],
    ids=["Batches skips the base-seed draw", "Batches skips the discarded randperm"],
)
def test_batches_property_catches_planted_bug(batches_cls: type[Batches]) -> None:
    """Batches ≡ DataLoader must fail on a Batches that skips one of DataLoader's RNG draws."""
    with pytest.raises(AssertionError):
        hunt(BATCHES, BATCHES_GIVEN, batches_cls=batches_cls)


# --------------------------------------------------------------------------- the Adam family, Lion

# 30 examples per check from seed 0, generation only: the verdicts of BUGGY_ADAPTIVE's table,
# the same every run (~19 full check runs, ≈ 3 min of CPU).
ADAPTIVE_EXAMPLES = settings(settings_for(30), phases=[Phase.generate])
BOTH = ("cpu-float32", "cpu-float64")


def _adaptive(cls: type[Any], algorithm: str) -> Report:
    return check_optimizer(
        cls, algorithm=algorithm, hsettings=ADAPTIVE_EXAMPLES, seed=0, devices=["cpu"]
    )


@pytest.mark.parametrize(
    ("cls", "algorithm", "must_fail"),
    list(planted.BUGGY_ADAPTIVE.values()),
    ids=list(planted.BUGGY_ADAPTIVE),
)
def test_planted_adaptive_bug_fails_exactly_its_checks(
    cls: type[Any], algorithm: str, must_fail: set[str]
) -> None:
    """Every check named for the bug fails on it in both dtypes, and no other check does."""
    report = _adaptive(cls, algorithm)
    failed = {(r.check.split(".")[1], r.variant) for r in report.failures}
    expected = {(c, v) for c in must_fail for v in BOTH}
    assert failed == expected, (
        f"{cls.__name__}: missed {sorted(expected - failed)}; "
        f"failed beyond its checks {sorted(failed - expected)}: "
        + "; ".join(
            f"{r.id}: {r.message[:200]}"
            for r in report.failures
            if r.check.split(".")[1] not in must_fail
        )
    )


@pytest.mark.parametrize("cls", planted.CORRECT_ADAPTIVE, ids=lambda c: c.__name__)
def test_correct_adaptive_written_unlike_torch_passes(cls: type[Any]) -> None:
    """The bugs' host, without a bug: every check holds (the other weight-decay form is a
    fact, not a failure), in both dtypes."""
    report = _adaptive(cls, cls.algorithm)
    assert report.ok, [f"{r.id}: {r.message}" for r in report.failures]
    facts = {r.check for r in report.results if r.status == "fails" and r.fact_only}
    other = "coupled" if cls.algorithm in ("adamw", "lion") else "decoupled"
    # one signature for all five: Adam's defaults, so AdamW's, NAdam's, Lion's differ (a fact)
    assert f"optimizer.weight_decay_{other}" in facts
    assert facts <= {f"optimizer.weight_decay_{other}", "optimizer.defaults"}
