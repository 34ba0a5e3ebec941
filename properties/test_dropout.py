"""Dropout (chapter, section "Dropout", Algorithm 12): "if not training return h; sample
u ~ U([0,1])^d; 1_u ← u > p; return 1/(1 − p)·1_u ∘ h", "the scaling ensures that the expected
output of a neuron is the same during training and testing", and "in evaluation mode, the
dropout layer is letting through the input and the network acts deterministic".

The checks are :data:`sgdbench.conformance.DROPOUT_CHECKS`, one function each in
``src/sgdbench/conformance/dropout/`` (expectation, law, p = 1, keep rate, independent
units, eval identity, train varies, seeded; round trip, p = 1 gradient, p = 0, invalid p, low
precision, layouts, empty). Here they run on the reference dropout function
and layer, torch's F.dropout and nn.Dropout, or on ``--dropout MODULE:ATTR``.
"""

from __future__ import annotations

from typing import Any

from sgdbench.conformance import assert_result


def test_dropout(conformance: tuple[Any, Any, str, str]) -> None:
    """One check on one dropout, device and dtype: holds, or fails with its example."""
    impl, check, device, dtype = conformance
    assert_result(check(impl, device=device, dtype=dtype))
