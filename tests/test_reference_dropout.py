"""sgdbench.reference.dropout / Dropout and l2_penalty: the exact cases (statistics live in
properties/)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sgdbench.reference import Dropout, dropout, l2_penalty


def test_eval_and_p0_return_the_input_itself(device: torch.device) -> None:
    x = torch.randn(4, 5, device=device)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x


def test_p1_gives_zeros_and_zero_gradient(device: torch.device) -> None:
    x = torch.randn(3, 4, device=device, requires_grad=True)
    out = dropout(x, 1.0)
    assert torch.equal(out, torch.zeros_like(x))
    out.sum().backward()
    assert x.grad is not None and torch.equal(x.grad, torch.zeros_like(x))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kept_units_scaled_dropped_zero_gradient_is_mask(
    dtype: torch.dtype, device: torch.device
) -> None:
    p = 0.3
    x = (torch.rand(1000, dtype=dtype, device=device) + 0.5).requires_grad_()
    gen = torch.Generator(device=device).manual_seed(0)
    out = dropout(x, p, generator=gen)
    u = torch.rand(1000, dtype=dtype, device=device, generator=gen.manual_seed(0))
    keep = u > p  # Algorithm 12, line 3, with the same draws
    scale = torch.tensor(1 / (1 - p), dtype=dtype)
    assert torch.equal(out[keep], x[keep] * scale.to(device))
    assert torch.equal(out[~keep], torch.zeros_like(out[~keep]))
    out.sum().backward()
    assert x.grad is not None
    assert torch.equal(x.grad, keep.to(dtype) * scale.to(device))


def test_generator_makes_it_reproducible() -> None:
    x = torch.ones(100)
    a = dropout(x, 0.5, generator=torch.Generator().manual_seed(3))
    b = dropout(x, 0.5, generator=torch.Generator().manual_seed(3))
    c = dropout(x, 0.5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_module_follows_training_flag() -> None:
    layer = Dropout(0.5)
    x = torch.ones(1000)
    assert torch.equal(layer.eval()(x), x)
    out = layer.train()(x)
    assert set(out.unique().tolist()) <= {0.0, 2.0} and 0 < (out == 0).sum() < 1000
    assert "p=0.5" in repr(layer)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5", True])
def test_bad_p_names_argument_and_range(p: object) -> None:
    with pytest.raises(ValueError, match=r"dropout probability `p` has to be between 0 and 1"):
        dropout(torch.ones(2), p)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"between 0 and 1, but got"):
        Dropout(p)  # type: ignore[arg-type]


def test_l2_penalty_value_and_gradient() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([[3.0]], requires_grad=True)
    pen = l2_penalty([a, b], 0.1)
    assert pen.item() == pytest.approx(0.05 * 14)
    pen.backward()
    assert torch.allclose(a.grad, 0.1 * a.detach())  # type: ignore[arg-type]
    assert torch.allclose(b.grad, 0.1 * b.detach())  # type: ignore[arg-type]


def test_l2_penalty_takes_a_parameter_generator() -> None:
    model = nn.Linear(3, 2)
    expected = 0.5 * 1e-2 * sum(float((p.detach() ** 2).sum()) for p in model.parameters())
    assert l2_penalty(model.parameters(), 1e-2).item() == pytest.approx(expected, rel=1e-6)
    assert l2_penalty(model.parameters(), 0.0).item() == 0.0


@pytest.mark.parametrize(
    ("params", "wd", "error", "match"),
    [
        ([torch.ones(1)], -0.1, ValueError, r"`weight_decay` must be in \[0.0, inf\]"),
        ([torch.ones(1)], float("inf"), ValueError, "`weight_decay` must be in"),
        ([torch.ones(1)], "0.1", TypeError, "`weight_decay` must be a real number"),
        ([], 0.1, ValueError, "`params` is empty"),
    ],
)
def test_l2_penalty_bad_input(params: list, wd: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        l2_penalty(params, wd)  # type: ignore[arg-type]
