"""Optimizers with one planted bug each, and correct ones written unlike torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from sgdbench.reference import SGD


class _Planted(SGD):
    """The reference SGD (torch's algorithm), with ``bug`` planted in its step."""

    bug = ""

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:  # as torch does: the closure is not where the bug is
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            mu, tau = group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None and self.bug != "moves idle params":
                    continue
                grad = torch.zeros_like(p) if p.grad is None else p.grad
                g = -grad if group["maximize"] else grad
                if wd != 0 and self.bug == "decay mutates grad":
                    g = p.grad.add_(p, alpha=wd)  # in place: p.grad changes
                elif wd != 0 and self.bug not in ("decay after momentum", "scalar decay"):
                    g = g.add(p, alpha=wd)
                if mu != 0:
                    state = self.state[p]
                    b = state.get("momentum_buffer")
                    if b is None or self.bug == "momentum reset":
                        first = 1 - tau if self.bug == "dampened first step" else 1.0
                        b = state["momentum_buffer"] = g.detach().clone().mul_(first)
                    else:
                        b.mul_(mu).add_(g, alpha=1 - tau)
                    sign = -1 if self.bug == "nesterov sign" else 1
                    g = g.add(b, alpha=sign * mu) if group["nesterov"] else b
                if wd != 0 and self.bug == "decay after momentum":
                    g = g.add(p, alpha=wd)
                p.add_(g, alpha=-lr)
                if wd != 0 and self.bug == "scalar decay":
                    p.add_(-lr * wd)  # torch_optimizer 0.3.0's SGDW: a constant, not λθ
        return loss


__all__ = [
    "DampenedFirstStep",
    "DecayAfterMomentum",
    "DecayMutatesGrad",
    "ForeachDiffers",
    "LrInMomentum",
    "MomentumReset",
    "MovesIdleParams",
    "NesterovSignFlipped",
    "ScalarDecay",
]


def _planted(name: str, bug: str, doc: str) -> type[SGD]:
    return type(name, (_Planted,), {"bug": bug, "__doc__": doc, "__module__": __name__})


DecayAfterMomentum = _planted(
    "DecayAfterMomentum", "decay after momentum", "Adds λθ after the momentum, not before."
)
DampenedFirstStep = _planted(
    "DampenedFirstStep", "dampened first step", "Dampens the first momentum buffer."
)
NesterovSignFlipped = _planted(
    "NesterovSignFlipped", "nesterov sign", "Subtracts μb in Nesterov's step."
)
MomentumReset = _planted(
    "MomentumReset", "momentum reset", "Starts a fresh momentum buffer at every step."
)
DecayMutatesGrad = _planted(
    "DecayMutatesGrad", "decay mutates grad", "Adds λθ into p.grad in place."
)
ScalarDecay = _planted(
    "ScalarDecay", "scalar decay", "Subtracts the constant γλ from every weight (not γλθ)."
)
MovesIdleParams = _planted(
    "MovesIdleParams", "moves idle params", "Treats a None grad as zero: idle weights decay."
)


class ForeachDiffers(SGD):
    """Takes a ``foreach`` flag whose multi-tensor path forgets the dampening."""

    def __init__(self, params: Any, lr: float = 1e-3, *, foreach: bool = False, **kw: Any) -> None:
        super().__init__(params, lr, **kw)
        self.foreach = foreach

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        if not self.foreach:
            return super().step(closure)
        saved = [g["dampening"] for g in self.param_groups]
        for g in self.param_groups:
            g["dampening"] = 0.0
        try:
            return super().step(closure)
        finally:
            for g, d in zip(self.param_groups, saved, strict=True):
                g["dampening"] = d


class LrInMomentum(SGD):
    """Correct, written unlike torch: the step size lives inside the velocity.

    v ← ηd at the first step, else μv + η(1 − τ)d; θ ← θ − v (Nesterov: θ ← θ − (ηd + μv)).
    With a constant η this is torch's update (v = ηb), but it rounds in another order, so it
    agrees within the derived bound, not bit for bit. With an η that changes between steps (a
    scheduler) it is not torch's update: v keeps each past step's own η, where torch multiplies
    the whole buffer by the current one (torch.optim.SGD's note on Sutskever et al.), so
    ``optimizer.hyper_live`` fails it, as it should; every other check holds.
    """

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = float(group["lr"])  # a tensor lr's value, as torch's _to_scalar takes it
            wd, mu, tau = group["weight_decay"], group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = -p.grad if group["maximize"] else p.grad
                if wd != 0:
                    d = d + wd * p
                if mu == 0:
                    p.sub_(lr * d)
                    continue
                state = self.state[p]
                if "velocity" not in state:
                    state["velocity"] = lr * d
                else:
                    state["velocity"] = mu * state["velocity"] + (lr * (1 - tau)) * d
                v = state["velocity"]
                p.sub_(lr * d + mu * v if group["nesterov"] else v)
        return loss


BUGGY_OPTIMIZERS: dict[str, tuple[type[SGD], set[str]]] = {
    "decay after momentum": (DecayAfterMomentum, {"weight_decay_coupled", "matches_torch"}),
    "dampened first step": (DampenedFirstStep, {"dampening", "matches_torch"}),
    "nesterov sign": (NesterovSignFlipped, {"nesterov", "matches_torch"}),
    "momentum reset": (MomentumReset, {"momentum", "matches_torch"}),
    "decay mutates grad": (DecayMutatesGrad, {"grad_unchanged"}),
    "scalar decay": (ScalarDecay, {"weight_decay_coupled", "matches_torch"}),
    "moves idle params": (MovesIdleParams, {"none_grad_untouched"}),
    "foreach differs": (ForeachDiffers, {"foreach_agrees"}),
}
