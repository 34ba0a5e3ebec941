"""What an epoch costs: SGD (batch 32, shuffled) against GD (full batch), through the seed's
DataLoader and through Batches, per device and training-set size (chapter, "Training with SGD
in Pytorch": "after each epoch, both methods have processed the entire training dataset once").

The four cases of one (device, n) run interleaved, so SGD/GD and DataLoader/Batches ratios are
taken between neighbours in time. The benchmark also checks that DataLoader and Batches train
to bitwise-identical parameters.
"""

from __future__ import annotations

import pytest
from properties._support import DEVICES

from benchmarks._cases import PIPELINES, batches, iteration, moons, same_parameters, training
from benchmarks.conftest import interleaved

SIZES = [
    pytest.param(800, id="n800"),
    pytest.param(10_000, id="n10000"),
    pytest.param(100_000, id="n100000", marks=pytest.mark.full),
]
ROUNDS = {800: 60, 10_000: 12, 100_000: 5}
METHODS = {"SGD-32": (32, True), "GD": (None, False)}


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("device", DEVICES)
def test_epoch_cost(benchmark, device: str, n: int, full: bool) -> None:  # type: ignore[no-untyped-def]
    if device == "cuda" and not full:
        pytest.skip("CUDA epoch costs run with --full")
    split = moons(n, device)
    cases, models = {}, {}
    for method, (bs, shuffle) in METHODS.items():
        for pipeline in PIPELINES:
            name = f"{method} {pipeline}"
            cases[name], models[name] = training(split, bs or n, shuffle, pipeline)
    steps = {f"{m} {p}": -(-n // (bs or n)) for m, (bs, _) in METHODS.items() for p in PIPELINES}
    interleaved(benchmark, cases, device=device, rounds=ROUNDS[n], per=steps)
    for method in METHODS:
        assert same_parameters(models[f"{method} DataLoader"], models[f"{method} Batches"]), (
            f"{method}: DataLoader and Batches trained to different parameters"
        )


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("device", DEVICES)
def test_iteration_cost(benchmark, device: str, n: int, full: bool) -> None:  # type: ignore[no-untyped-def]
    """The input pipeline alone: one epoch of shuffled batches of 32, no training."""
    if device == "cuda" and not full:
        pytest.skip("CUDA iteration costs run with --full")
    split = moons(n, device)
    cases = {p: iteration(batches(split, 32, True, p, seed=0)) for p in PIPELINES}
    interleaved(benchmark, cases, device=device, rounds=ROUNDS[n] * 2)
