"""Weight decay as L2 regularisation (chapter, section "Weight Decay").

"optim.SGD(model.parameters(), lr=0.1, weight_decay=0.1) adds an L2 regularization with
regularization weight λ = 0.1. That is, the optimized loss is" L(θ) + (λ/2)‖θ‖².

Tolerance (float64, one place): both sides compute the same real numbers; they differ only in
how g + λθ is rounded (one ``add(…, alpha=λ)`` against autograd's λ/2·2θ then an add), a few
ulp (≈1e-16 relative) per element per step, carried through ≤ 5 steps of a small network.
RTOL = 1e-9 leaves a 10⁶-fold margin over that, and is 10³ times below the smallest effect a
misplaced decay has here (η ≥ 0.01, λ ≥ 0.001, μ ≥ 0.1: a change ≥ 1e-6·|θ| per step).
"""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from torch import nn

from properties._support import assert_close, seeds
from sgdbench.reference import SGD, l2_penalty

RTOL, ATOL = 1e-9, 1e-12
SGDS = [pytest.param(SGD, id="reference.SGD"), pytest.param(torch.optim.SGD, id="torch.optim.SGD")]


@st.composite
def problems(draw: st.DrawFn) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A float64 MLP (in 1–4, hidden 1–8, out 1–3) and a regression batch of 1–16 points."""
    d_in, hidden, d_out = draw(st.integers(1, 4)), draw(st.integers(1, 8)), draw(st.integers(1, 3))
    batch = draw(st.integers(1, 16))
    torch.manual_seed(draw(seeds, label="seed"))
    model = nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, d_out)).double()
    return model, torch.randn(batch, d_in, dtype=torch.float64), torch.randn(batch, d_out).double()


@st.composite
def sgd_configs(draw: st.DrawFn) -> dict[str, float | bool]:
    momentum = draw(st.one_of(st.just(0.0), st.floats(0.1, 0.95)), label="momentum")
    nesterov = momentum > 0 and draw(st.booleans(), label="nesterov")
    dampening = 0.0 if nesterov else draw(st.one_of(st.just(0.0), st.floats(0.0, 0.9)))
    return {
        "lr": draw(st.floats(0.01, 0.5), label="lr"),
        "momentum": momentum,
        "dampening": dampening,
        "nesterov": nesterov,
    }


def _loss(model: nn.Module, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    return nn.functional.mse_loss(model(X), Y)


def _train(opt_cls, model, X, Y, steps, l2=0.0, **config):  # type: ignore[no-untyped-def]
    opt = opt_cls(model.parameters(), **config)
    trace = []
    for _ in range(steps):
        opt.zero_grad()
        loss = _loss(model, X, Y)
        if l2:
            loss = loss + l2_penalty(model.parameters(), l2)
        loss.backward()
        opt.step()
        trace.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    return trace


def _copies(model: nn.Module, k: int) -> list[nn.Module]:
    return [copy.deepcopy(model) for _ in range(k)]


WD_GIVEN = {
    "problem": problems(),
    "config": sgd_configs(),
    "lam": st.floats(1e-3, 1.0),
    "steps": st.integers(1, 5),
}


@pytest.mark.parametrize("opt_cls", SGDS)
@given(**WD_GIVEN)
def test_weight_decay_is_l2_penalty(opt_cls, problem, config, lam, steps) -> None:  # type: ignore[no-untyped-def]
    """SGD(weight_decay=λ) on L takes the same steps as SGD(weight_decay=0) on L + (λ/2)‖θ‖²,
    with any momentum, dampening and Nesterov: decay enters as λθ *before* momentum."""
    model, X, Y = problem
    a, b = _copies(model, 2)
    decayed = _train(opt_cls, a, X, Y, steps, weight_decay=lam, **config)
    penalised = _train(opt_cls, b, X, Y, steps, l2=lam, weight_decay=0.0, **config)
    assume(all(torch.isfinite(t).all() for t in decayed + penalised))
    for t, (got, expected) in enumerate(zip(decayed, penalised, strict=True)):
        assert_close(
            f"θ after step {t + 1} with weight_decay={lam}",
            got,
            expected,
            RTOL,
            ATOL,
            f"{opt_cls.__module__}.{opt_cls.__name__}({config}) vs weight_decay=0 + l2_penalty",
        )


@pytest.mark.parametrize("opt_cls", SGDS)
@given(problem=problems(), lr=st.floats(0.01, 0.5), lam=st.floats(1e-3, 1.0))
def test_one_step_is_decoupled_decay(opt_cls, problem, lr, lam) -> None:  # type: ignore[no-untyped-def]
    """Loshchilov & Hutter, Prop. 1: without momentum, one step of SGD(weight_decay=λ) is
    θ ← (1 − ηλ)θ − η∇L(θ): shrink the weights, then the plain gradient step. Both forms
    round differently (a few ulp): rtol 1e-12, atol 1e-12 for entries that cancel to ≈0."""
    model, X, Y = problem
    theta = [p.detach().clone() for p in model.parameters()]
    grads = torch.autograd.grad(_loss(model, X, Y), list(model.parameters()))
    expected = torch.cat(
        [((1 - lr * lam) * t - lr * g).flatten() for t, g in zip(theta, grads, strict=False)]
    )
    (got,) = _train(opt_cls, model, X, Y, 1, lr=lr, weight_decay=lam)
    assert_close(
        "θ after one step", got, expected, 1e-12, 1e-12, f"{opt_cls.__name__}, η={lr}, λ={lam}"
    )


@given(
    problem=problems(), lr=st.floats(0.01, 0.1), lam=st.floats(1e-2, 1.0), steps=st.integers(1, 3)
)
def test_adam_l2_is_not_adamw(problem, lr, lam, steps) -> None:  # type: ignore[no-untyped-def]
    """The contrast the chapter does not make (Loshchilov & Hutter, Prop. 2): for Adam, an L2
    penalty in the loss is ``Adam(weight_decay=λ)``, but decoupled decay (``AdamW``) is a
    different algorithm. Adam's λθ is divided by √v̂ like the gradient; AdamW's is not.

    Checked: Adam(weight_decay=λ) ≡ Adam on L + (λ/2)‖θ‖² (same tolerance as for SGD), and AdamW
    lands at least 1e-6 away from both, 10³ times the tolerance (its decay alone moves θ by
    ηλ|θ| ≥ 1e-4·|θ| per step).
    """
    model, X, Y = problem
    a, b, c = _copies(model, 3)
    adam_wd = _train(torch.optim.Adam, a, X, Y, steps, lr=lr, weight_decay=lam)
    adam_l2 = _train(torch.optim.Adam, b, X, Y, steps, l2=lam, lr=lr)
    adamw = _train(torch.optim.AdamW, c, X, Y, steps, lr=lr, weight_decay=lam)
    assert_close(
        "Adam(weight_decay=λ) θ", adam_wd[-1], adam_l2[-1], RTOL, ATOL, "vs Adam + l2_penalty"
    )
    gap = (adamw[-1] - adam_l2[-1]).abs().max().item()
    assert gap > 1e-6, (
        f"AdamW equals Adam + L2 (max |diff| {gap:.3g}), but Prop. 2 says they differ"
    )
