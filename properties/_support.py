"""What every property shares: devices, implementations, strategies, tolerances, assertions.

Strategies are named once here with bounded defaults (finite floats, no subnormals, small
shapes, p in a stated range); statistical tolerances are derived here, each with its bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from hypothesis import register_random
from hypothesis import strategies as st
from torch import Tensor, nn

from sgdbench import reference

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


def rng_state(device: str) -> Tensor:
    """The global RNG state that random ops on ``device`` draw from."""
    return torch.cuda.get_rng_state() if device == "cuda" else torch.get_rng_state()


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

# --------------------------------------------------------------------------- dropouts under test

DropoutFn = Callable[[Tensor, float], Tensor]  # training-mode dropout of x with probability p


def _module(p: float, x: Tensor, cls: type[nn.Module]) -> Tensor:
    out: Tensor = cls(p).train()(x)
    return out


def _named(name: str, fn: DropoutFn) -> DropoutFn:
    fn.__name__ = fn.__qualname__ = name
    return fn


DROPOUTS: dict[str, DropoutFn] = {
    name: _named(name, fn)
    for name, fn in {
        "reference.dropout": lambda x, p: reference.dropout(x, p, training=True),
        "reference.Dropout": lambda x, p: _module(p, x, reference.Dropout),
        "torch.F.dropout": lambda x, p: F.dropout(x, p, training=True),
        "torch.nn.Dropout": lambda x, p: _module(p, x, nn.Dropout),
    }.items()
}
DROPOUT_PARAMS = [pytest.param(fn, id=name) for name, fn in DROPOUTS.items()]
DROPOUT_LAYERS: dict[str, type[nn.Module]] = {
    "reference": reference.Dropout,
    "torch": nn.Dropout,
}

# --------------------------------------------------------------------------- strategies

DTYPES = {"float32": torch.float32, "float64": torch.float64}
# p for the statistical dropout checks: 0 exactly, or [P_MIN, P_MAX]. Below P_MIN a missing
# 1/(1 − p) is a bias of < 1 %, which SAMPLES cannot tell from noise at the 1e-9 budget; above
# P_MAX the variance p/(1 − p) needs more samples than a quick run can afford.
P_MIN, P_MAX = 0.01, 0.99
seeds = st.integers(0, 2**32 - 1)
probabilities = st.one_of(st.just(0.0), st.floats(P_MIN, P_MAX))
dtypes = st.sampled_from(sorted(DTYPES))
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def values(dtype: str, *, nonzero: bool = False) -> st.SearchStrategy[float]:
    """Finite activations in ±[2⁻¹⁰, 2¹⁰] (and 0 unless ``nonzero``), exact in ``dtype``."""
    width = 32 if dtype == "float32" else 64
    mag = st.floats(2.0**-10, 2.0**10, width=width, allow_subnormal=False)
    signed = st.tuples(mag, st.booleans()).map(lambda t: -t[0] if t[1] else t[0])
    return signed if nonzero else st.one_of(st.just(0.0), signed)


# --------------------------------------------------------------------------- statistics

FALSE_ALARM = 1e-9  # per Hypothesis example, for every statistical check


def bernstein_halfwidth(n: int, variance: float, bound: float, delta: float) -> float:
    """t with P(|mean − E| ≥ t) ≤ delta for n i.i.d. samples, |X − E X| ≤ bound, Var X = variance.

    Bernstein's inequality: P(|mean − E| ≥ t) ≤ 2 exp(−n t² / (2σ² + 2 b t / 3)); solve the
    quadratic n t² − (2 b L / 3) t − 2 σ² L = 0 with L = ln(2/δ) for its positive root.
    """
    L = math.log(2 / delta)
    a, b, c = n, 2 * bound * L / 3, 2 * variance * L
    return (b + math.sqrt(b * b + 4 * a * c)) / (2 * a)


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
