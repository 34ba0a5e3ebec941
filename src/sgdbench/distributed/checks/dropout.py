"""Algorithm 12 on k ranks: whose RNG draws the masks."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st
from torch import Tensor

from sgdbench.conformance._runner import Variant
from sgdbench.distributed.checks._registry import TASKS, DDPUnderTest, _check

MASK_ROWS, MASK_WIDTH = 16, 16  # 256 units: independent masks agree everywhere w.p. < 1e-22


@st.composite
def _dropout_cases(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "seed": draw(st.integers(0, 2**31 - 1), label="seed"),
        "p": draw(st.sampled_from([0.5]) | st.floats(0.1, 0.9), label="p"),
        "rows": MASK_ROWS,
        "width": MASK_WIDTH,
    }


def _masks(impl: DDPUnderTest, case: dict[str, Any], seeding: str) -> list[Tensor]:
    payload = {**case, "seeding": seeding, "dropout": impl.dropout}
    return impl.group.run(f"{TASKS}:dropout_masks", payload)


@_check(
    "dropout_masks_differ_across_ranks",
    "Algorithm 12 draws a mask per sample; under DDP each rank draws from its own RNG, so with "
    "per-rank seeds the ranks' masks on the same input differ. Two independent masks of 256 "
    "units agree everywhere with probability (p²+(1−p)²)^256 < 1e-22 for p in [0.1, 0.9]",
    cases=lambda impl, v: _dropout_cases(),
)
def masks_differ(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    masks = _masks(impl, case, "per-rank")
    for r in range(1, len(masks)):
        assert not torch.equal(masks[0], masks[r]), (
            f"ranks 0 and {r}, seeded differently, dropped exactly the same units"
        )


@_check(
    "dropout_masks_shared_when_seeded_alike",
    "the pitfall: a script that calls torch.manual_seed(s) on every rank gives every rank the "
    "same RNG stream, so every rank drops the same units: sample j of each rank's batch gets "
    "the same mask, and the k·b masks of a global batch are not independent",
    cases=lambda impl, v: _dropout_cases(),
)
def masks_shared(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    masks = _masks(impl, case, "same")
    for r in range(1, len(masks)):
        assert torch.equal(masks[0], masks[r]), (
            f"ranks 0 and {r}, seeded alike, dropped different units: {impl.dropout.name} "
            "does not draw its mask from torch's global RNG"
        )
