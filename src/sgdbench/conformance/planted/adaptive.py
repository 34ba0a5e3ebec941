"""Adam-family and Lion optimizers with one planted bug each (and the correct ones they are
planted in), for the suite's self-check: each must fail the checks named for it in
:data:`BUGGY_ADAPTIVE` and only those. The bugs are the ones the trackers show (keras#19051,
bitsandbytes#2010, tinygrad#17709) and the ones the Adam family is commonly got wrong by."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "BUGGY_ADAPTIVE",
    "CORRECT_ADAPTIVE",
    "AdamAmsgradOfCorrected",
    "AdamBetasAtConstruction",
    "AdamEpsInsideSqrt",
    "AdamFp32State",
    "AdamGlobalStep",
    "AdamNoBiasCorrection",
    "AdamStepBeforeIncrement",
    "AdamWDecayAfterUpdate",
    "AdamWDecayTimesLrTwice",
    "LionDecayWithoutLr",
    "LionSignOfMomentum",
    "NAdamConstantMu",
    "NAdamNoMuProduct",
    "PlainAdam",
    "PlainAdamW",
    "PlainLion",
    "PlainNAdam",
    "PlainRAdam",
    "RAdamNoRectification",
    "RAdamThresholdFour",
]


class _Adaptive(torch.optim.Optimizer):
    """One for-loop implementation of Adam, AdamW, NAdam, RAdam and Lion, written from their
    documented updates (not torch's code), with ``bug`` planted where a subclass names one."""

    algorithm = "adam"
    bug = ""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
        momentum_decay: float = 4e-3,
    ) -> None:
        if not float(lr) >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            **{"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay},
            **{"amsgrad": amsgrad, "maximize": maximize, "momentum_decay": momentum_decay},
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.steps = getattr(self, "steps", 0) + 1  # the global count a planted bug uses
        for group in self.param_groups:
            if self.bug == "betas at construction":
                group.setdefault("first_betas", tuple(group["betas"]))
                b1, b2 = group["first_betas"]
            else:
                b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is not None:
                    self._one(p, p.grad, group, b1, b2)
        return loss

    def _one(self, p: Tensor, grad: Tensor, group: dict[str, Any], b1: float, b2: float) -> None:
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        g = -grad if group["maximize"] else grad
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            state["mu_product"] = 1.0
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        t = self.steps if self.bug == "global step" else state["step"]
        decoupled = self.algorithm in ("adamw", "lion")
        if wd and decoupled and self.bug not in ("decay after update", "decay without lr"):
            p.mul_(1 - lr * (lr if self.bug == "decay times lr twice" else 1) * wd)
        elif wd and decoupled and self.bug == "decay without lr":
            p.mul_(1 - wd)  # lion-pytorch's decoupled_weight_decay=True
        elif wd and not decoupled:
            g = g.add(p, alpha=wd)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if self.algorithm == "lion":
            c = m if self.bug == "sign of momentum" else m * b1 + g * (1 - b1)
            p.sub_(c.sign() * lr)
            m.mul_(b2).add_(g, alpha=1 - b2)
            return
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        if self.bug == "step before increment":
            t -= 1
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        if self.bug == "no bias correction":
            bc1 = bc2 = 1.0
        if self.algorithm == "nadam":
            mu = b1 * (1 - 0.5 * 0.96 ** (t * group["momentum_decay"]))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * group["momentum_decay"]))
            if self.bug == "constant mu":
                mu = mu_next = b1
            state["mu_product"] *= mu
            prod = mu if self.bug == "no mu product" else state["mu_product"]
            denom = (v / bc2).sqrt().add_(eps)
            p.sub_(g / denom * (lr * (1 - mu) / (1 - prod)))
            p.sub_(m / denom * (lr * mu_next / (1 - prod * mu_next)))
            return
        if self.algorithm == "radam":
            rho_inf = 2 / (1 - b2) - 1
            rho_t = rho_inf - 2 * t * b2**t / bc2
            if rho_t > (4 if self.bug == "threshold four" else 5):
                r = math.sqrt(
                    abs(
                        (rho_t - 4)
                        * (rho_t - 2)
                        * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                    )
                )
                r = 1.0 if self.bug == "no rectification" else r
                p.sub_(m / bc1 * lr * r * math.sqrt(bc2) / (v.sqrt() + eps))
            else:
                p.sub_(m / bc1 * lr)
            return
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            if self.bug == "amsgrad of corrected":  # the maximum of v̂, not of v
                torch.maximum(vmax, v / bc2, out=vmax)
                vv = vmax * bc2
            else:
                torch.maximum(vmax, v, out=vmax)
                vv = vmax
        else:
            vv = v
        if self.bug == "eps inside sqrt":
            denom = (vv / bc2 + eps).sqrt()
        else:
            denom = (vv / bc2).sqrt() + eps
        p.sub_(m / denom * (lr / bc1))
        if wd and decoupled and self.bug == "decay after update":
            p.mul_(1 - lr * wd)


