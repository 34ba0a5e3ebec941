"""Cost against batch size: epoch and per-step cost for b = 1 … n, per device and pipeline,
to see where a step stops being dispatch-bound (chapter, "SGD is not only more efficient in its
computation of the gradients": the report fits c(b) = c₀ + c₁·b to the per-step cost)."""

from __future__ import annotations

import pytest
from properties._support import DEVICES

from benchmarks._cases import PIPELINES, moons, training
from benchmarks.conftest import interleaved

N = 800
BATCH_SIZES = (1, 8, 32, 128, 512, N)


@pytest.mark.parametrize("device", DEVICES)
def test_cost_against_batch_size(benchmark, device: str) -> None:  # type: ignore[no-untyped-def]
    split = moons(N, device)
    cases, per = {}, {}
    for pipeline in PIPELINES:
        for b in BATCH_SIZES:
            name = f"b={b} {pipeline}"
            cases[name], _ = training(split, b, b < N, pipeline)
            per[name] = -(-N // b)
    interleaved(benchmark, cases, device=device, rounds=8, warmup=1, per=per)
