"""Optimizers with one planted bug each in what a training loop relies on: schedules, a tensor
lr, closures, groups added mid-run, invalid arguments, non-contiguous parameters. Each is the
reference SGD (torch's algorithm) with the bug; every other statement holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer

from sgdbench.reference import SGD

__all__ = [
    "AssertsHyper",
    "CachedParams",
    "ClosureAfterUpdate",
    "ClosureLossDropped",
    "ClosureTwice",
    "ClosureUnderNoGrad",
    "FlatUpdate",
    "FrozenHyper",
    "NegativeLrAccepted",
    "TensorLrCopied",
    "ZeroGradFirstGroup",
]

Closure = Callable[[], float] | None


class FrozenHyper(SGD):
    """Reads each group's lr and momentum once, when it is given the group (construction or
    add_param_group), and steps with those: every scheduler and hand edit is ignored."""

    _frozen: list[tuple[Any, Any]]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        self.__dict__.setdefault("_frozen", []).append((group["lr"], group["momentum"]))

    @torch.no_grad()
    def step(self, closure: Closure = None) -> float | None:  # type: ignore[override]
        live = [(g["lr"], g["momentum"]) for g in self.param_groups]
        for g, (lr, mu) in zip(self.param_groups, self._frozen, strict=True):
            g["lr"], g["momentum"] = lr, mu
        try:
            return super().step(closure)
        finally:
            for g, (lr, mu) in zip(self.param_groups, live, strict=True):
                g["lr"], g["momentum"] = lr, mu


class TensorLrCopied(SGD):
    """Takes a tensor lr but keeps its value as a float: changing the tensor later does nothing."""

    def __init__(self, params: Any, lr: Any = 1e-3, *args: Any, **kw: Any) -> None:
        super().__init__(params, float(lr), *args, **kw)


class _Closure(SGD):
    bug = ""

    @torch.no_grad()
    def step(self, closure: Closure = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None and self.bug == "under no_grad":
            loss = closure()  # step's no_grad is still on
        elif closure is not None and self.bug != "after update":
            with torch.enable_grad():
                loss = closure()
                if self.bug == "twice":
                    loss = closure()
        super().step()
        if closure is not None and self.bug == "after update":
            with torch.enable_grad():
                loss = closure()  # the update used the grads from before
        return None if self.bug == "loss dropped" else loss


class ClosureUnderNoGrad(_Closure):
    """Calls the closure inside step's torch.no_grad(): its backward() cannot run."""

    bug = "under no_grad"


class ClosureTwice(_Closure):
    """Calls the closure twice per step (a second forward and backward pass)."""

    bug = "twice"


class ClosureLossDropped(_Closure):
    """Calls the closure but returns None instead of its loss."""

    bug = "loss dropped"


class ClosureAfterUpdate(_Closure):
    """Updates with the grads it finds, then calls the closure (for the loss only)."""

    bug = "after update"


class CachedParams(SGD):
    """Caches its parameter lists at construction: a group added later is never stepped."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._cached = [list(g["params"]) for g in self.param_groups]

    @torch.no_grad()
    def step(self, closure: Closure = None) -> float | None:  # type: ignore[override]
        live = self.param_groups
        self.param_groups = [{**g, "params": ps} for g, ps in zip(live, self._cached, strict=False)]
        try:
            return super().step(closure)
        finally:
            self.param_groups = live


class NegativeLrAccepted(SGD):
    """Checks momentum, weight decay and Nesterov as torch does, but not the sign of lr."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        Optimizer.__init__(self, params, defaults)  # SGD.__init__'s lr check skipped


class AssertsHyper(SGD):
    """Validates its arguments with ``assert`` (AssertionError; nothing under python -O)."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        assert lr >= 0 and momentum >= 0 and weight_decay >= 0, "negative hyper-parameter"
        assert not nesterov or (momentum > 0 and dampening == 0), "Nesterov needs momentum"
        super().__init__(params, lr, momentum, dampening, weight_decay, nesterov, maximize=maximize)


class FlatUpdate(SGD):
    """Updates each parameter through ``p.reshape(-1)``, as a flattening kernel does: for a
    non-contiguous p that is a copy, and the update is lost (the same ops as the reference
    otherwise)."""

    @torch.no_grad()
    def step(self, closure: Closure = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            mu, tau = group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = p.reshape(-1)  # the bug: not a view of p when p is not contiguous
                g = p.grad.reshape(-1)
                g = -g if group["maximize"] else g
                if wd != 0:
                    g = g.add(theta, alpha=wd)
                if mu != 0:
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = g.detach().clone().view(p.shape)
                        b = state["momentum_buffer"].view(-1)
                    else:
                        b = state["momentum_buffer"].view(-1)
                        b.mul_(mu).add_(g, alpha=1 - tau)
                    g = g.add(b, alpha=mu) if group["nesterov"] else b
                theta.add_(g, alpha=-lr)
        return loss


class ZeroGradFirstGroup(SGD):
    """zero_grad clears the first param group only (an override that walks
    ``param_groups[0]``): with one group it is torch's, with two the other groups' gradients
    pile up across steps."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.param_groups[0]["params"]:
            p.grad = None


BUGGY_LOOP: dict[str, tuple[type[SGD], set[str]]] = {
    "frozen hyper": (FrozenHyper, {"hyper_live"}),
    "tensor lr copied": (TensorLrCopied, {"tensor_lr"}),
    "closure under no_grad": (ClosureUnderNoGrad, {"closure"}),
    "closure twice": (ClosureTwice, {"closure"}),
    "closure loss dropped": (ClosureLossDropped, {"closure"}),
    "closure after update": (ClosureAfterUpdate, {"closure"}),
    "cached params": (CachedParams, {"add_param_group"}),
    "negative lr accepted": (NegativeLrAccepted, {"invalid_hyper"}),
    "asserts hyper": (AssertsHyper, {"invalid_hyper"}),
    "flat update": (FlatUpdate, {"odd_shapes"}),
    "zero_grad first group": (ZeroGradFirstGroup, {"zero_grad"}),
}
