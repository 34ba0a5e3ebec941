"""Shared by tests/, properties/ and benchmarks/: the devices to run on, Hypothesis profiles."""

from __future__ import annotations

import collections
import os
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, settings
from properties._support import DEVICES

# Hypothesis profiles, registered once. ``dev`` is the default, ``ci`` is picked when CI is set,
# and any can be chosen with --hypothesis-profile=NAME (``nox -s tests -- --hypothesis-profile
# thorough``).
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Name the implementation under test (array-api-tests style); see properties/conftest.py."""
    group = parser.getgroup("sgdbench", "sgdbench conformance: the implementation under test")
    group.addoption("--optimizer", metavar="MODULE:ATTR", help="optimizer class or factory")
    group.addoption("--optimizer-kwargs", default="{}", metavar="JSON", help="constant kwargs")
    group.addoption(
        "--weight-decay",
        choices=["coupled", "decoupled"],
        default=None,
        help="the declared weight-decay form (default: the algorithm's own)",
    )
    group.addoption(
        "--optimizer-algorithm",
        default="sgd",
        metavar="NAME",
        help="the declared update: sgd (default), adam, adamw, nadam, radam, lion",
    )
    group.addoption("--bitwise", action="store_true", help="declare bitwise = torch's class")
    group.addoption("--dropout", metavar="MODULE:ATTR", help="f(x, p, training) or a Module class")
    group.addoption("--dropout-rank", type=int, default=2, help="input rank (default: 2)")
    group.addoption("--dropout-bitwise", action="store_true", help="declare torch's exact scaling")
    group.addoption("--dropout-kwargs", default="{}", metavar="JSON", help="constant kwargs")
    group.addoption("--dropout-inplace", action="store_true", help="declare it works in place")
    group.addoption(
        "--dropout-structure",
        choices=["element", "channel", "sample"],
        default="element",
        help="which units share one draw (default: element, Algorithm 12)",
    )
    group.addoption(
        "--xfails",
        metavar="FILE",
        help="accepted deviations, one check-id pattern per line with '# reason' "
        "(default: properties/xfails.txt for the built-in implementations)",
    )


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    """Each device present: cpu always, cuda where a GPU is (skipped with a reason elsewhere)."""
    return torch.device(request.param)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Skips said once per reason, with a count, instead of pytest's line per test location:
    what cannot run on this machine (no CUDA device, one GPU for NCCL), and the conformance
    suite's own n/a and fact verdicts on the built-in implementations (``-rs`` lists each)."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: collections.Counter[str] = collections.Counter()
    for report in skipped:
        reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else "")
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith(("not applicable:", "not the declared", "not declared")):
            reason = "a conformance verdict on a built-in implementation: n/a or a reported fact"
        reasons[reason] += 1
    terminalreporter.write_sep("-", f"{len(skipped)} skipped, by reason (-rs lists each)")
    for reason, n in reasons.most_common():
        terminalreporter.write_line(f"{n:5d}  {reason}")
