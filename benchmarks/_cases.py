"""Seeded training and iteration cases for the benchmarks, built outside any timed call."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from sgdbench.data import Batches, Split, two_moons
from sgdbench.experiments import first_epoch_reaching
from sgdbench.models import mlp
from sgdbench.training import SEED_LR, SEED_MOMENTUM, train_epoch, train_test

PIPELINES = ("DataLoader", "Batches")


def moons(n_train: int, device: str) -> Split:
    """Two moons with ``n_train`` training points (the seed's 800 when n_train = 800)."""
    return two_moons(n_samples=n_train * 5 // 4).to(device)


def batches(
    split: Split, batch_size: int, shuffle: bool, pipeline: str, seed: int
) -> Iterable[tuple[Tensor, Tensor]]:
    """The seed's DataLoader, or Batches, drawing shuffles from their own seeded generator.

    On CUDA the DataLoader reads the CPU tensors and each batch is moved to the device, as a
    user of the seed's code would do; Batches works on the device tensors directly.
    """
    gen = torch.Generator().manual_seed(seed)
    X, y = split.X_train, split.y_train
    if pipeline == "Batches":
        return Batches(X, y, batch_size, shuffle=shuffle, generator=gen)
    loader = DataLoader(
        TensorDataset(X.cpu(), y.cpu()), batch_size=batch_size, shuffle=shuffle, generator=gen
    )
    if X.device.type == "cpu":
        return loader
    device = X.device
    return _Moved(loader, device)


class _Moved:
    def __init__(self, loader: DataLoader, device: torch.device) -> None:
        self.loader, self.device = loader, device

    def __iter__(self):  # type: ignore[no-untyped-def]
        for xb, yb in self.loader:
            yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)


def training(
    split: Split,
    batch_size: int,
    shuffle: bool,
    pipeline: str,
    *,
    seed: int = 0,
    optimizer: type[torch.optim.Optimizer] = torch.optim.SGD,
) -> tuple[Callable[[], None], nn.Module]:
    """One epoch of the seed's training (its model, optimizer and loss) as a callable; the
    network is the seed's 2-16-2 with the split's inputs and classes (64-16-10 on digits)."""
    torch.manual_seed(seed)
    model = mlp(split.features, (16,), split.classes).to(split.device)
    opt = optimizer(model.parameters(), lr=SEED_LR, momentum=SEED_MOMENTUM)
    criterion = nn.CrossEntropyLoss()
    data = batches(split, batch_size, shuffle, pipeline, seed)

    def epoch() -> None:
        train_epoch(model, data, opt, criterion)

    return epoch, model


def time_to_accuracy(
    split: Split, batch_sizes: Sequence[int], seeds: Sequence[int], target: float, epochs: int
) -> dict[str, list[dict[str, float | int | None]]]:
    """Per method ("SGD-b", or "GD" for b = n) and seed: the first epoch whose test accuracy
    reaches ``target`` and the training seconds to it (None, None: not within ``epochs``)."""
    n = split.y_train.shape[0]
    results: dict[str, list[dict[str, float | int | None]]] = {}
    for b, seed in itertools.product(batch_sizes, seeds):
        torch.manual_seed(seed)
        data = batches(split, b, b < n, "Batches", seed)
        model = mlp(split.features, (16,), split.classes).to(split.device)
        h = train_test(model, data, split, epochs=epochs)
        epoch = first_epoch_reaching(h.test_acc, target)
        seconds = None if epoch is None else sum(h.epoch_seconds[:epoch])
        name = "GD" if b == n else f"SGD-{b}"
        results.setdefault(name, []).append({"seed": seed, "epoch": epoch, "seconds": seconds})
    return results


def iteration(data: Iterable[tuple[Tensor, Tensor]]) -> Callable[[], None]:
    """One epoch of batches and nothing else."""

    def epoch() -> None:
        for _ in data:
            pass

    return epoch


def same_parameters(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def overhead(split: Split) -> tuple[dict[str, Callable[[], None]], dict[str, nn.Module]]:
    """One epoch of train_test (training pass + evaluation) and of the chapter's bare loop body
    doing the same steps and evaluation, each with its own seeded model; and their models."""
    from sgdbench.training import train_test

    models: dict[str, nn.Module] = {}

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

    return {"bare loop": bare, "train_test": ours}, models
