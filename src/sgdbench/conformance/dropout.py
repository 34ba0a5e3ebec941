"""Dropout checks: Algorithm 12, its 1/(1 − p) scaling, independent units, train and eval.

Each check is a :class:`~sgdbench.conformance._runner.Check`: call it on a
:class:`~sgdbench.conformance.DropoutUnderTest`. Inputs have the implementation's declared rank
(2 by default: a batch of hidden vectors h), the first dimension a batch. Statistical checks
use Bernstein's inequality with a false-alarm budget of 1e-9 per example (:mod:`._stats`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import assume
from hypothesis import strategies as st
from torch import Tensor, nn

from sgdbench.conformance._impl import DropoutUnderTest
from sgdbench.conformance._runner import Body, Check, Variant, register
from sgdbench.conformance._stats import FALSE_ALARM, bernstein_halfwidth

__all__ = ["CHECKS"]

Case = dict[str, Any]
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


@_check(
    "expectation",
    'Dropout: "the scaling ensures that the expected output of a neuron is the same during '
    'training and testing": E[dropout(x)] = p·0 + (1 − p)·x/(1 − p) = x',
    cases=lambda impl, v: st.builds(
        lambda case, p: {**case, "p": p},
        _activations(impl, v, nonzero=False, batched=False),
        st.one_of(st.just(0.0), st.floats(P_MIN, P_MAX)),
    ),
)
def expectation(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """Each element averaged over SAMPLES draws (along the batch dimension; rank 1: repeated
    calls are too slow, so a rank-1 dropout gets a (SAMPLES,)-shaped copy of its one value).
    Bernstein: Var = x²p/(1 − p), |dropout(x) − x| ≤ |x|·max(1, p/(1 − p)); budget 1e-9/k per
    element (k elements: ≤ 1e-9 per example). Slack: 4 ulp for the rounding of x/(1 − p) and
    1e-9 relative for the float64 sum of SAMPLES terms (both far below the half-width)."""
    x, p = _x(case, variant), case["p"]
    torch.manual_seed(case["seed"])
    batch = x.expand(SAMPLES, *x.shape).contiguous()
    mean = impl.apply(batch, p).double().mean(dim=0)
    k = x.numel()
    t_rel = bernstein_halfwidth(SAMPLES, p / (1 - p), max(1.0, p / (1 - p)), FALSE_ALARM / k)
    tol = x.double().abs() * (t_rel + 4 * torch.finfo(variant.torch_dtype).eps + 1e-9)
    bad = (mean - x.double()).abs() > tol
    if bad.any():
        i = tuple(bad.nonzero()[0].tolist())
        raise AssertionError(
            f"mean of {SAMPLES} dropout({x[i].item()!r}, p={p}) = {mean[i].item()!r}, but "
            f"should be within ±{tol[i].item():.3g} of x (false-alarm bound {FALSE_ALARM}) "
            f"[{impl.name}, {variant}]"
        )


def kept_scales(p: float, dtype: torch.dtype) -> list[Tensor]:
    """The dtype's roundings of 1/(1 − p): direct, or as 1/fl(1 − p) (torch's CPU kernel)."""
    return [torch.tensor(1 / (1 - p), dtype=dtype), 1 / torch.tensor(1 - p, dtype=dtype)]


def _assert_scaled(name: str, got: Tensor, x: Tensor, p: float, bitwise: bool, call: str) -> None:
    """``got`` is x·1/(1 − p): exactly for one rounding s (bitwise), else within 4u + 2u₆₄.

    A correct implementation rounds 1/(1 − p) or (1 − p) once and the product or quotient
    once: within 2u of the exact x/(1 − p). The float64 reference adds ≤ 2u₆₄.
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
            f"{exact[i].item()!r} within {tol[i].item():.3g} (4 ulp) [{call}]"
        )


