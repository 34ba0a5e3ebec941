"""Running one check on one implementation: Hypothesis drives it, the result is plain data.

A check is a function of the implementation under test (``check(impl, device=…, dtype=…)``)
that returns a :class:`CheckResult`: *holds*, *fails* (with the shortest falsifying example
Hypothesis found and a snippet that replays it), *n/a* (with the reason: the implementation
does not take an argument the check needs, or refuses a value it needs), *xfail* (it fails,
and an xfails file accepts that), *xpass* (an xfails file lists it, but it holds now) or
*error* (a harness error: the implementation's constructor refused arguments the suite chose,
so there is no verdict; never reported as the implementation failing). Warnings, ``logging``
records and printed lines of the implementation are recorded and counted, never turned into
failures and never let through to the terminal between the verdicts.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.reporting import with_reporter

from sgdbench.conformance._impl import UsageError

__all__ = [
    "Check",
    "CheckResult",
    "HarnessFailed",
    "Variant",
    "load_xfails",
    "register",
    "settings_for",
]


class HarnessFailed(RuntimeError):
    """The machinery that runs the examples broke (a rank died): no verdict, end the run."""


DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class Variant:
    """Where a check runs: a device and a floating-point dtype."""

    device: str
    dtype: str

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    @property
    def unit_roundoff(self) -> float:
        """u = 2^-p: the largest relative error of one correctly rounded operation."""
        return torch.finfo(self.torch_dtype).eps / 2

    def __str__(self) -> str:
        return f"{self.device}-{self.dtype}"


@dataclass
class CheckResult:
    """One check's verdict on one implementation, device and dtype."""

    id: str  # "optimizer.momentum[cpu-float32]"
    check: str
    implementation: str
    variant: str
    status: str  # holds | fails | n/a | xfail | xpass | error
    cites: str
    fact_only: bool = False  # a reported fact (e.g. the undeclared weight-decay form)
    message: str = ""
    example: dict[str, Any] | None = None
    snippet: str = ""
    # What the implementation said while the check ran: each distinct warning, logging record
    # or printed line, with how many times it came.
    warnings: dict[str, int] = field(default_factory=dict)
    examples: int = 0
    seconds: float = 0.0
    xfail_reason: str = ""
    # the examples it stopped at when its time budget ran out (0: it ran them all)
    stopped_at_budget: int = 0

    @property
    def counts_as_failure(self) -> bool:
        """A failing requirement, or an accepted deviation that holds now (strict, as pytest's
        ``xfail_strict``: the xfails line must go)."""
        return (self.status == "fails" and not self.fact_only) or self.status == "xpass"


Body = Callable[[Any, dict[str, Any], Variant], None]


@dataclass(frozen=True)
class Check:
    """A statement about an optimizer or a dropout, as a function of the implementation.

    ``cases(impl, variant)`` generates the examples (plain dicts: seeds, sizes,
    hyper-parameters), ``body(impl, case, variant)`` raises AssertionError when the statement is
    false for that example, ``applicable(impl)`` returns why the check does not apply (None if
    it does), ``fact_only(impl)`` whether the verdict is a fact to report rather than a
    requirement (the weight-decay form the author did not declare).
    """

    kind: str  # "optimizer" | "dropout"
    name: str
    cites: str
    cases: Callable[[Any, Variant], st.SearchStrategy[dict[str, Any]]]
    body: Body
    applicable: Callable[[Any], str | None] = lambda impl: None
    fact_only: Callable[[Any], bool] = lambda impl: False
    algorithms: frozenset[str] | None = None  # the declared algorithms it is for; None: all

    @property
    def qualname(self) -> str:
        return f"{self.kind}.{self.name}"

    def id(self, variant: Variant) -> str:
        return f"{self.qualname}[{variant}]"

    def __call__(
        self,
        impl: Any,
        *,
        device: str = "cpu",
        dtype: str = "float32",
        hsettings: settings | None = None,
        seed: int | None = None,
        budget: float | None = None,
    ) -> CheckResult:
        """Run this check on ``impl``; ``hsettings`` default to :func:`settings_for`.

        ``budget``: seconds after which no new example starts (a verdict from those run so
        far; a compiled step that rebuilds for every drawn shape is bounded this way). An
        example that failed is always shrunk and replayed to the end."""
        variant = Variant(device, dtype)
        result = CheckResult(
            id=self.id(variant),
            check=self.qualname,
            implementation=impl.name,
            variant=str(variant),
            status="holds",
            cites=self.cites,
            fact_only=self.fact_only(impl),
        )
        start = time.perf_counter()
        with _recorded_output(result.warnings):
            reason = self.applicable(impl)
            if reason is not None:
                result.status, result.message = "n/a", reason
            else:
                self._hunt(impl, variant, hsettings or settings_for(), seed, result, budget)
        result.seconds = time.perf_counter() - start
        return result

    def _hunt(
        self,
        impl: Any,
        variant: Variant,
        hsettings: settings,
        seed: int | None,
        r: CheckResult,
        budget: float | None = None,
    ) -> None:
        failing: list[dict[str, Any]] = []
        broken: list[HarnessFailed] = []
        start = time.perf_counter()

        def test(case: dict[str, Any]) -> None:
            late = budget is not None and time.perf_counter() - start > budget
            if late and r.examples and not failing:
                r.stopped_at_budget = r.examples
                reject()  # no new example: Hypothesis ends with the verdict so far
            r.examples += 1
            try:
                self.body(impl, case, variant)
            except HarnessFailed as e:
                broken.append(e)
                raise
            except Exception:
                failing.append(case)  # the last one is the shrunk example Hypothesis replays
                raise

        run = hsettings(given(case=self.cases(impl, variant))(test))
        if seed is not None:
            run = hypothesis_seed(seed)(run)
        try:
            try:
                with with_reporter(lambda _text: None):
                    run()
            finally:
                if broken:
                    raise broken[0]
        except HarnessFailed:
            raise
        except HypothesisException as e:
            built = _built(e)
            if built is not None:
                _harness_error(r, impl, built, failing)
                return  # flaky, unsatisfiable, health check: say so
            r.status = "fails"
            r.example = failing[-1] if failing else None
            inner = getattr(e, "exceptions", None)  # Flaky* are exception groups
            if inner:
                first = inner[0]
                r.message = (
                    "nondeterministic: an example failed, then passed when Hypothesis replayed "
                    f"it in the same process (it raised {type(first).__name__}: {_first(first)})"
                )
            else:
                r.message = f"the check could not reach a verdict: {type(e).__name__}: {_first(e)}"
        except Exception as e:
            if _built(e) is not None:
                _harness_error(r, impl, e, failing)
                return
            r.status = "fails"
            r.example = failing[-1] if failing else None
            kind = "" if _a_verdict(e) else f"raised {type(e).__name__}: "
            r.message = kind + _first(e)
        if r.example is not None:
            r.snippet = replay_snippet(r.id, impl.spec(), r.example)


