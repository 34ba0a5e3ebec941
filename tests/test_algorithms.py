"""The declared algorithms' float64 oracles: each is torch.optim's for-loop update (Lion: the
paper's, and lion-pytorch's), and each bound holds for torch's own paths in float32."""

from __future__ import annotations

import importlib.util
import inspect
import itertools
from typing import Any

import pytest
import torch

from sgdbench.conformance import OptimizerUnderTest, UsageError
from sgdbench.conformance.algorithms import ALGORITHMS, Adaptive, get
from sgdbench.conformance.algorithms._bounded import B, Units

TORCH = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
}


def _settings() -> list[dict[str, Any]]:
    """Every switch on and off, two β's, a large and a small ε."""
    out = []
    for ams, maxi, decay, b in itertools.product([False, True], [False, True], [0.0, 0.1],
                                                 [(0.9, 0.999), (0.5, 0.9)]):  # fmt: skip
        out.append({"lr": 0.05, "betas": b, "eps": 1e-3 if ams else 1e-8,
                    "weight_decay": decay, "amsgrad": ams, "maximize": maxi})  # fmt: skip
    return out


def _run(cls: Any, theta0: torch.Tensor, grads: list[torch.Tensor], **kw: Any) -> list[Any]:
    p = torch.nn.Parameter(theta0.clone())
    opt = cls([p], **kw)
    out = []
    for g in grads:
        p.grad = g.to(p.dtype).clone()
        opt.step()
        out.append(p.detach().double().clone())
    return out


def _problem(seed: int, dtype: torch.dtype = torch.float64) -> tuple[Any, Any]:
    gen = torch.Generator().manual_seed(seed)
    theta0 = torch.randn(4, 3, generator=gen, dtype=torch.float64)
    grads = [torch.randn(4, 3, generator=gen, dtype=torch.float64) for _ in range(8)]
    return theta0.to(dtype), grads


def _torch_kwargs(name: str, s: dict[str, Any], decoupled: bool) -> dict[str, Any]:
    kw = {k: v for k, v in s.items() if name in ("adam", "adamw") or k != "amsgrad"}
    if name in ("nadam", "radam"):
        kw["decoupled_weight_decay"] = decoupled
    return kw


@pytest.mark.parametrize("name", sorted(TORCH))
def test_oracle_is_torchs_for_loop_in_float64(name: str) -> None:
    """The oracle's values are torch.optim's for-loop update in float64 (default dtype
    float64, so that torch's scalar state, NAdam's mu_product, is float64 too)."""
    algo = ALGORITHMS[name]
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for seed, s in enumerate(_settings()):
            if name not in ("adam", "adamw") and s["amsgrad"]:
                continue
            for decoupled in [False, True] if name in ("nadam", "radam") else [name == "adamw"]:
                theta0, grads = _problem(seed)
                kw = _torch_kwargs(name, s, decoupled)
                theirs = _run(TORCH[name], theta0, grads, foreach=False, **kw)
                h = Adaptive(**s, decoupled=decoupled)
                ours = algo.trajectory([theta0], [[g] for g in grads], [h], torch.float64)
                for a, b in zip(theirs, ours, strict=True):
                    assert torch.allclose(a, b.theta[0], rtol=1e-12, atol=1e-14), (name, s)
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize(
    ("name", "path"), list(itertools.product(sorted(TORCH), ["for-loop", "foreach", "fused"]))
)
def test_torchs_float32_paths_stay_inside_the_bound(name: str, path: str) -> None:
    """Every CPU path of torch's class, in float32, within twice the derived bound; and the
    bound is a real constraint: no more than 10 % of it is used anywhere, and not all of it."""
    flags = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    algo = ALGORITHMS[name]
    if path == "fused" and "fused" not in inspect.signature(TORCH[name]).parameters:
        pytest.skip(f"torch.optim.{TORCH[name].__name__} has no fused path")
    worst = 0.0
    for seed, s in enumerate(_settings()):
        if name not in ("adam", "adamw") and s["amsgrad"]:
            continue
        decoupled = name == "adamw"
        theta0, grads = _problem(seed, torch.float32)
        try:
            theirs = _run(
                TORCH[name], theta0, grads, **flags[path], **_torch_kwargs(name, s, decoupled)
            )
        except RuntimeError as e:  # a path this torch lacks for this class
            pytest.skip(f"torch.optim.{TORCH[name].__name__}({path}) does not run here: {e}")
        h = Adaptive(**s, decoupled=decoupled)
        ours = algo.trajectory([theta0], [[g.float()] for g in grads], [h], torch.float32)
        for a, b in zip(theirs, ours, strict=True):
            used = ((a - b.theta[0]).abs() / (2 * b.bound[0])).max().item()
            worst = max(worst, used)
    assert 0 < worst <= 1, f"{name} {path}: {worst:.3g} of the bound used"


