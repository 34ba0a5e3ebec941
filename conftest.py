"""Shared by tests/, properties/ and benchmarks/: the devices to run on, Hypothesis profiles."""

from __future__ import annotations

import os

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
        default="coupled",
        help="the declared weight-decay form (default: coupled)",
    )
    group.addoption("--bitwise", action="store_true", help="declare bitwise = torch.optim.SGD")
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
