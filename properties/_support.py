"""What every property shares: devices, torch's RNG under Hypothesis, seeds, assertions.

The optimizer and dropout checks themselves, with their strategies and statistical bounds,
live in the package (:mod:`sgdbench.conformance`), so that users can run them on their own
implementations; ``test_optimizer.py`` and ``test_dropout.py`` run them here.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import register_random
from hypothesis import strategies as st
from torch import Tensor

# --------------------------------------------------------------------------- devices

NO_CUDA = "no CUDA device on this machine (CI has none); run on a GPU machine to check it"
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param(
        "cuda",
        id="cuda",
        marks=[pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)],
    ),
]


# --------------------------------------------------------------------------- torch's RNG


class _TorchGlobalRandom:
    """torch's global RNGs (CPU and every CUDA device) in the shape Hypothesis can manage.

    Registered with ``hypothesis.register_random``: Hypothesis seeds it before each example and
    restores it after, so an example that draws from torch's RNG replays exactly.
    """

    def seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def getstate(self) -> Any:
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
        return torch.get_rng_state(), cuda

    def setstate(self, state: Any) -> None:
        cpu, cuda = state
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)


TORCH_RANDOM = _TorchGlobalRandom()  # a strong reference: register_random keeps a weak one
register_random(TORCH_RANDOM)  # type: ignore[arg-type]

# --------------------------------------------------------------------------- strategies

seeds = st.integers(0, 2**32 - 1)


# --------------------------------------------------------------------------- assertions


def assert_equal(name: str, got: Tensor, expected: Tensor, call: str) -> None:
    """Bitwise equality, with what was seen, what was expected, and the call that produced it."""
    __tracebackhide__ = True
    if got.shape != expected.shape or not torch.equal(got, expected):
        diff = (got.double() - expected.double()).abs()
        worst = diff.max().item() if diff.numel() else float("nan")
        raise AssertionError(
            f"{name}={got.flatten()[:6].tolist()}…, but should be exactly "
            f"{expected.flatten()[:6].tolist()}… (max |diff| {worst:.3g}) [{call}]"
        )


def assert_close(name: str, got: Tensor, expected: Tensor, rtol: float, atol: float, call: str):
    """``|got − expected| ≤ atol + rtol·|expected|`` element-wise, explained when it fails."""
    __tracebackhide__ = True
    if not torch.allclose(got, expected, rtol=rtol, atol=atol):
        diff = (got - expected).abs().max().item()
        raise AssertionError(
            f"{name} differs by up to {diff:.3g} (rtol={rtol}, atol={atol}), "
            f"but should be equal [{call}]"
        )
