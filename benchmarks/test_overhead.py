"""What sgdbench adds on top of torch: train_test against a bare loop doing the same steps and
the same evaluation, and the reference SGD against torch.optim.SGD, interleaved."""

from __future__ import annotations

import torch

from benchmarks._cases import moons, overhead, same_parameters, training
from benchmarks.conftest import interleaved
from sgdbench import reference

N = 800


def test_train_test_overhead(benchmark) -> None:  # type: ignore[no-untyped-def]
    """One epoch of train_test (training pass + evaluation) against the seed's loop body."""
    cases, models = overhead(moons(N, "cpu"))
    interleaved(benchmark, cases, device="cpu", rounds=60)
    assert same_parameters(models["bare loop"], models["train_test"])


def test_reference_sgd_cost(benchmark) -> None:  # type: ignore[no-untyped-def]
    """An SGD-32 epoch with torch.optim.SGD against the same epoch with reference.SGD."""
    split = moons(N, "cpu")
    torch_epoch, torch_model = training(split, 32, True, "Batches", optimizer=torch.optim.SGD)
    ref_epoch, ref_model = training(split, 32, True, "Batches", optimizer=reference.SGD)
    interleaved(
        benchmark,
        {"torch.optim.SGD": torch_epoch, "reference.SGD": ref_epoch},
        device="cpu",
        rounds=60,
    )
    assert same_parameters(torch_model, ref_model)
