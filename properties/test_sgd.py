"""Reference SGD ≡ torch.optim.SGD (chapter, Algorithm 11 and "we can integrate momentum in this
optimization scheme"), over generated configurations: every flag, several param groups,
frozen parameters, and parameters whose grad is None on some steps.

Exact: the reference performs torch's operations in torch's order, so parameters and momentum
buffers must agree bit for bit after every step, against torch's per-tensor loop and its
``foreach`` (multi-tensor) path alike.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from properties._support import DEVICES, assert_equal, seeds
from sgdbench.reference import SGD


@st.composite
def hyper(draw: st.DrawFn) -> dict[str, Any]:
    """One param group's settings: every SGD flag, valid combinations only."""
    momentum = draw(st.sampled_from([0.0, 0.5, 0.9]) | st.floats(0.0, 0.99), label="momentum")
    nesterov = momentum > 0 and draw(st.booleans(), label="nesterov")
    return {
        "lr": draw(st.floats(1e-4, 1.0), label="lr"),
        "momentum": momentum,
        "dampening": 0.0 if nesterov else draw(st.sampled_from([0.0, 0.1]) | st.floats(0, 1)),
        "weight_decay": draw(st.sampled_from([0.0, 1e-4]) | st.floats(0.0, 0.5), label="wd"),
        "nesterov": nesterov,
        "maximize": draw(st.booleans(), label="maximize"),
    }


@st.composite
def setups(draw: st.DrawFn) -> dict[str, Any]:
    n_layers = draw(st.integers(1, 3), label="layers")
    steps = draw(st.integers(1, 6), label="steps")
    n_params = 2 * n_layers
    return {
        "seed": draw(seeds, label="seed"),
        "n_layers": n_layers,
        "groups": [draw(hyper(), label=f"group {i}") for i in range(draw(st.integers(1, 3)))],
        "frozen": draw(st.sets(st.integers(0, n_params - 1), max_size=n_params - 1)),
        "no_grad": [
            draw(st.sets(st.integers(0, n_params - 1)), label=f"step {t} no grad")
            for t in range(steps)
        ],
        "dtype": draw(st.sampled_from([torch.float32, torch.float64]), label="dtype"),
    }


def _run(opt_factory, setup: dict[str, Any], device: str) -> list[tuple[list, list]]:  # type: ignore[no-untyped-def]
    torch.manual_seed(setup["seed"])
    layers = [nn.Linear(3, 3) for _ in range(setup["n_layers"])]
    model = nn.Sequential(*layers).to(device, setup["dtype"])
    params = list(model.parameters())
    for i in setup["frozen"]:
        params[i].requires_grad_(False)
    k = len(setup["groups"])
    groups = [{"params": params[g::k], **setup["groups"][g]} for g in range(k)]
    groups = [g for g in groups if g["params"]]
    opt = opt_factory(groups)
    gen = torch.Generator().manual_seed(setup["seed"])
    trace = []
    for no_grad in setup["no_grad"]:
        x = torch.randn(4, 3, generator=gen).to(device, setup["dtype"])
        opt.zero_grad()
        model(x).tanh().sum().backward()
        for i in no_grad:
            params[i].grad = None  # this parameter sits this step out
        opt.step()
        bufs = [opt.state[p].get("momentum_buffer") for p in params]
        trace.append(
            ([p.detach().clone() for p in params], [None if b is None else b.clone() for b in bufs])
        )
    return trace


TORCH_PATHS = [
    pytest.param({"foreach": False}, id="torch-for-loop"),
    pytest.param({"foreach": True}, id="torch-foreach"),
]


SGD_GIVEN = {"setup": setups()}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("torch_kwargs", TORCH_PATHS)
@pytest.mark.parametrize("ref_cls", [SGD], ids=["reference.SGD"])
@given(**SGD_GIVEN)
def test_reference_sgd_equals_torch(ref_cls, device: str, torch_kwargs: dict, setup: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    """Parameters and momentum buffers after every step are bitwise torch.optim.SGD's."""
    _check(ref_cls, setup, device, torch_kwargs)


def _check(ref_cls, setup: dict, device: str, torch_kwargs: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    __tracebackhide__ = True
    ours = _run(lambda g: ref_cls(g, lr=0.01), setup, device)
    theirs = _run(lambda g: torch.optim.SGD(g, lr=0.01, **torch_kwargs), setup, device)
    call = f"groups={setup['groups']}, frozen={setup['frozen']}, no_grad={setup['no_grad']}"
    for t, ((p_o, b_o), (p_t, b_t)) in enumerate(zip(ours, theirs, strict=True)):
        for i, (a, b) in enumerate(zip(p_o, p_t, strict=True)):
            assert_equal(f"param {i} after step {t + 1}", a, b, call)
        for i, (a, b) in enumerate(zip(b_o, b_t, strict=True)):
            assert (a is None) == (b is None), (
                f"momentum buffer {i} step {t + 1}: presence [{call}]"
            )
            if a is not None:
                assert_equal(f"momentum buffer {i} after step {t + 1}", a, b, call)
