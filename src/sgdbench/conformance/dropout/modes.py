"""Train and eval: "in evaluation mode, the dropout layer is letting through the input and the
network acts deterministic"; in training mode it is random, and seeded by torch."""

from __future__ import annotations

import torch
from hypothesis import assume
from hypothesis import strategies as st
from torch import Tensor, nn

from sgdbench.conformance._impl import DropoutUnderTest
from sgdbench.conformance._runner import Variant
from sgdbench.conformance._stats import FALSE_ALARM
from sgdbench.conformance.dropout._harness import (
    TRAIN_CALLS,
    Case,
    _check,
    _network,
    _networks,
    _same,
    rng_state,
    seeds,
)
from sgdbench.conformance.dropout._masks import declared, live_draws, pair_shape


def _describe(impl: DropoutUnderTest, case: Case) -> str:
    """The generated network on one line: its widths and each dropout layer's p."""
    layers = " → ".join(f"Linear → ReLU → {impl.name}(p={p})" for p in case["ps"])
    return f"{layers} → Linear, widths {case['widths']} → {case['out']}"


@_check(
    "eval_identity",
    'Algorithm 12, line 1: "if not training return h"; "In evaluation mode, the dropout layer '
    'is letting through the input and the network acts deterministic"',
    cases=lambda impl, v: _networks(),
)
def eval_identity(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """Generated networks in eval(): the output is bitwise the same across calls, whatever the
    RNG state, with or without no_grad, equal to the same network with its dropout layers
    removed, and the forward draws no random numbers. Exact: nothing random may happen."""
    net, x = _network(impl, case, variant)
    net.eval()
    call = f"{_describe(impl, case)} eval() {variant}"
    first = net(x)
    state = rng_state(variant.device)
    # the identity first: a layer that drops in eval() is said to drop, not to be inconsistent
    plain = nn.Sequential(*(m for i, m in enumerate(net) if i % 3 != 2))
    _same("eval() output vs the network without dropout", first, plain(x), call)
    _same("second eval() output", net(x), first, call)
    if not torch.equal(rng_state(variant.device), state):
        raise AssertionError(f"eval() forward advanced the RNG [{call}]")
    torch.manual_seed(case["other_seed"])
    _same("eval() output after reseeding", net(x), first, call)
    with torch.no_grad():
        _same("eval() output under no_grad", net(x), first.detach(), call)


@_check(
    "train_varies",
    '"In training mode, the dropout layer is on and the model output is not deterministic"',
    cases=lambda impl, v: _networks(),
)
def train_varies(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """The first dropout layer's output varies across K = TRAIN_CALLS train() calls.

    Assumes the declared structure: its input has n live draws (groups of that structure,
    :mod:`._masks`, with a non-zero unit: units, channels or samples), each dropped
    independently with probability p in every call. Identical outputs mean every live draw
    came out the same in all K calls, which has probability (p^K + (1 − p)^K)^n; examples
    where that exceeds 1e-9 (too few live draws) are discarded, not checked. So a correct
    dropout of the declared structure fails with probability ≤ 1e-9; a failure says the
    output did not vary, and how unlikely that is under the declared structure. (The
    network's output itself may legitimately not vary: later ReLUs can all be dead.)"""
    net, x = _network(impl, case, variant)
    net.train()
    with torch.no_grad():
        live = live_draws(net[1](net[0](x)), impl.structure)
    p, k = case["ps"][0], TRAIN_CALLS
    chance = (p**k + (1 - p) ** k) ** live
    assume(chance <= FALSE_ALARM)
    outs: list[Tensor] = []
    hook = net[2].register_forward_hook(lambda _m, _i, out: outs.append(out.clone()))
    try:
        with torch.no_grad():
            for _ in range(k):
                net(x)
    finally:
        hook.remove()
    if all(torch.equal(o, outs[0]) for o in outs[1:]):
        raise AssertionError(
            f"the first dropout layer's output was identical across {k} train() calls; under "
            f"{declared(impl)}, with n = {live} independent draws on non-zero inputs, that has "
            f"probability (p^{k} + (1 − p)^{k})^n = {chance:.3g} at p={p} "
            f"[{_describe(impl, case)} train() {variant}]"
        )


@_check(
    "seeded",
    "Reproducibility: the masks come from torch's global RNG, so torch.manual_seed(s) fixes "
    "them (one seed fixes a whole training run) and every training-mode call advances it",
    cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.1, 0.9), "seed": seeds}),
)
def seeded(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """Two calls on fresh copies of one input, each after torch.manual_seed(s): the same
    output, and the first call changed the global RNG state. Exact: nothing statistical."""
    p, shape = case["p"], pair_shape(impl.structure, impl.rank)
    x = torch.ones(shape, dtype=variant.torch_dtype, device=variant.device)
    call = f"{impl.name}(ones({shape}), p={p}) {variant}"
    torch.manual_seed(case["seed"])
    before = rng_state(variant.device)
    first = impl.apply(x, p)
    if torch.equal(rng_state(variant.device), before):
        raise AssertionError(f"a training-mode call drew nothing from torch's global RNG [{call}]")
    torch.manual_seed(case["seed"])
    _same("output after torch.manual_seed(s) again", impl.apply(x, p), first, call)
