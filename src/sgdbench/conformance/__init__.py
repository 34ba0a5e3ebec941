"""sgdbench.conformance: the chapter's statements as checks of *your* optimizer and dropout.

Three ways in, the same checks behind them:

- command line: ``python -m sgdbench check --optimizer MODULE:ATTR --dropout MODULE:ATTR``;
- pytest: ``pytest properties --optimizer MODULE:ATTR --dropout MODULE:ATTR [--xfails F]``;
- Python: :func:`check_optimizer`, :func:`check_dropout` (return a :class:`Report`), and
  :func:`parametrize_with_checks` for a user's own test suite (scikit-learn's pattern)::

      from sgdbench.conformance import OptimizerUnderTest, parametrize_with_checks

      @parametrize_with_checks([OptimizerUnderTest(MySGD, weight_decay="decoupled")])
      def test_conformance(impl, check):
          check(impl)

Each check is a function of the implementation (``check(impl, device=…, dtype=…)``) returning
a :class:`CheckResult`: holds, fails (shortest example and a :func:`replay` snippet), n/a (the
implementation does not take an argument the check needs, or refuses a value it needs), xfail
(accepted deviation), XPASS (accepted deviation that holds now: the xfails entry must go) or
error (a harness error: the suite's own arguments were refused; no verdict).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from sgdbench.conformance import dropout as _dropout
from sgdbench.conformance import optimizer as _optimizer
from sgdbench.conformance._impl import (
    DropoutUnderTest,
    OptimizerUnderTest,
    UsageError,
    load,
    parse_kwargs,
)
from sgdbench.conformance._runner import (
    Check,
    CheckResult,
    Variant,
    Xfail,
    glob_match,
    load_xfails,
    match_xfail,
    settings_for,
)
from sgdbench.conformance.report import Report, fact_note

__all__ = [
    "DROPOUT_CHECKS",
    "DTYPES",
    "OPTIMIZER_CHECKS",
    "Check",
    "CheckResult",
    "DropoutUnderTest",
    "OptimizerUnderTest",
    "Report",
    "UsageError",
    "Variant",
    "Xfail",
    "assert_result",
    "check_dropout",
    "check_optimizer",
    "checks_for",
    "devices_present",
    "load",
    "load_xfails",
    "match_xfail",
    "parametrize_with_checks",
    "parse_kwargs",
    "replay",
    "run_checks",
    "settings_for",
    "unmatched_xfails",
]

OPTIMIZER_CHECKS: list[Check] = _optimizer.CHECKS
DROPOUT_CHECKS: list[Check] = _dropout.CHECKS
DTYPES = ("float32", "float64")
DEFAULT_EXAMPLES = 50

Impl = OptimizerUnderTest | DropoutUnderTest


def devices_present() -> list[str]:
    """``cpu``, and ``cuda`` where a GPU is."""
    return ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]


def checks_for(impl: Any) -> list[Check]:
    """The checks that apply to ``impl``'s kind (an implementation may name its own)."""
    if hasattr(impl, "checks"):
        return impl.checks()  # type: ignore[no-any-return]
    if isinstance(impl, OptimizerUnderTest):  # the declared algorithm's, and the contract
        return [
            c for c in OPTIMIZER_CHECKS if c.algorithms is None or impl.algorithm in c.algorithms
        ]
    return DROPOUT_CHECKS


