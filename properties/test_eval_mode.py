"""Eval mode (chapter, section "Dropout"): "In evaluation mode, the dropout layer is letting
through the input and the network acts deterministic. In training mode, the dropout layer is on
and the model output is not deterministic."

Networks are generated: depth, widths, p, and reference or torch dropout layers.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from torch import nn

from properties._support import DEVICES, DROPOUT_LAYERS, FALSE_ALARM, assert_equal, rng_state, seeds

BATCH = 64
TRAIN_CALLS = 20


@st.composite
def networks(draw: st.DrawFn) -> tuple[nn.Sequential, list[float]]:
    """Linear → ReLU → Dropout(p_i) per hidden layer (1–3 of them, widths 2–16), then Linear."""
    kind = draw(st.sampled_from(sorted(DROPOUT_LAYERS)), label="dropout kind")
    depth = draw(st.integers(1, 3), label="hidden layers")
    widths = [draw(st.integers(2, 8), label="in")] + [
        draw(st.integers(2, 16), label=f"width {i}") for i in range(depth)
    ]
    ps = [draw(st.floats(0.1, 0.9), label=f"p {i}") for i in range(depth)]
    torch.manual_seed(draw(seeds, label="init seed"))
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(widths[i], widths[i + 1]), nn.ReLU(), DROPOUT_LAYERS[kind](ps[i])]
    layers.append(nn.Linear(widths[-1], draw(st.integers(1, 4), label="out")))
    return nn.Sequential(*layers), ps


def _without_dropout(net: nn.Sequential) -> nn.Sequential:
    """The same network, same parameter tensors, with its dropout layers removed."""
    return nn.Sequential(*(m for m in net if not isinstance(m, tuple(DROPOUT_LAYERS.values()))))


EVAL_GIVEN = {"net_ps": networks(), "seed": seeds, "other_seed": seeds}


@pytest.mark.parametrize("device", DEVICES)
@given(**EVAL_GIVEN)
def test_eval_is_deterministic_and_drops_nothing(
    device: str, net_ps: tuple[nn.Sequential, list[float]], seed: int, other_seed: int
) -> None:
    """Algorithm 12, line 1: "if not training return h". In eval() the output is bitwise the
    same across calls, whatever the RNG state, with or without no_grad, and equal to the same
    network with its dropout layers removed. Exact: nothing random may happen."""
    net, _ = net_ps
    net = net.to(device).eval()
    torch.manual_seed(seed)
    x = torch.randn(BATCH, net[0].in_features, device=device)
    call = f"{net} eval() {device}"
    first = net(x)
    state = rng_state(device)
    assert_equal("second eval() output", net(x), first, call)
    assert torch.equal(rng_state(device), state), f"eval() forward advanced the RNG [{call}]"
    torch.manual_seed(other_seed)
    assert_equal("eval() output after reseeding", net(x), first, call)
    with torch.no_grad():
        assert_equal("eval() output under no_grad", net(x), first.detach(), call)
    assert_equal("eval() output vs network without dropout", _without_dropout(net)(x), first, call)


@pytest.mark.parametrize("device", DEVICES)
@given(net_ps=networks(), seed=seeds)
def test_train_varies_between_calls_and_advances_rng(
    device: str, net_ps: tuple[nn.Sequential, list[float]], seed: int
) -> None:
    """In training mode "the dropout layer is on and the model output is not deterministic".

    Every train() forward advances the RNG, and the first dropout layer's output varies across
    K = TRAIN_CALLS calls: the chance that all calls draw the same masks on its n non-zero
    inputs is (p^K + (1 − p)^K)^n; examples where that exceeds 1e-9 (too few live units) are
    discarded rather than checked, so a pass is never luck and a failure is a bug. (The
    network's final output may legitimately not vary: later ReLUs can all be dead.)
    """
    net, ps = net_ps
    net = net.to(device).train()
    torch.manual_seed(seed)
    x = torch.randn(BATCH, net[0].in_features, device=device)
    with torch.no_grad():
        live = int((net[1](net[0](x)) != 0).sum())
    p = ps[0]
    assume((p**TRAIN_CALLS + (1 - p) ** TRAIN_CALLS) ** live <= FALSE_ALARM)
    call = f"{net} train() {device}"
    outs: list[torch.Tensor] = []
    hook = net[2].register_forward_hook(lambda _m, _i, out: outs.append(out))
    try:
        for _ in range(TRAIN_CALLS):
            before = rng_state(device)
            with torch.no_grad():
                net(x)
            advanced = not torch.equal(rng_state(device), before)
            assert advanced, f"train() forward drew no random numbers [{call}]"
    finally:
        hook.remove()
    assert any(not torch.equal(o, outs[0]) for o in outs[1:]), (
        f"{TRAIN_CALLS} outputs of the first dropout layer all equal: not random [{call}]"
    )
