"""The chapter's experiment: SGD with batch 32, shuffled, against full-batch gradient descent.

Section "Training with SGD in Pytorch": the 2-16-2 ReLU network trained by ``train_test`` with
``DataLoader(batch_size=32, shuffle=True)``, then "for comparison ... with gradient descent by
setting the batch size equal to the size of the training set" (``shuffle=False``).

One seed fixes everything: ``torch.manual_seed(seed)`` is called before each model is built, so
for a given seed SGD and GD start from the *same* initial weights (a paired comparison). The
seed script instead builds ``model_gd`` after training ``model_sgd``, so its GD initialisation
depends on how many random numbers the SGD run used; we depart from it on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from sgdbench.data import Batches, Split
from sgdbench.models import mlp
from sgdbench.training import History, train_test

__all__ = ["GD", "SGD_32", "Method", "run", "run_many"]


@dataclass(frozen=True)
class Method:
    """How an epoch is divided into batches (Algorithm 11, "divide the data into mini-batches")."""

    name: str
    batch_size: int | None  # None: the whole training set, i.e. gradient descent
    shuffle: bool

    def batches(self, split: Split) -> Batches:
        n = split.y_train.shape[0]
        return Batches(split.X_train, split.y_train, self.batch_size or n, shuffle=self.shuffle)


SGD_32 = Method("SGD-32", 32, shuffle=True)  # the seed's train_loader_batch
GD = Method("GD", None, shuffle=False)  # the seed's train_loader_whole


def run(
    method: Method,
    seed: int,
    split: Split,
    *,
    epochs: int = 100,
    hidden: Sequence[int] = (16,),
    dropout: float = 0.0,
    optimizer: dict[str, Any] | None = None,
) -> History:
    """Train ``mlp(in, hidden, out, dropout=dropout)`` (the seed's 2-16-2 on two moons) with
    ``method`` from ``seed``; ``optimizer``: torch.optim.SGD's arguments (None: the seed's)."""
    torch.manual_seed(seed)
    model = mlp(split.features, hidden, split.classes, dropout=dropout).to(split.device)
    opt = None if optimizer is None else torch.optim.SGD(model.parameters(), **optimizer)
    return train_test(model, method.batches(split), split, epochs=epochs, optimizer=opt)


def run_many(
    methods: Sequence[Method],
    seeds: Sequence[int],
    split: Split,
    *,
    epochs: int = 100,
    progress: Callable[[str], None] | None = None,
    **model: Any,
) -> dict[str, list[History]]:
    """``run`` for every seed and method; histories per method name, in seed order.
    ``model``: ``run``'s ``hidden``, ``dropout`` and ``optimizer``."""
    out: dict[str, list[History]] = {m.name: [] for m in methods}
    total, done = len(methods) * len(seeds), 0
    for seed in seeds:
        for method in methods:
            history = run(method, seed, split, epochs=epochs, **model)
            out[method.name].append(history)
            done += 1
            if progress is not None:
                progress(
                    f"[{done:>{len(str(total))}}/{total}] seed {seed} {method.name}: "
                    f"test acc {history.test_acc[-1]:.3f}, test loss {history.test_loss[-1]:.4f}, "
                    f"{sum(history.epoch_seconds):.2f} s training"
                )
    return out


def first_epoch_reaching(values: Sequence[float], threshold: float) -> int | None:
    """1-based epoch at which ``values`` first reaches ``threshold``; None if it never does."""
    return next((i + 1 for i, v in enumerate(values) if v >= threshold), None)
