"""sgdbench.reference.SGD against torch.optim.SGD: same numbers, same state, same errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from torch import nn

from sgdbench.reference import SGD

# The configurations of torch's own SGD tests (torch/testing/_internal/common_optimizers.py,
# optim_inputs_func_sgd), tensor lr left out (the reference takes floats).
TORCH_CONFIGS: list[dict[str, Any]] = [
    {},
    {"lr": 1e-2},
    {"lr": 0.01, "momentum": 0.9},
    {"lr": 0.01, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1},
    {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    {"lr": 0.01, "weight_decay": 0.1, "maximize": True},
    {"lr": 0.01, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.1, "maximize": True},
]


def _model(device: torch.device, dtype: torch.dtype = torch.float64) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).to(device, dtype)


def _run(opt_cls: type, model: nn.Module, config: dict[str, Any], steps: int, skip: int = -1):
    """Train ``steps`` steps; on step ``skip`` the first layer's bias gets no gradient."""
    opt = opt_cls(model.parameters(), **config)
    gen = torch.Generator().manual_seed(1)
    trace = []
    for t in range(steps):
        X = torch.randn(8, 3, generator=gen).to(next(model.parameters()))
        opt.zero_grad()
        model(X).pow(2).sum().backward()
        if t == skip:
            model[0].bias.grad = None
        opt.step()
        bufs = [opt.state[p].get("momentum_buffer") for p in model.parameters()]
        trace.append(
            (
                [p.detach().clone() for p in model.parameters()],
                [None if b is None else b.clone() for b in bufs],
            )
        )
    return opt, trace


@pytest.mark.parametrize("config", TORCH_CONFIGS, ids=lambda c: ",".join(map(str, c.items())))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_matches_torch_bitwise(
    config: dict[str, Any], dtype: torch.dtype, device: torch.device
) -> None:
    ref_model, torch_model = _model(device, dtype), _model(device, dtype)
    _, ours = _run(SGD, ref_model, config, steps=6, skip=3)
    _, theirs = _run(torch.optim.SGD, torch_model, {**config, "foreach": False}, 6, skip=3)
    for t, ((p_ours, b_ours), (p_torch, b_torch)) in enumerate(zip(ours, theirs, strict=True)):
        for i, (a, b) in enumerate(zip(p_ours, p_torch, strict=True)):
            assert torch.equal(a, b), f"step {t}, param {i}: {a} != torch {b}"
        for i, (a, b) in enumerate(zip(b_ours, b_torch, strict=True)):
            assert (a is None) == (b is None), f"step {t}, buffer {i}: presence differs"
            assert a is None or torch.equal(a, b), f"step {t}, momentum buffer {i} differs"


def test_param_groups_and_frozen_params() -> None:
    model, twin = _model(torch.device("cpu")), _model(torch.device("cpu"))
    model[2].weight.requires_grad_(False)
    twin[2].weight.requires_grad_(False)

    def groups(m: nn.Module) -> list[dict[str, Any]]:
        return [
            {"params": m[0].parameters(), "lr": 0.1, "momentum": 0.5},
            {"params": m[2].parameters(), "nesterov": True, "momentum": 0.9},
        ]

    ours = SGD(groups(model), lr=0.01, weight_decay=0.01)
    theirs = torch.optim.SGD(groups(twin), lr=0.01, weight_decay=0.01, foreach=False)
    frozen = model[2].weight.clone()
    for _ in range(3):
        for m, opt in ((model, ours), (twin, theirs)):
            opt.zero_grad()
            m(torch.ones(2, 3, dtype=torch.float64)).sum().backward()
            opt.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(model[2].weight, frozen)  # no grad, never touched
    assert model[2].weight not in ours.state  # and no momentum buffer created
    assert [g["lr"] for g in ours.param_groups] == [0.1, 0.01]


def test_state_dict_round_trip_continues_identically() -> None:
    cfg = {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}
    model = _model(torch.device("cpu"))
    opt, _ = _run(SGD, model, cfg, steps=3)
    sd = copy.deepcopy(opt.state_dict())
    assert set(sd) == {"state", "param_groups"}
    assert all("momentum_buffer" in s for s in sd["state"].values())
    theirs = torch.optim.SGD(model.parameters(), **cfg)
    theirs_sd = theirs.state_dict()
    assert set(sd["param_groups"][0]) <= set(theirs_sd["param_groups"][0])  # same keys as torch

    model_b = copy.deepcopy(model)
    opt_b = SGD(model_b.parameters(), lr=1.0)
    opt_b.load_state_dict(sd)
    assert opt_b.param_groups[0]["momentum"] == 0.9
    for m, o in ((model, opt), (model_b, opt_b)):
        o.zero_grad()
        m(torch.ones(1, 3, dtype=torch.float64)).sum().backward()
        o.step()
    for a, b in zip(model.parameters(), model_b.parameters(), strict=True):
        assert torch.equal(a, b)


def test_closure_is_called_and_returned() -> None:
    p = nn.Parameter(torch.tensor([1.0]))
    opt = SGD([p], lr=0.5)

    def closure() -> float:
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return float(loss.detach())

    assert opt.step(closure) == 1.0
    assert p.item() == 0.0  # 1 − 0.5·2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.1}, "Invalid learning rate: -0.1"),
        ({"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ({"weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
        ({"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        (
            {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
            "Nesterov momentum requires a momentum and zero dampening",
        ),
    ],
)
def test_bad_hyperparameters_raise_torchs_message(kwargs: dict[str, Any], message: str) -> None:
    p = [nn.Parameter(torch.zeros(1))]
    with pytest.raises(ValueError, match=message) as ours:
        SGD(p, **kwargs)
    with pytest.raises(ValueError) as theirs:
        torch.optim.SGD(p, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_empty_params_raise_like_torch() -> None:
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