@_check(
    "law",
    'Algorithm 12: "1_u ← u > p; return 1/(1 − p)·1_u ∘ h": dropped units exactly 0, kept '
    "units x/(1 − p), p = 0 the identity, the gradient 1_u/(1 − p)",
    cases=lambda impl, v: st.builds(
        lambda case, p: {**case, "p": p},
        _activations(impl, v, nonzero=True, batched=True),
        st.one_of(st.just(0.0), st.floats(0.0, 0.999)),
    ),
)
def law(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """x has no zeros, so 1_u can be read off the output; p ≤ 0.999 keeps 1/(1 − p) finite."""
    x, p = _x(case, variant), case["p"]
    x.requires_grad_(True)
    torch.manual_seed(case["seed"])
    out = impl.apply(x, p)
    call = f"{impl.name}(x, p={p}) {variant}"
    o, xd = out.detach(), x.detach()
    if p == 0.0 and not torch.equal(o, xd):
        raise AssertionError(
            f"dropout(x, p=0) = {o.flatten()[:4].tolist()}…, but should be x [{call}]"
        )
    kept = o != 0
    if kept.any():
        _assert_scaled("kept units", o[kept], xd[kept], p, impl.bitwise, call)
    out.sum().backward()  # type: ignore[no-untyped-call]
    assert x.grad is not None, f"no gradient reached x [{call}]"
    grad = x.grad.detach()
    if (grad[~kept] != 0).any():
        raise AssertionError(f"∂Σdropout(x)/∂x is not 0 at a dropped unit [{call}]")
    if kept.any():
        ones = torch.ones_like(xd[kept])
        _assert_scaled("∂Σdropout(x)/∂x at kept units", grad[kept], ones, p, impl.bitwise, call)


@_check(
    "p_one",
    "torch.nn.functional.dropout: p = 1 zeroes every unit (the chapter's 1/(1 − p) is "
    "undefined there; torch's documented contract decides)",
    cases=lambda impl, v: _activations(impl, v, nonzero=True, batched=True),
)
def p_one(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    x = _x(case, variant)
    torch.manual_seed(case["seed"])
    out = impl.apply(x, 1.0)
    if not torch.equal(out, torch.zeros_like(x)):
        raise AssertionError(
            f"dropout(x, p=1) = {out.flatten()[:4].tolist()}…, but should be all zeros "
            f"[{impl.name} {variant}]"
        )


_KEEP_SHAPES = {
    1: [20_000],
    2: [200, 100],
    3: [50, 20, 20],
    4: [50, 4, 10, 10],
    5: [25, 4, 2, 10, 10],
}


@_check(
    "keep_rate",
    'Algorithm 12: "each neuron is independently dropped with probability p": the number '
    "kept among n units is Binomial(n, 1 − p)",
    cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.0, P_MAX), "seed": seeds}),
)
def keep_rate(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """n = 20 000 units. Bernstein for the kept fraction (Var = p(1 − p), |1_u − (1 − p)| ≤
    max(p, 1 − p)): false alarm ≤ 1e-9; a keep rate off by 0.04 or more is caught (half-width
    ≤ 0.019)."""
    p, shape = case["p"], _KEEP_SHAPES[impl.rank]
    n = math.prod(shape)
    torch.manual_seed(case["seed"])
    ones = torch.ones(shape, dtype=variant.torch_dtype, device=variant.device)
    kept = (impl.apply(ones, p) != 0).double().mean().item()
    t = bernstein_halfwidth(n, p * (1 - p), max(p, 1 - p), FALSE_ALARM) if p > 0 else 0.0
    assert abs(kept - (1 - p)) <= t, (
        f"kept fraction {kept:.5f}, but should be 1 − p = {1 - p:.5f} ± {t:.4f} (false-alarm "
        f"bound {FALSE_ALARM}) [{impl.name}(ones({shape}), p={p}) {variant}]"
    )


_PAIR_SHAPES = {1: [4096], 2: [64, 64], 3: [16, 16, 16], 4: [8, 8, 8, 8], 5: [4, 4, 4, 8, 8]}
_CALLS = 4


@_check(
    "independent_units",
    'Algorithm 12: "sample u ~ U([0, 1])^d": one independent draw per unit, so no two units '
    "(along any axis: batch, feature, channel, spatial) share their fate",
    cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.1, 0.9), "seed": seeds}),
)
def independent_units(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """For each axis, the units are split into disjoint neighbouring pairs (index 2k, 2k + 1);
    under Algorithm 12 two units agree (both kept or both dropped) with probability
    q = p² + (1 − p)², independently across pairs. Over 4 calls on 4096 units that is 8192
    pairs per axis; Bernstein (Var = q(1 − q), |1 − q| ≤ max(q, 1 − q)) with the 1e-9 budget
    split over the axes bounds the false alarm. A dropout that drops whole rows, channels or
    the same units for every sample agrees in 100 % of pairs along that axis, against
    q ≤ 0.82 on p ∈ [0.1, 0.9]: 0.18 away, five times the half-width (≤ 0.036)."""
    p, shape = case["p"], _PAIR_SHAPES[impl.rank]
    torch.manual_seed(case["seed"])
    ones = torch.ones(shape, dtype=variant.torch_dtype, device=variant.device)
    masks = torch.stack([impl.apply(ones, p) != 0 for _ in range(_CALLS)])
    if masks.all():
        raise AssertionError(
            f"no unit was ever 0 in {_CALLS} calls at p={p}: not Algorithm 12's mask, which "
            f"zeroes dropped units [{impl.name}(ones({shape})) {variant}]"
        )
    q = p * p + (1 - p) * (1 - p)
    for axis in range(len(shape)):
        a = masks.narrow(axis + 1, 0, shape[axis] // 2 * 2)
        pairs = a.unflatten(axis + 1, (-1, 2))  # type: ignore[no-untyped-call]
        even, odd = pairs.unbind(axis + 2)
        agree = (even == odd).double()
        t = bernstein_halfwidth(agree.numel(), q * (1 - q), max(q, 1 - q), FALSE_ALARM / len(shape))
        rate = agree.mean().item()
        assert abs(rate - q) <= t, (
            f"neighbouring units along axis {axis} agree in {rate:.3f} of {agree.numel()} pairs, "
            f"but independent units agree in p² + (1 − p)² = {q:.3f} ± {t:.3f} (false-alarm "
            f"bound {FALSE_ALARM}): units share their mask along axis {axis} "
            f"[{impl.name}(ones({shape}), p={p}) {variant}]"
        )


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


@_check(
    "eval_identity",
    'Algorithm 12, line 1: "if not training return h"; "In evaluation mode, the dropout layer '
    'is letting through the input and the network acts deterministic"',
    cases=lambda impl, v: _networks(),
)
def eval_identity(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """Generated networks in eval(): the output is bitwise the same across calls, whatever the
    RNG state, with or without no_grad, equal to the same network with its dropout layers
    removed, and the forward draws no random numbers. Exact: nothing random may happen."""
    net, x = _network(impl, case, variant)
    net.eval()
    call = f"{net} eval() {variant}"
    first = net(x)
    state = rng_state(variant.device)
    _same("second eval() output", net(x), first, call)
    if not torch.equal(rng_state(variant.device), state):
        raise AssertionError(f"eval() forward advanced the RNG [{call}]")
    torch.manual_seed(case["other_seed"])
    _same("eval() output after reseeding", net(x), first, call)
    with torch.no_grad():
        _same("eval() output under no_grad", net(x), first.detach(), call)
    plain = nn.Sequential(*(m for i, m in enumerate(net) if i % 3 != 2))
    _same("eval() output vs the network without dropout", plain(x), first, call)


@_check(
    "train_varies",
    '"In training mode, the dropout layer is on and the model output is not deterministic"',
    cases=lambda impl, v: _networks(),
)
def train_varies(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """The first dropout layer's output varies across K = TRAIN_CALLS train() calls: the chance
    that all calls draw the same masks on its n non-zero inputs is (p^K + (1 − p)^K)^n;
    examples where that exceeds 1e-9 (too few live units) are discarded, not checked, so a
    pass is never luck and a failure is a bug. (The network's output itself may legitimately
    not vary: later ReLUs can all be dead.)"""
    net, x = _network(impl, case, variant)
    net.train()
    with torch.no_grad():
        live = int((net[1](net[0](x)) != 0).sum())
    p = case["ps"][0]
    assume((p**TRAIN_CALLS + (1 - p) ** TRAIN_CALLS) ** live <= FALSE_ALARM)
    outs: list[Tensor] = []
    hook = net[2].register_forward_hook(lambda _m, _i, out: outs.append(out))
    try:
        with torch.no_grad():
            for _ in range(TRAIN_CALLS):
                net(x)
    finally:
        hook.remove()
    if all(torch.equal(o, outs[0]) for o in outs[1:]):
        raise AssertionError(
            f"{TRAIN_CALLS} train() outputs of the first dropout layer all equal: not random "
            f"[{net} {variant}]"
        )


@_check(
    "seeded",
    "Reproducibility: the masks come from torch's global RNG, so torch.manual_seed(s) fixes "
    "them (one seed fixes a whole training run) and every training-mode call advances it",
    cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.1, 0.9), "seed": seeds}),
)
def seeded(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    p, shape = case["p"], _PAIR_SHAPES[impl.rank]
    x = torch.ones(shape, dtype=variant.torch_dtype, device=variant.device)
    call = f"{impl.name}(ones({shape}), p={p}) {variant}"
    torch.manual_seed(case["seed"])
    before = rng_state(variant.device)
    first = impl.apply(x, p)
    if torch.equal(rng_state(variant.device), before):
        raise AssertionError(f"a training-mode call drew nothing from torch's global RNG [{call}]")
    torch.manual_seed(case["seed"])
    _same("output after torch.manual_seed(s) again", impl.apply(x, p), first, call)
