r"""Reference SGD: Algorithm 11 with momentum and weight decay, as plain tensor arithmetic.

The chapter (section "SGD", Algorithm 11)::

    for epoch t in 1..t_max
        divide the data into mini-batches B_1 ∪ … ∪ B_m = D
        for each batch B
            θ ← θ − η_t ∇L(B, θ)                                   (Algorithm 11, last line)

"Likewise, we can integrate momentum in this optimization scheme, by performing the updates
with momentum on a batch only." The chapter gives no momentum formula; PyTorch decides, and
this module follows ``torch.optim.SGD``'s documented algorithm line for line (γ = lr, θ =
params, λ = weight_decay, μ = momentum, τ = dampening)::

    g_t ← ∇f_t(θ_{t−1})                 (−∇f_t(θ_{t−1}) if maximize)          [1]
    if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}                                           [2]
    if μ ≠ 0:
        b_t ← g_t                        if t = 1 (undampened: a PyTorch choice) [3]
        b_t ← μ b_{t−1} + (1 − τ) g_t    otherwise                               [4]
        g_t ← g_t + μ b_t                if nesterov                             [5]
        g_t ← b_t                        otherwise                               [6]
    θ_t ← θ_{t−1} − γ g_t                                                        [7]

Weight decay [2] adds λθ to the gradient *before* momentum, which is gradient descent on
L(θ) + (λ/2)‖θ‖² (chapter, "Weight Decay"; :func:`sgdbench.reference.l2_penalty`).

Each line uses the same tensor operation as torch's single-tensor path (``add(…, alpha=…)``),
so on the same device the results agree bit for bit, not only within a tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, dampening, Nesterov, weight decay.

    A drop-in for ``torch.optim.SGD`` (same arguments, defaults, errors, param groups and
    ``state_dict`` layout: the momentum buffer lives in ``state[p]["momentum_buffer"]``),
    without ``foreach``/``fused``/``differentiable``. Parameters whose ``grad`` is None are
    skipped in a step, their buffers untouched.
    """

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
        # The same checks and messages as torch.optim.SGD.__init__.
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
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
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One update of every parameter that has a gradient (Algorithm 11, last line)."""
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
                g = -p.grad if group["maximize"] else p.grad  # [1]
                if wd != 0:
                    g = g.add(p, alpha=wd)  # [2]  g + λθ
                if mu != 0:
                    state = self.state[p]
                    b = state.get("momentum_buffer")
                    if b is None:
                        b = state["momentum_buffer"] = g.detach().clone()  # [3]  b_1 = g_1
                    else:
                        b.mul_(mu).add_(g, alpha=1 - tau)  # [4]  μb + (1 − τ)g
                    g = g.add(b, alpha=mu) if group["nesterov"] else b  # [5] / [6]
                p.add_(g, alpha=-lr)  # [7]  θ − γg
        return loss

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