def run_checks(
    impl: Any,
    *,
    devices: Sequence[str] | None = None,
    dtypes: Sequence[str] = DTYPES,
    examples: int = DEFAULT_EXAMPLES,
    seed: int | None = 0,
    xfails: Iterable[Xfail] = (),
    only: str | Sequence[str] | None = None,
    progress: Callable[[CheckResult], None] | None = None,
    hsettings: Any = None,
    budget: float | None = None,
) -> Report:
    """Every check on ``impl``, on every device and dtype; ``only``: check-id patterns (``*``).

    ``hsettings`` (Hypothesis settings) replace the default ones, ``examples`` included;
    ``budget``: seconds per check and device/dtype after which it starts no new example.
    """
    devices = list(devices or devices_present())
    patterns = [only] if isinstance(only, str) else list(only or [])
    xfails = list(xfails)
    report = Report(
        implementations=[{"name": impl.name, **impl.spec()}],
        settings={
            **{"examples": examples, "seed": seed, "devices": devices, "dtypes": list(dtypes)},
            **({"budget": budget} if budget is not None else {}),
        },
    )
    hsettings = hsettings or settings_for(examples)
    matched: set[int] = set()
    for check in checks_for(impl):
        for device in devices:
            for dtype in dtypes:
                cid = check.id(Variant(device, dtype))
                if patterns and not any(glob_match(cid, p) for p in patterns):
                    continue
                r = check(
                    impl, device=device, dtype=dtype, hsettings=hsettings, seed=seed, budget=budget
                )
                accepted = match_xfail(r.id, impl.name, xfails)
                if accepted:
                    matched.add(accepted.line)
                    _accept(r, accepted)
                report.results.append(r)
                if progress:
                    progress(r)
    report.unmatched_xfails = unmatched_xfails(xfails, matched)
    return report


def _accept(r: CheckResult, accepted: Xfail) -> None:
    """An xfails entry turns a failure into xfail, and a check that holds into XPASS."""
    if r.fact_only or r.status not in ("fails", "holds"):
        return
    r.xfail_reason = accepted.reason
    if r.status == "fails":
        r.status = "xfail"
    elif not accepted.strict:  # a nondeterministic deviation may hold by chance: not an XPASS
        r.message = (
            f"holds this time; listed as a nondeterministic deviation ({accepted.reason}, line "
            f"{accepted.line} of the xfails file), which a run that holds does not clear"
        )
    else:
        r.status = "xpass"
        r.message = (
            f"listed as an accepted deviation ({accepted.reason}), but it holds now: remove "
            f"line {accepted.line} of the xfails file"
        )


def unmatched_xfails(xfails: Iterable[Xfail], matched: set[int]) -> list[str]:
    """The xfails entries that matched no check of the run, as ``line N: PATTERN``."""
    return [f"line {x.line}: {x.pattern}" for x in xfails if x.line not in matched]


def check_optimizer(
    optimizer: OptimizerUnderTest | Callable[..., torch.optim.Optimizer],
    *,
    kwargs: dict[str, Any] | None = None,
    weight_decay: str | None = None,
    bitwise: bool = False,
    algorithm: str = "sgd",
    **run: Any,
) -> Report:
    """Run every check of the declared ``algorithm`` (``"sgd"``, ``"adam"``, ``"adamw"``,
    ``"nadam"``, ``"radam"``, ``"lion"``) and the contract on ``optimizer`` (a factory or an
    :class:`OptimizerUnderTest`)."""
    if not isinstance(optimizer, OptimizerUnderTest):
        optimizer = OptimizerUnderTest(
            optimizer,
            kwargs=kwargs or {},
            weight_decay=weight_decay,  # type: ignore[arg-type]
            bitwise=bitwise,
            algorithm=algorithm,
        )
    return run_checks(optimizer, **run)


def check_dropout(
    dropout: DropoutUnderTest | Callable[..., Any],
    *,
    rank: int = 2,
    bitwise: bool = False,
    kwargs: dict[str, Any] | None = None,
    inplace: bool = False,
    structure: str = "element",
    **run: Any,
) -> Report:
    """Run every dropout check on ``dropout`` (function, module class or DropoutUnderTest)."""
    if not isinstance(dropout, DropoutUnderTest):
        dropout = DropoutUnderTest(
            dropout,
            rank=rank,
            bitwise=bitwise,
            kwargs=kwargs or {},
            inplace=inplace,
            structure=structure,  # type: ignore[arg-type]
        )
    return run_checks(dropout, **run)


_ID = re.compile(r"^(optimizer|dropout)\.(\w+)\[(\w+(?::\d+)?)-(float32|float64)\]$")


