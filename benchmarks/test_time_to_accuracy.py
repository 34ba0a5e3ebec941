"""Time to accuracy: training seconds until the test accuracy first reaches 95 %, for SGD-32
against GD and across batch sizes (chapter: "SGD reaches high accuracies and low losses much
more quickly than gradient descent"). A run that does not reach it within EPOCHS epochs is
recorded as not reached (None), never as a number."""

from __future__ import annotations

import itertools

import pytest
import torch
from properties._support import DEVICES

from benchmarks._cases import batches, moons
from sgdbench.experiments import first_epoch_reaching
from sgdbench.models import mlp
from sgdbench.training import train_test

TARGET, EPOCHS, SEEDS, N = 0.95, 100, (0, 1, 2), 800
BATCH_SIZES = (8, 32, 128, N)


@pytest.mark.parametrize("device", DEVICES)
def test_time_to_accuracy(benchmark, device: str) -> None:  # type: ignore[no-untyped-def]
    split = moons(N, device)
    results: dict[str, list[dict[str, float | int | None]]] = {}

    def run_all() -> None:
        for b, seed in itertools.product(BATCH_SIZES, SEEDS):
            torch.manual_seed(seed)
            data = batches(split, b, b < N, "Batches", seed)
            h = train_test(mlp().to(device), data, split, epochs=EPOCHS)
            epoch = first_epoch_reaching(h.test_acc, TARGET)
            seconds = None if epoch is None else sum(h.epoch_seconds[:epoch])
            name = "GD" if b == N else f"SGD-{b}"
            results.setdefault(name, []).append({"seed": seed, "epoch": epoch, "seconds": seconds})

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    benchmark.extra_info.update(
        {"device": device, "target": TARGET, "epochs": EPOCHS, "time_to_accuracy": results}
    )
    assert all(r["epoch"] is not None for r in results["SGD-32"]), "SGD-32 never reached 95 %"
