"""What an algorithm module declares, and the driver every adaptive oracle shares.

An :class:`Algorithm` is data: its name, the hyper-parameters it needs and the optional ones
with the value that switches each off, the weight-decay forms it has, the torch class that
documents it (or none), and its oracle. The checks read nothing else about it, so a new
algorithm is one module that builds one of these (docs/conformance.md, "Adding an algorithm").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import torch
from torch import Tensor

from sgdbench.conformance._oracle import Step
from sgdbench.conformance.algorithms._bounded import B, Units

__all__ = ["Adaptive", "Algorithm", "StepFn", "adaptive_trajectory"]


@dataclass(frozen=True)
class Adaptive:
    """One param group's hyper-parameters as an adaptive oracle reads them (torch's names)."""

    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    maximize: bool = False
    decoupled: bool = False
    momentum_decay: float = 4e-3


# one parameter's step: (θ, g, its state, the settings, step t ≥ 1, the units) → θ
StepFn = Callable[[B, B, dict[str, Any], Adaptive, int, Units], B]


@dataclass(frozen=True)
class Algorithm:
    """A declared algorithm: what the checks draw for it and what they compare with.

    ``needs``: hyper-parameters the optimizer must take or show in ``param_groups`` (Adam's
    betas and eps); ``neutral``: optional ones and the value that switches each off;
    ``probes``: a working value of each (with what it needs beside it); ``forms``: the
    weight-decay forms it has, the first its own; ``reference``: the torch.optim class whose
    for-loop path documents it (None: the paper's update); ``options``: hyper-parameters it
    draws where the implementation takes them (NAdam's momentum_decay).
    """

    name: str
    title: str
    cites: str
    hyper: type
    trajectory: Callable[..., list[Step]]
    needs: tuple[str, ...]
    neutral: Mapping[str, Any]
    probes: Mapping[str, Mapping[str, Any]]
    forms: tuple[str, ...]
    reference: type[torch.optim.Optimizer] | None
    options: tuple[str, ...] = field(default=())

    @property
    def names(self) -> tuple[str, ...]:
        """Every hyper-parameter the checks set themselves (``--kwargs`` may not fix lr)."""
        return ("lr", *self.needs, *self.neutral, *self.options)


def adaptive_trajectory(step: StepFn) -> Callable[..., list[Step]]:
    """The oracle of an adaptive algorithm from its one-parameter ``step``.

    Same signature as :func:`sgdbench.conformance._oracle.trajectory`: ``grads[t][i]`` None
    means parameter i sits step t out (its state and its step count untouched, torch's
    per-parameter ``step``); ``hyper`` one setting per parameter or one list per step.
    """

    def trajectory(
        theta0: list[Tensor],
        grads: list[list[Tensor | None]],
        hyper: Sequence[Any] | Sequence[Sequence[Any]],
        dtype: torch.dtype | Sequence[torch.dtype],
    ) -> list[Step]:
        per_step: Sequence[Sequence[Adaptive]]
        if all(isinstance(h, Adaptive) for h in hyper):
            per_step = [cast(Sequence[Adaptive], hyper)] * len(grads)
        else:
            per_step = cast(Sequence[Sequence[Adaptive]], hyper)
            if len(per_step) != len(grads):
                raise ValueError(
                    f"hyper has settings for {len(per_step)} steps, but grads has {len(grads)}"
                )
        dtypes = [dtype] * len(theta0) if isinstance(dtype, torch.dtype) else list(dtype)
        units = [Units.of(d) for d in dtypes]
        theta = [B.exact(t.detach()) for t in theta0]
        states: list[dict[str, Any]] = [{"step": 0} for _ in theta0]
        out = []
        for grad_t, settings in zip(grads, per_step, strict=True):
            for i, g in enumerate(grad_t):
                if g is None:
                    continue
                states[i]["step"] += 1
                theta[i] = step(
                    theta[i], B.exact(g), states[i], settings[i], states[i]["step"], units[i]
                )
            out.append(Step([t.x.clone() for t in theta], [t.e.clone() for t in theta]))
        return out

    return trajectory
