"""What sgdbench adds on top of torch: train_test against a bare loop doing the same steps and
the same evaluation, and the reference SGD against torch.optim.SGD, interleaved."""

from __future__ import annotations

import torch
from torch import nn

from benchmarks._cases import batches, moons, same_parameters, training
from benchmarks.conftest import interleaved
from sgdbench import reference
from sgdbench.models import mlp
from sgdbench.training import SEED_LR, SEED_MOMENTUM, train_test

N = 800


def test_train_test_overhead(benchmark) -> None:  # type: ignore[no-untyped-def]
    """One epoch of train_test (training pass + evaluation) against the seed's loop body."""
    split = moons(N, "cpu")
    models = {}

    def setup(name: str):  # type: ignore[no-untyped-def]
        torch.manual_seed(0)
        model = models[name] = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=SEED_LR, momentum=SEED_MOMENTUM)
        return model, opt, nn.CrossEntropyLoss(), batches(split, 32, True, "Batches", 0)

    model_b, opt_b, crit_b, data_b = setup("bare loop")
    model_t, opt_t, crit_t, data_t = setup("train_test")

    def bare() -> None:  # the chapter's train_test body, one epoch
        model_b.train()
        for xb, yb in data_b:
            opt_b.zero_grad()
            loss = crit_b(model_b(xb), yb)
            loss.backward()
            opt_b.step()
        model_b.eval()
        with torch.no_grad():
            tr, te = model_b(split.X_train), model_b(split.X_test)
            crit_b(tr, split.y_train).item()
            crit_b(te, split.y_test).item()
            (tr.argmax(dim=1) == split.y_train).float().mean().item()
            (te.argmax(dim=1) == split.y_test).float().mean().item()

    def ours() -> None:
        train_test(model_t, data_t, split, epochs=1, optimizer=opt_t, criterion=crit_t)

    interleaved(benchmark, {"bare loop": bare, "train_test": ours}, device="cpu", rounds=60)
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
