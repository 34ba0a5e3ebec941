"""Time to accuracy: training seconds until the test accuracy first reaches 95 %, for SGD-32
against GD and across batch sizes (chapter: "SGD reaches high accuracies and low losses much
more quickly than gradient descent"). A run that does not reach it within EPOCHS epochs is
recorded as not reached (None), never as a number."""

from __future__ import annotations

import pytest
from properties._support import DEVICES

from benchmarks._cases import moons, time_to_accuracy

TARGET, EPOCHS, SEEDS, N = 0.95, 100, (0, 1, 2), 800
BATCH_SIZES = (8, 32, 128, N)


@pytest.mark.parametrize("device", DEVICES)
def test_time_to_accuracy(benchmark, device: str) -> None:  # type: ignore[no-untyped-def]
    split = moons(N, device)
    results: dict[str, list[dict[str, float | int | None]]] = {}

    def run_all() -> None:
        results.update(time_to_accuracy(split, BATCH_SIZES, SEEDS, TARGET, EPOCHS))

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    benchmark.extra_info.update(
        {"device": device, "target": TARGET, "epochs": EPOCHS, "time_to_accuracy": results}
    )
    assert all(r["epoch"] is not None for r in results["SGD-32"]), "SGD-32 never reached 95 %"
