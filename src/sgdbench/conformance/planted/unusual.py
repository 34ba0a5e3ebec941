"""Correct optimizers with unusual constructors: the suite must judge each right.

Each exits 0 under ``python -m sgdbench check``, with exactly the checks that need what it
lacks not applicable (``tests/test_check_cli.py`` holds the list): the suite passes no argument
a constructor does not take, and none it was seen to refuse.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = [
    "DecoupledSGDW",
    "HeavyBallSGD",
    "NarrowSGD",
    "PlainSGD",
    "StrictKwargsSGD",
    "SwallowsKwargsSGD",
]


class NarrowSGD(torch.optim.SGD):
    """A narrow explicit signature: no dampening, Nesterov, maximize or foreach to pass."""

    def __init__(self, params: Any, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


class StrictKwargsSGD(torch.optim.SGD):
    """``**kwargs`` that refuses every key it does not know (here: all of them)."""

    def __init__(self, params: Any, lr: float = 0.01, **kw: Any) -> None:
        if kw:
            raise TypeError(f"unknown {kw}")
        super().__init__(params, lr=lr)


class SwallowsKwargsSGD(torch.optim.SGD):
    """``**kwargs`` that takes every key and ignores it, without a word (as pytorch_optimizer's
    optimizers do): momentum=0.9 builds, and steps without momentum."""

    def __init__(self, params: Any, lr: float = 0.01, **ignored: Any) -> None:
        super().__init__(params, lr=lr)


class HeavyBallSGD(torch.optim.SGD):
    """Heavy-ball only: refuses momentum = 0 (check it with ``--kwargs '{"momentum": 0.9}'``)."""

    def __init__(self, params: Any, lr: float = 0.01, momentum: float = 0.9, **kw: Any) -> None:
        if momentum <= 0:
            raise ValueError(f"HeavyBallSGD needs momentum > 0, but got {momentum}")
        super().__init__(params, lr=lr, momentum=momentum, **kw)


class DecoupledSGDW(torch.optim.SGD):
    """SGDW (Loshchilov & Hutter), declared ``--weight-decay decoupled``: θ ← θ − γλθ − γv,
    v torch's momentum recursion on ∇L alone (the decay is applied first, outside it)."""

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        decays = [group["weight_decay"] for group in self.param_groups]
        for group, wd in zip(self.param_groups, decays, strict=True):
            for p in group["params"]:
                if p.grad is not None and wd != 0:
                    p.mul_(1 - group["lr"] * wd)
            group["weight_decay"] = 0.0
        try:
            return super().step(closure)
        finally:
            for group, wd in zip(self.param_groups, decays, strict=True):
                group["weight_decay"] = wd


class PlainSGD(torch.optim.Optimizer):
    """Algorithm 11 and nothing else: ``θ ← θ − η∇L``, no momentum, no decay."""

    def __init__(self, params: Any, lr: float = 0.01) -> None:
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"])
        return loss
