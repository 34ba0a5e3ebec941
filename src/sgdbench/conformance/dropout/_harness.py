"""What every dropout check shares: strategies, inputs of the declared rank, the kept-unit
scaling comparison, the generated networks, and the registry the checks join."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from hypothesis import strategies as st
from torch import Tensor, nn

from sgdbench.conformance._impl import DropoutUnderTest
from sgdbench.conformance._runner import Body, Check, Variant, register

Case = dict[str, Any]
T = TypeVar("T")
CHECKS: list[Check] = []

# p for the statistical checks: 0 exactly, or [P_MIN, P_MAX]. Below P_MIN a missing 1/(1 − p)
# is a bias of < 1 %, which SAMPLES cannot tell from noise at the 1e-9 budget; above P_MAX the
# variance p/(1 − p) needs more samples than a quick run can afford.
P_MIN, P_MAX = 0.01, 0.99
# Samples per element for the expectation check. With at most 16 elements per example, the
# Bernstein half-width at the per-element budget 1e-9/16 is 0.0024·|x| at p = 0.01 and
# 0.23·|x| at p = 0.99, below half the relative bias of a missing scale (p) or a doubled one
# (p/(1 − p)) everywhere on [0.01, 0.99]: such a bug lands outside the band, except with
# probability below the same budget.
SAMPLES = 100_000
seeds = st.integers(0, 2**32 - 1)


def _check(name: str, cites: str, **kw: Any) -> Callable[[Body], Check]:
    return register(CHECKS, "dropout", name, cites, **kw)


def values(dtype: str, *, nonzero: bool = False) -> st.SearchStrategy[float]:
    """Finite activations in ±[2⁻¹⁰, 2¹⁰] (and 0 unless ``nonzero``), exact in ``dtype``."""
    mag = st.floats(
        2.0**-10, 2.0**10, width=32 if dtype == "float32" else 64, allow_subnormal=False
    )
    signed = st.tuples(mag, st.booleans()).map(lambda t: -t[0] if t[1] else t[0])
    return signed if nonzero else st.one_of(st.just(0.0), signed)


def _unit_shape(rank: int, max_numel: int) -> st.SearchStrategy[list[int]]:
    """The shape of one sample (rank − 1 dims, at most ``max_numel`` elements)."""
    return st.lists(st.integers(1, 4), min_size=rank - 1, max_size=rank - 1).filter(
        lambda s: math.prod(s) <= max_numel
    )


@st.composite
def _activations(
    draw: st.DrawFn, impl: DropoutUnderTest, variant: Variant, nonzero: bool, batched: bool
) -> Case:
    """x of the declared rank (``batched``: with a batch of 1–3 first), or one sample of it."""
    shape = draw(_unit_shape(impl.rank, 16) if impl.rank > 1 else st.just([]), label="shape")
    if batched and impl.rank > 1:
        shape = [draw(st.integers(1, 3), label="batch"), *shape]
    n = math.prod(shape)
    xs = draw(st.lists(values(variant.dtype, nonzero=nonzero), min_size=n, max_size=n), label="x")
    return {"shape": shape, "x": xs, "seed": draw(seeds, label="seed")}


def _x(case: Case, variant: Variant) -> Tensor:
    return torch.tensor(case["x"], dtype=variant.torch_dtype, device=variant.device).reshape(
        case["shape"]
    )


def kept_scales(p: float, dtype: torch.dtype) -> list[Tensor]:
    """The dtype's roundings of 1/(1 − p): direct, or as 1/fl(1 − p) (torch's CPU kernel)."""
    return [torch.tensor(1 / (1 - p), dtype=dtype), 1 / torch.tensor(1 - p, dtype=dtype)]


def _assert_scaled(name: str, got: Tensor, x: Tensor, p: float, bitwise: bool, call: str) -> None:
    """``got`` is x·1/(1 − p): exactly for one rounding s (bitwise), else within 4u + 2u₆₄.

    u is the unit roundoff of x's dtype (float64 2⁻⁵³, float32 2⁻²⁴, float16 2⁻¹¹, bfloat16
    2⁻⁸). A correct implementation rounds 1/(1 − p) or (1 − p) once and the product or
    quotient once: within 2u(1 + u) of the exact x/(1 − p). A half-precision kernel that
    computes in float32 and rounds to the dtype at the end (torch's CPU kernels do) adds
    ≤ 2u₃₂ per operation on top, still below 4u. The float64 reference adds ≤ 2u₆₄.
    """
    __tracebackhide__ = True
    if bitwise:
        scales = [s.to(got.device) for s in kept_scales(p, x.dtype)]
        if any(torch.equal(got, x * s) for s in scales):
            return
        raise AssertionError(
            f"{name} = {got.flatten()[:4].tolist()}…, but should be exactly x·{scales[0].item()!r}"
            f" = {(x * scales[0]).flatten()[:4].tolist()}… (declared bitwise) [{call}]"
        )
    exact = x.double() / (1 - p)
    u = torch.finfo(x.dtype).eps / 2
    tol = (4 * u + 2 * 2.0**-53) * exact.abs()
    bad = ~((got.double() - exact).abs() <= tol)
    if bad.any():
        i = tuple(bad.nonzero()[0].tolist())
        raise AssertionError(
            f"{name} = {got[i].item()!r} at {list(i)}, but should be x/(1 − p) = "
            f"{exact[i].item()!r} within {tol[i].item():.3g} (4u, {x.dtype}) [{call}]"
        )


_KEEP_SHAPES = {
    1: [20_000],
    2: [200, 100],
    3: [50, 20, 20],
    4: [50, 4, 10, 10],
    5: [25, 4, 2, 10, 10],
}


_PAIR_SHAPES = {1: [4096], 2: [64, 64], 3: [16, 16, 16], 4: [8, 8, 8, 8], 5: [4, 4, 4, 8, 8]}
_CALLS = 4


def rng_state(device: str) -> Tensor:
    """The global RNG state that random ops on ``device`` draw from."""
    return torch.cuda.get_rng_state() if device.startswith("cuda") else torch.get_rng_state()


BATCH = 64
TRAIN_CALLS = 20


@st.composite
def _networks(draw: st.DrawFn) -> Case:
    """Linear → ReLU → Dropout(p_i) per hidden layer (1–3 of them, widths 2–16), then Linear."""
    depth = draw(st.integers(1, 3), label="hidden layers")
    return {
        "widths": [draw(st.integers(2, 8), label="in")]
        + [draw(st.integers(2, 16), label=f"width {i}") for i in range(depth)],
        "ps": [draw(st.floats(0.1, 0.9), label=f"p {i}") for i in range(depth)],
        "out": draw(st.integers(1, 4), label="out"),
        "init_seed": draw(seeds, label="init seed"),
        "seed": draw(seeds, label="seed"),
        "other_seed": draw(seeds, label="other seed"),
    }


def _network(impl: DropoutUnderTest, case: Case, variant: Variant) -> tuple[nn.Sequential, Tensor]:
    """The network on the variant's device and dtype, and an input of the declared rank."""
    torch.manual_seed(case["init_seed"])
    w, layers = case["widths"], []
    for i, p in enumerate(case["ps"]):
        layers += [nn.Linear(w[i], w[i + 1]), nn.ReLU(), impl.layer(p)]
    layers.append(nn.Linear(w[-1], case["out"]))
    net = nn.Sequential(*layers).to(variant.device, variant.torch_dtype)
    lead = ([BATCH] if impl.rank >= 2 else []) + [2] * max(impl.rank - 2, 0)
    torch.manual_seed(case["seed"])
    x = torch.randn([*lead, w[0]], dtype=variant.torch_dtype, device=variant.device)
    return net, x


def _same(name: str, got: Tensor, expected: Tensor, call: str) -> None:
    __tracebackhide__ = True
    if not torch.equal(got, expected):
        diff = (got.double() - expected.double()).abs().max().item()
        raise AssertionError(
            f"{name} differs by up to {diff:.3g}, but should be identical [{call}]"
        )


def _calling(what: str, call: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, or an AssertionError saying that ``what`` raised, and what."""
    __tracebackhide__ = True
    try:
        return fn(*args)
    except Exception as e:
        raise AssertionError(f"{what} raised {type(e).__name__}: {e} [{call}]") from e


def randn_nonzero(shape: list[int], seed: int, variant: Variant) -> Tensor:
    """Non-zero N(0, 1) values drawn from their own generator (the global RNG is untouched)."""
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x[x == 0] = 1.0
    return x.to(variant.device, variant.torch_dtype)


def forward_backward(
    impl: DropoutUnderTest, x: Tensor, p: float, g: Tensor, training: bool, call: str
) -> tuple[Tensor, Tensor]:
    """out = dropout(x) and ∂⟨g, out⟩/∂x, with x a leaf whose clone goes in (in-place safe)."""
    __tracebackhide__ = True
    leaf = x.clone().requires_grad_(True)
    out = _calling("the forward", call, impl.apply, leaf.clone(), p, training)
    if not out.requires_grad:
        raise AssertionError(
            f"the output carries no gradient (requires_grad=False): loss.backward() through "
            f"it cannot reach x, where torch's gives ∂out/∂x [{call}]"
        )
    _calling("the backward", call, (out * g).sum().backward)
    if leaf.grad is None:
        raise AssertionError(f"no gradient reached x [{call}]")
    return out.detach(), leaf.grad
