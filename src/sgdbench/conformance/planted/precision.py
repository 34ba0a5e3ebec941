"""Optimizers with one planted bug each in what a training loop relies on beyond one step:
low-precision parameters, GradScaler's skipped and unscaled steps, checkpoints and copies.

Each is torch.optim.SGD's for-loop algorithm (:class:`_Stepper`, the reference's lines) with one
thing done wrong, the way real optimizers get it wrong.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from sgdbench.reference import SGD

__all__ = [
    "Bf16MomentumForHalf",
    "DeepcopySharesState",
    "IgnoresFoundInf",
    "LoadPopsCallersKey",
    "NoUnscale",
    "ObjectInStateDict",
    "StateBeforeFoundInf",
    "StepsInBackward",
    "UpcastsHalfParams",
]


class _Stepper(SGD):
    """The reference SGD with its per-parameter update split out, so a bug can wrap it."""

    def _buffer(self, g: Tensor) -> Tensor:
        return g.detach().clone()

    def _update(self, group: dict[str, Any], p: Tensor, grad: Tensor) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        mu, tau = group["momentum"], group["dampening"]
        g = -grad if group["maximize"] else grad
        if wd != 0:
            g = g.add(p, alpha=wd)
        if mu != 0:
            state = self.state[p]
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = self._buffer(g)
            else:
                b.mul_(mu).add_(g, alpha=1 - tau)
            g = g.add(b, alpha=mu) if group["nesterov"] else b
        p.add_(g.to(p.dtype), alpha=-lr)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(group, p, p.grad)
        return None


# --------------------------------------------------------------------------- low precision


class UpcastsHalfParams(_Stepper):
    """Steps 16-bit parameters in float32 by replacing them: ``p.data = p.data.float()``."""

    def _update(self, group: dict[str, Any], p: Tensor, grad: Tensor) -> None:
        if p.element_size() == 2:
            p.data = p.data.float()
            grad = grad.float()
        super()._update(group, p, grad)


class Bf16MomentumForHalf(_Stepper):
    """Keeps the momentum buffer of every 16-bit parameter in bfloat16 (to save memory): a
    float16 parameter's buffer loses three bits of precision."""

    def _buffer(self, g: Tensor) -> Tensor:
        return g.detach().to(torch.bfloat16 if g.element_size() == 2 else g.dtype, copy=True)


# --------------------------------------------------------------------------- GradScaler


class _OwnScaling(_Stepper):
    """Declares ``_step_supports_amp_scaling``: GradScaler leaves p.grad scaled and sets
    ``self.grad_scale`` and ``self.found_inf`` for step() to honour."""

    _step_supports_amp_scaling = True
    unscale, skip, skip_late = True, True, False

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        scale: Tensor | None = getattr(self, "grad_scale", None)
        found: Tensor | None = getattr(self, "found_inf", None)
        inf = found is not None and bool(found.item())
        if inf and self.skip and not self.skip_late:
            return None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad / scale if scale is not None and self.unscale else p.grad
                if inf and self.skip_late:  # the buffer moves, then θ is spared
                    saved = p.detach().clone()
                    self._update(group, p, grad)
                    p.copy_(saved)
                else:
                    self._update(group, p, grad)
        return None


class IgnoresFoundInf(_OwnScaling):
    """Declares ``_step_supports_amp_scaling``, unscales by ``grad_scale``, never reads
    ``found_inf``: it steps on the inf/nan gradients GradScaler found."""

    skip = False


class StateBeforeFoundInf(_OwnScaling):
    """Declares ``_step_supports_amp_scaling`` and reads ``found_inf`` too late: the momentum
    buffer takes the inf/nan gradient, only θ is spared."""

    skip_late = True


class NoUnscale(_OwnScaling):
    """Declares ``_step_supports_amp_scaling`` and skips on ``found_inf``, but never divides
    by ``grad_scale``: it steps with the scaled gradient."""

    unscale = False


class StepsInBackward(_Stepper):
    """Steps each parameter as backward delivers its gradient (a post-accumulate-grad hook,
    as optimizers fused into backward do), without ``_step_supports_amp_scaling``: GradScaler
    can neither unscale that gradient nor skip that step. step() updates the rest."""

    def __init__(self, params: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(params, *args, **kwargs)
        for group in self.param_groups:
            for p in group["params"]:
                p.register_post_accumulate_grad_hook(self._hook(group))

    def _hook(self, group: dict[str, Any]) -> Callable[[Tensor], None]:
        def hook(p: Tensor) -> None:
            with torch.no_grad():
                self._update(group, p, p.grad)  # type: ignore[arg-type]
            self._stepped.add(id(p))

        return hook

    @property
    def _stepped(self) -> set[int]:
        # not an attribute set in __init__: Optimizer.__getstate__ keeps only defaults, state
        # and param_groups, so a deepcopy would lose it
        stepped: set[int] = self.__dict__.setdefault("_stepped_ids", set())
        return stepped

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None and id(p) not in self._stepped:
                    self._update(group, p, p.grad)
        self._stepped.clear()
        return None


# --------------------------------------------------------------------------- checkpoints


class _RunStats:
    """A plain Python object: pickled by torch.save, refused by torch.load(weights_only=True)."""

    def __init__(self, steps: int = 0) -> None:
        self.steps = steps


class ObjectInStateDict(_Stepper):
    """Puts a plain Python object (its step counter) into ``state_dict()``."""

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "stats": _RunStats()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "stats"})


class LoadPopsCallersKey(_Stepper):
    """Saves an extra entry and ``pop``s it from the dict given to ``load_state_dict``."""

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "format": 2}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict.pop("format", None)
        super().load_state_dict(state_dict)


class DeepcopySharesState(_Stepper):
    """Defines ``__deepcopy__`` to copy the param groups but reuse the state (to save memory):
    the copy's momentum buffers are the original's."""

    def __deepcopy__(self, memo: dict[int, Any]) -> DeepcopySharesState:
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        new.__dict__.update(self.__dict__)
        new.param_groups = copy.deepcopy(self.param_groups, memo)
        new.state = defaultdict(dict, {memo[id(p)]: s for p, s in self.state.items()})
        return new


BUGGY_PRECISION: dict[str, tuple[type[SGD], set[str]]] = {
    "upcasts half params": (UpcastsHalfParams, {"low_precision"}),
    "bf16 momentum for half": (Bf16MomentumForHalf, {"low_precision"}),
    "ignores found_inf": (IgnoresFoundInf, {"grad_scaler"}),
    "state before found_inf": (StateBeforeFoundInf, {"grad_scaler"}),
    "no unscale": (NoUnscale, {"grad_scaler"}),
    "steps in backward": (StepsInBackward, {"grad_scaler"}),
    "object in state_dict": (ObjectInStateDict, {"checkpoint"}),
    "load pops caller's key": (LoadPopsCallersKey, {"checkpoint"}),
    "deepcopy shares state": (DeepcopySharesState, {"checkpoint"}),
}