class AdamFp32State(_Adaptive):
    """Correct Adam that keeps float32 moments for bfloat16 and float16 parameters and steps
    them in float32 (as mixed-precision optimizers do): more precise than torch, which keeps
    the parameter's dtype. It must pass low_precision: the bound is the float64 oracle's."""

    algorithm = "adam"

    def _one(self, p: Tensor, grad: Tensor, group: dict[str, Any], b1: float, b2: float) -> None:
        if p.dtype not in (torch.bfloat16, torch.float16):
            super()._one(p, grad, group, b1, b2)
            return
        # a float32 master copy of θ, its moments in its own state entry
        master = self.state[p].setdefault("master", p.detach().float())
        super()._one(master, grad.float(), group, b1, b2)
        p.copy_(master)


def _planted(name: str, algorithm: str, bug: str, doc: str) -> type[_Adaptive]:
    cls = type(name, (_Adaptive,), {"algorithm": algorithm, "bug": bug, "__doc__": doc})
    cls.__module__ = __name__
    return cls


PlainAdam = _planted("PlainAdam", "adam", "", "Adam as documented: no bug.")
PlainAdamW = _planted("PlainAdamW", "adamw", "", "AdamW as documented: no bug.")
PlainNAdam = _planted("PlainNAdam", "nadam", "", "NAdam as documented: no bug.")
PlainRAdam = _planted("PlainRAdam", "radam", "", "RAdam as documented: no bug.")
PlainLion = _planted("PlainLion", "lion", "", "Lion as the paper writes it: no bug.")
AdamNoBiasCorrection = _planted(
    "AdamNoBiasCorrection", "adam", "no bias correction", "m and v used uncorrected."
)
AdamEpsInsideSqrt = _planted(
    "AdamEpsInsideSqrt", "adam", "eps inside sqrt", "√(v̂ + ε) instead of √v̂ + ε."
)
AdamAmsgradOfCorrected = _planted(
    "AdamAmsgradOfCorrected", "adam", "amsgrad of corrected",
    "amsgrad's maximum taken over the bias-corrected v̂ instead of v.",
)  # fmt: skip
AdamBetasAtConstruction = _planted(
    "AdamBetasAtConstruction", "adam", "betas at construction",
    "β₁, β₂ read once, at the first step: a scheduler's cycled β₁ never reaches the update.",
)  # fmt: skip
AdamStepBeforeIncrement = _planted(
    "AdamStepBeforeIncrement", "adam", "step before increment",
    "bias correction from the step count before it is incremented (1 − β⁰ = 0 at step 1).",
)  # fmt: skip
AdamGlobalStep = _planted(
    "AdamGlobalStep", "adam", "global step",
    "one step count for the optimizer, not one per parameter: a parameter that sat out "
    "steps is corrected as if it had taken them.",
)  # fmt: skip
AdamWDecayAfterUpdate = _planted(
    "AdamWDecayAfterUpdate", "adamw", "decay after update",
    "θ ← (θ − γu)(1 − γλ): the decoupled decay applied after the update (bitsandbytes#2010).",
)  # fmt: skip
AdamWDecayTimesLrTwice = _planted(
    "AdamWDecayTimesLrTwice", "adamw", "decay times lr twice", "θ ← θ(1 − γ²λ)."
)
NAdamConstantMu = _planted(
    "NAdamConstantMu", "nadam", "constant mu", "μ_t = β₁: no momentum decay."
)
NAdamNoMuProduct = _planted(
    "NAdamNoMuProduct", "nadam", "no mu product", "1 − μ_t where torch has 1 − Π μ."
)
RAdamNoRectification = _planted(
    "RAdamNoRectification", "radam", "no rectification", "the adaptive step without r_t."
)
RAdamThresholdFour = _planted(
    "RAdamThresholdFour", "radam", "threshold four", "the adaptive step from ρ_t > 4, not 5."
)
LionSignOfMomentum = _planted(
    "LionSignOfMomentum", "lion", "sign of momentum",
    "sign(m) instead of sign(β₁m + (1 − β₁)g): the gradient reaches the update a step late.",
)  # fmt: skip
LionDecayWithoutLr = _planted(
    "LionDecayWithoutLr", "lion", "decay without lr",
    "θ ← θ(1 − λ): the decay not scaled by γ (lion-pytorch's decoupled_weight_decay=True).",
)  # fmt: skip

