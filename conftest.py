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


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    """Each device present: cpu always, cuda where a GPU is (skipped with a reason elsewhere)."""
    return torch.device(request.param)