@pytest.mark.skipif(
    importlib.util.find_spec("lion_pytorch") is None,
    reason="lion-pytorch is not installed (nox -s tests installs it --no-deps)",
)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_lion_oracle_is_the_paper_and_lion_pytorch(dtype: torch.dtype) -> None:
    """lion-pytorch's Lion (the paper's Algorithm 2) against the oracle: float64 to rounding,
    float32 inside the derived bound."""
    from lion_pytorch import Lion

    for seed, (b, wd) in enumerate(itertools.product([(0.9, 0.99), (0.5, 0.95)], [0.0, 0.1])):
        theta0, grads = _problem(seed, dtype)
        theirs = _run(Lion, theta0, grads, lr=0.01, betas=b, weight_decay=wd)
        h = Adaptive(lr=0.01, betas=b, weight_decay=wd, decoupled=True)
        ours = ALGORITHMS["lion"].trajectory([theta0], [[g.to(dtype)] for g in grads], [h], dtype)
        for a, o in zip(theirs, ours, strict=True):
            assert bool(((a - o.theta[0]).abs() <= 2 * o.bound[0]).all())
            if dtype == torch.float64:
                assert torch.allclose(a, o.theta[0], rtol=1e-13, atol=1e-15)


def test_lions_bound_at_a_sign_that_rounding_can_flip() -> None:
    """Where β₁m + (1 − β₁)g is within its rounding bound of 0, the bound allows 2γ there
    (and only there): a float32 implementation that forms the interpolation in another order
    may take the other sign and still hold."""
    un = Units.of(torch.float32)
    m = B.exact(torch.tensor([1.0, 1.0], dtype=torch.float64))
    g = B.exact(torch.tensor([-9.0 + 1e-12, 5.0], dtype=torch.float64))  # c ≈ 1e-13, then 1.4
    c = m.lerp(g, 0.1, un)
    s = c.sign()
    assert s.e.tolist() == [2.0, 0.0]
    assert s.x.tolist() == [1.0, 1.0]


def test_sqrt_bound_is_exact_over_the_interval() -> None:
    un = Units(u=0.0, u_s=0.0, tiny=0.0)
    a = B(
        torch.tensor([4.0, 1e-6, 0.0], dtype=torch.float64),
        torch.tensor([1.0, 1e-6, 1e-8], dtype=torch.float64),
    )
    r = a.sqrt(un)
    worst = torch.maximum((a.x + a.e).sqrt() - r.x, r.x - (a.x - a.e).clamp_min(0).sqrt())
    assert torch.all(worst <= r.e * (1 + 1e-12))


def test_division_by_an_interval_containing_zero_has_no_bound() -> None:
    un = Units.of(torch.float32)
    a = B.exact(torch.tensor([1.0], dtype=torch.float64))
    b = B(torch.tensor([1e-3], dtype=torch.float64), torch.tensor([1e-2], dtype=torch.float64))
    assert a.div(b, un).e.isinf().all()


def test_unknown_algorithm_and_wrong_decay_form_are_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"one of \['sgd', 'adam', 'adamw', 'nadam', 'radam', 'lion'\], but got 'adamax'",
    ):
        get("adamax")
    with pytest.raises(UsageError, match="algorithm must be one of"):
        OptimizerUnderTest(torch.optim.Adam, algorithm="adamax")
    with pytest.raises(
        UsageError,
        match="'decoupled' is not Adam's: Adam decays coupled; declare algorithm 'adamw'",
    ):
        OptimizerUnderTest(torch.optim.Adam, algorithm="adam", weight_decay="decoupled")
    assert OptimizerUnderTest(torch.optim.AdamW, algorithm="adamw").weight_decay == "decoupled"
    assert OptimizerUnderTest(torch.optim.SGD).weight_decay == "coupled"


def test_required_hyper_parameters_are_seen_taken_or_in_param_groups() -> None:
    assert OptimizerUnderTest(torch.optim.SGD, algorithm="adam").missing() == ["betas", "eps"]
    assert OptimizerUnderTest(torch.optim.Adam, algorithm="adam").missing() == []
    assert OptimizerUnderTest(torch.optim.Adam, algorithm="lion").missing() == []