def replay(
    check_id: str,
    case: dict[str, Any],
    *,
    optimizer: str | None = None,
    dropout: str | None = None,
    kwargs: dict[str, Any] | None = None,
    weight_decay: str | None = None,
    bitwise: bool = False,
    algorithm: str = "sgd",
    rank: int = 2,
    inplace: bool = False,
    structure: str = "element",
) -> None:
    """Run one check on one example, as a failure's snippet writes it; raises its failure."""
    m = _ID.match(check_id)
    if not m:
        raise UsageError(
            f"check_id must look like 'optimizer.momentum[cpu-float32]', got {check_id!r}"
        )
    kind, name, device, dtype = m.groups()
    impl: Impl
    if kind == "optimizer":
        if optimizer is None:
            raise UsageError("replay of an optimizer check needs optimizer='MODULE:ATTR'")
        impl = OptimizerUnderTest(
            load(optimizer, "optimizer"),
            kwargs=kwargs or {},
            weight_decay=weight_decay,  # type: ignore[arg-type]
            bitwise=bitwise,
            algorithm=algorithm,
        )
    else:
        if dropout is None:
            raise UsageError("replay of a dropout check needs dropout='MODULE:ATTR'")
        impl = DropoutUnderTest(
            load(dropout, "dropout"),
            rank=rank,
            bitwise=bitwise,
            kwargs=kwargs or {},
            inplace=inplace,
            structure=structure,  # type: ignore[arg-type]
        )
    check = next((c for c in checks_for(impl) if c.name == name), None)
    if check is None:
        raise UsageError(f"no {kind} check named {name!r}")
    check.body(impl, case, Variant(device, dtype))


def assert_result(result: CheckResult) -> None:
    """pytest's reading of a result: fail with the example and snippet, skip when n/a."""
    import pytest

    __tracebackhide__ = True
    if result.status == "n/a":
        pytest.skip(f"not applicable: {result.message}")
    if result.status == "error":
        pytest.fail(f"{result.id} on {result.implementation}: {result.message}", pytrace=False)
    if result.fact_only:
        verdict = "holds" if result.status == "holds" else "does not hold"
        pytest.skip(f"{fact_note(result.check)}, reported as a fact: {verdict}")
    if result.status == "fails":
        raise AssertionError(
            f"{result.id} FAILS on {result.implementation}: {result.message}\n"
            f"shortest example: {result.example}\nto reproduce:\n{result.snippet}"
        )


def parametrize_with_checks(
    implementations: Sequence[Impl],
    *,
    devices: Sequence[str] | None = None,
    dtypes: Sequence[str] = DTYPES,
    expected_failed_checks: Callable[[Impl], dict[str, str]] | None = None,
) -> Any:
    """A ``pytest.mark.parametrize`` over (implementation, check): one test id per pair.

    The test receives ``impl`` and ``check``, and calls ``check(impl)``: it fails with the
    shortest example and a replay snippet, skips when n/a. ``expected_failed_checks(impl)``
    maps check-id patterns to the reason the failure is accepted (strict xfail). Hypothesis
    settings come from the loaded profile.
    """
    import pytest

    params = []
    for impl in implementations:
        accepted = expected_failed_checks(impl) if expected_failed_checks else {}
        ids = [
            c.id(Variant(d, t))
            for c in checks_for(impl)
            for d in devices or devices_present()
            for t in dtypes
        ]
        stale = [p for p in accepted if not any(glob_match(i, p) for i in ids)]
        if stale:
            raise UsageError(
                f"expected_failed_checks({impl.name}) names {stale}, which match no check id "
                "(remove them, or fix the id: e.g. 'optimizer.momentum[cpu-float32]', '*' a "
                "wildcard)"
            )
        for check in checks_for(impl):
            for device in devices or devices_present():
                for dtype in dtypes:
                    cid = check.id(Variant(device, dtype))
                    reason = next((r for p, r in accepted.items() if glob_match(cid, p)), None)
                    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                    params.append(
                        pytest.param(
                            impl, _bound(check, device, dtype), id=f"{impl.name}-{cid}", marks=marks
                        )
                    )
    return pytest.mark.parametrize(("impl", "check"), params)


def _bound(check: Check, device: str, dtype: str) -> Callable[[Impl], None]:
    def run(impl: Impl) -> None:
        __tracebackhide__ = True
        assert_result(check(impl, device=device, dtype=dtype))

    run.__name__ = check.id(Variant(device, dtype))
    return run
