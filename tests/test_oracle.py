"""The conformance oracle's per-step hyper-parameters (a scheduler's η_t, μ_t)."""

from __future__ import annotations

import pytest
import torch

from sgdbench.conformance._oracle import Hyper, trajectory


def _problem() -> tuple[list[torch.Tensor], list[list[torch.Tensor | None]]]:
    gen = torch.Generator().manual_seed(0)
    theta0 = [torch.randn(3, generator=gen, dtype=torch.float64)]
    return theta0, [[torch.randn(3, generator=gen, dtype=torch.float64)] for _ in range(3)]


def test_one_setting_per_step_equals_the_constant_form() -> None:
    theta0, grads = _problem()
    h = Hyper(lr=0.1, momentum=0.9)
    constant = trajectory(theta0, grads, [h], torch.float32)
    per_step = trajectory(theta0, grads, [[h]] * 3, torch.float32)
    for a, b in zip(constant, per_step, strict=True):
        assert torch.equal(a.theta[0], b.theta[0]) and torch.equal(a.bound[0], b.bound[0])


def test_per_step_lr_scales_the_whole_buffer() -> None:
    """torch.optim.SGD: θ ← θ − γ_t·b_t, the current lr times the whole momentum buffer."""
    theta0, grads = _problem()
    steps = [[Hyper(lr=0.1, momentum=0.5)], [Hyper(lr=0.01, momentum=0.5)]]
    out = trajectory(theta0, grads[:2], steps, torch.float64)
    g1, g2 = grads[0][0], grads[1][0]
    assert g1 is not None and g2 is not None
    expected = theta0[0] - 0.1 * g1 - 0.01 * (0.5 * g1 + g2)
    assert torch.allclose(out[1].theta[0], expected, rtol=0, atol=1e-15)


def test_settings_for_the_wrong_number_of_steps_are_refused() -> None:
    theta0, grads = _problem()
    with pytest.raises(ValueError, match="settings for 2 steps, but grads has 3"):
        trajectory(theta0, grads, [[Hyper(lr=0.1)]] * 2, torch.float32)