def register(
    into: list[Check],
    kind: str,
    name: str,
    cites: str,
    *,
    cases: Callable[[Any, Variant], st.SearchStrategy[dict[str, Any]]],
    applicable: Callable[[Any], str | None] | None = None,
    fact_only: Callable[[Any], bool] | None = None,
    algorithms: Iterable[str] | None = None,
) -> Callable[[Body], Check]:
    """Decorator: the function becomes the body of a :class:`Check` appended to ``into``."""

    def wrap(body: Body) -> Check:
        extra: dict[str, Any] = {}
        if applicable is not None:
            extra["applicable"] = applicable
        if fact_only is not None:
            extra["fact_only"] = fact_only
        if algorithms is not None:
            extra["algorithms"] = frozenset(algorithms)
        check = Check(kind, name, cites, cases, body, **extra)
        into.append(check)
        return check

    return wrap


def _first(e: BaseException) -> str:
    """The exception's message on one line (a report has one line per check), shortened."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 600 else text[:600] + " …"


def _a_verdict(e: BaseException) -> bool:
    """An AssertionError a check raised (its statement is false), not one raised inside the
    implementation (torch._dynamo asserts, for one): that is an exception, reported as raised."""
    if not isinstance(e, AssertionError):
        return False
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    parts = tb.tb_frame.f_code.co_filename.replace("\\", "/").split("/") if tb else []
    return tb is None or ("sgdbench" in parts and "planted" not in parts)


def _built(e: BaseException) -> BaseException | None:
    """The exception (``e`` or one it groups or chains) that the implementation's constructor
    raised on arguments the suite chose (:meth:`OptimizerUnderTest.make` marks it)."""
    seen: list[BaseException] = [e]
    while seen:
        x = seen.pop()
        if getattr(x, "sgdbench_built", None) is not None:
            return x
        seen += list(getattr(x, "exceptions", ()))
        if x.__cause__ is not None:
            seen.append(x.__cause__)
    return None


def _harness_error(r: CheckResult, impl: Any, e: BaseException, failing: list[Any]) -> None:
    """No verdict: the suite built the implementation with arguments it refused."""
    built = _built(e)
    assert built is not None
    args = ", ".join(f"{k}={v!r}" for k, v in built.sgdbench_built.items())  # type: ignore[attr-defined]
    r.status = "error"
    r.example = failing[-1] if failing else None
    r.message = (
        f"harness error, no verdict: the suite built {impl.name}(params, {args}), and the "
        f"constructor refused it ({type(built).__name__}: {_first(built)}); the check chose "
        "arguments the implementation does not accept, which is the suite's fault, not the "
        "implementation's (please report it)"
    )


def _count(into: dict[str, int], text: str) -> None:
    text = " ".join(text.split())
    text = text if len(text) <= 300 else text[:300] + " …"
    into[text] = into.get(text, 0) + 1


class _Printed(io.TextIOBase):
    """A stand-in for stdout/stderr that counts each line written to it."""

    def __init__(self, into: dict[str, int], stream: str) -> None:
        self.into, self.stream, self.pending = into, stream, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if line.strip():
                _count(self.into, f"printed to {self.stream}: {line}")
        return len(text)

    def flush(self) -> None:
        if self.pending.strip():
            _count(self.into, f"printed to {self.stream}: {self.pending}")
        self.pending = ""


def _would_emit(logger: logging.Logger, rec: logging.LogRecord) -> bool:
    """Whether a handler would take ``rec`` (logging.Logger.callHandlers' walk, filters
    included). DEBUG records are not counted: torch's structured trace alone sends tens of
    thousands to a handler that writes nothing unless TORCH_TRACE is set."""
    if rec.levelno < logging.INFO or not logger.filter(rec):
        return False
    found, node = 0, logger
    while node is not None:
        for h in node.handlers:
            found += 1
            if rec.levelno >= h.level and h.filter(rec):
                return True
        if not node.propagate:
            break
        node = node.parent  # type: ignore[assignment]
    last = logging.lastResort
    return found == 0 and last is not None and rec.levelno >= last.level


@contextlib.contextmanager
def _recorded_output(into: dict[str, int]) -> Iterator[None]:
    """Count each distinct warning (pytest's ``error`` filter included), ``logging`` record and
    printed line the implementation emits inside, instead of letting them through."""
    handle = logging.Logger.handle

    def record(logger: logging.Logger, rec: logging.LogRecord) -> None:
        if not logger.disabled and _would_emit(logger, rec):
            _count(into, f"log {rec.levelname} {rec.name}: {rec.getMessage()}")

    out, err = _Printed(into, "stdout"), _Printed(into, "stderr")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logging.Logger.handle = record  # type: ignore[method-assign,assignment]
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                yield
        finally:
            logging.Logger.handle = handle  # type: ignore[method-assign]
            out.flush()
            err.flush()
            for w in caught:
                _count(into, f"{w.category.__name__}: {w.message}")


def settings_for(examples: int | None = None, *, database: bool = False) -> settings:
    """Hypothesis settings for a check: the loaded profile's, or ``examples`` per check.

    No deadline (an implementation may be slow on its first call), every health check off (the
    checks draw large tensors on purpose), one bug reported, and no example database unless
    asked for, so that a user's run writes nothing into their working folder.
    """
    kwargs: dict[str, Any] = {
        "deadline": None,
        "suppress_health_check": list(HealthCheck),
        "report_multiple_bugs": False,
    }
    if examples is not None:
        kwargs["max_examples"] = examples
    if not database:
        kwargs["database"] = None
    return settings(**kwargs)


def replay_snippet(check_id: str, spec: dict[str, Any], case: dict[str, Any]) -> str:
    """A few lines of Python that rerun ``check_id`` on one example and raise its failure."""
    args = ", ".join(f"{k}={v!r}" for k, v in spec.items())
    return f"from sgdbench.conformance import replay\nreplay({check_id!r}, {case!r}, {args})"


# --------------------------------------------------------------------------- xfails


NONDETERMINISTIC = "nondeterministic:"


@dataclass(frozen=True)
class Xfail:
    pattern: str  # a check id, * a wildcard: "optimizer.grad_unchanged[*]"
    reason: str
    line: int

    @property
    def strict(self) -> bool:
        """False for a deviation whose failure depends on what the run cannot fix (a reason
        starting ``nondeterministic:``, e.g. reading uninitialised memory): holding once does
        not mean it is gone, so it is reported, not failed."""
        return not self.reason.startswith(NONDETERMINISTIC)


def load_xfails(path: str | Path) -> list[Xfail]:
    """An xfails file: one check-id pattern per line (``*`` a wildcard), ``# reason`` after it.

    A line without a reason is refused: an accepted deviation must say why it is accepted. A
    reason starting ``nondeterministic:`` makes the entry non-strict (:attr:`Xfail.strict`).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"--xfails {str(path)!r}: cannot read it: {e.strerror or e}") from None
    entries = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, _, reason = line.partition("#")
        if not reason.strip():
            raise UsageError(
                f"--xfails {str(path)!r} line {n}: {pattern.strip()!r} needs a reason "
                "after '#': say why the deviation is accepted"
            )
        entries.append(Xfail(pattern.strip(), reason.strip(), n))
    return entries


def glob_match(text: str, pattern: str) -> bool:
    """``*`` matches anything, everything else itself (brackets too: check ids contain them)."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, text) is not None


def match_xfail(check_id: str, implementation: str, xfails: Iterable[Xfail]) -> Xfail | None:
    """The entry that accepts ``check_id`` (optionally written ``implementation::check_id``)."""
    for x in xfails:
        if glob_match(check_id, x.pattern) or glob_match(
            f"{implementation}::{check_id}", x.pattern
        ):
            return x
    return None