# name → (class, declared algorithm, the checks it fails, and only those: with 30 examples a
# check from Hypothesis seed 0, generation only, both dtypes; properties/test_selfcheck.py).
# Most bugs change the update itself, so every check that compares a trajectory with the
# oracle fails where its draws reach the bug; each list names the check made for the bug
# (bias_correction, epsilon, amsgrad, weight_decay_decoupled, hyper_live, step_state,
# momentum_decay, rectification, sign_update) and the others its draws reach.
BUGGY_ADAPTIVE: dict[str, tuple[type[_Adaptive], str, set[str]]] = {
    "AdamAmsgradOfCorrected": (
        AdamAmsgradOfCorrected,
        "adam",
        {
            "add_param_group",
            "amsgrad",
            "closure",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "maximize",
            "odd_shapes",
            "tensor_lr",
        },
    ),
    "AdamBetasAtConstruction": (AdamBetasAtConstruction, "adam", {"hyper_live"}),
    "AdamEpsInsideSqrt": (
        AdamEpsInsideSqrt,
        "adam",
        {
            "add_param_group",
            "amsgrad",
            "bias_correction",
            "closure",
            "epsilon",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "maximize",
            "odd_shapes",
            "param_groups",
            "step_state",
            "tensor_lr",
            "update",
        },
    ),
    "AdamGlobalStep": (
        AdamGlobalStep,
        "adam",
        {"add_param_group", "checkpoint", "state_dict_roundtrip", "step_state"},
    ),
    "AdamNoBiasCorrection": (
        AdamNoBiasCorrection,
        "adam",
        {
            "add_param_group",
            "amsgrad",
            "bias_correction",
            "closure",
            "epsilon",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "maximize",
            "odd_shapes",
            "param_groups",
            "step_state",
            "tensor_lr",
            "update",
        },
    ),
    "AdamStepBeforeIncrement": (
        AdamStepBeforeIncrement,
        "adam",
        {
            "add_param_group",
            "amsgrad",
            "bias_correction",
            "checkpoint",
            "closure",
            "epsilon",
            "grad_scaler",
            "grad_unchanged",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "maximize",
            "none_grad_untouched",
            "odd_shapes",
            "param_groups",
            "state_dict_roundtrip",
            "step_state",
            "tensor_lr",
            "update",
            "weight_decay_coupled",
            "zero_grad",
            "zero_lr",
        },
    ),
    "AdamWDecayAfterUpdate": (
        AdamWDecayAfterUpdate,
        "adamw",
        {
            "add_param_group",
            "closure",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "maximize",
            "odd_shapes",
            "param_groups",
            "tensor_lr",
            "weight_decay_decoupled",
        },
    ),
    "AdamWDecayTimesLrTwice": (
        AdamWDecayTimesLrTwice,
        "adamw",
        {
            "add_param_group",
            "closure",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "maximize",
            "odd_shapes",
            "param_groups",
            "tensor_lr",
            "weight_decay_decoupled",
        },
    ),
    "LionDecayWithoutLr": (
        LionDecayWithoutLr,
        "lion",
        {
            "add_param_group",
            "closure",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "maximize",
            "odd_shapes",
            "param_groups",
            "tensor_lr",
            "weight_decay_decoupled",
            "zero_lr",
        },
    ),
    "LionSignOfMomentum": (
        LionSignOfMomentum,
        "lion",
        {
            "add_param_group",
            "closure",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "maximize",
            "odd_shapes",
            "param_groups",
            "sign_update",
            "step_state",
            "tensor_lr",
            "update",
            "weight_decay_decoupled",
        },
    ),
    "NAdamConstantMu": (
        NAdamConstantMu,
        "nadam",
        {
            "add_param_group",
            "bias_correction",
            "closure",
            "epsilon",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "maximize",
            "momentum_decay",
            "odd_shapes",
            "param_groups",
            "step_state",
            "tensor_lr",
            "update",
        },
    ),
    "NAdamNoMuProduct": (
        NAdamNoMuProduct,
        "nadam",
        {
            "add_param_group",
            "bias_correction",
            "closure",
            "epsilon",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "maximize",
            "momentum_decay",
            "odd_shapes",
            "param_groups",
            "step_state",
            "tensor_lr",
            "update",
        },
    ),
    "RAdamNoRectification": (
        RAdamNoRectification,
        "radam",
        {
            "epsilon",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "rectification",
            "step_state",
            "tensor_lr",
            "update",
        },
    ),
    "RAdamThresholdFour": (
        RAdamThresholdFour,
        "radam",
        {
            "epsilon",
            "grad_scaler",
            "hyper_live",
            "low_precision",
            "matches_torch",
            "maximize",
            "param_groups",
            "rectification",
            "step_state",
            "tensor_lr",
            "update",
        },
    ),
}
CORRECT_ADAPTIVE = [PlainAdam, PlainAdamW, PlainNAdam, PlainRAdam, PlainLion, AdamFp32State]
