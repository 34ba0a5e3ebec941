"""Past the dispatch-bound toy: SGD against GD on the digits, and the per-step cost over a
sweep of width × batch size on both data sets, which the report fits a cost model to
(:mod:`sgdbench.bench.costmodel`; chapter, "SGD is not only more efficient in its computation
of the gradients").

Digits here are the 80/20 split (1,437 training images: ``digits(n_train=1437)``), so that
batch sizes up to 1,437 exist; the claims use 200 (the overfitting regime).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from benchmarks._cases import moons, time_to_accuracy, training
from benchmarks.conftest import interleaved
from sgdbench.data import Batches, Split, digits
from sgdbench.models import mlp
from sgdbench.training import SEED_LR, SEED_MOMENTUM

N_DIGITS = 1437  # 80 % of the 1,797 images, as two moons' 800 of 1,000
WIDTHS = (16, 64, 256, 1024)
BATCHES = (1, 4, 16, 64, 256, None)  # None: the whole training set (GD)
STEPS = 20  # steps timed per case and round
TARGET, EPOCHS, SEEDS = 0.95, 100, (0, 1, 2)


def _digits() -> Split:
    return digits(n_train=N_DIGITS)


def test_digits_epoch_cost(benchmark) -> None:  # type: ignore[no-untyped-def]
    """SGD-32 against GD on digits, one epoch each, interleaved (64-16-10, n = 1437)."""
    split = _digits()
    cases = {
        "SGD-32": training(split, 32, True, "Batches")[0],
        "GD": training(split, N_DIGITS, False, "Batches")[0],
    }
    per = {"SGD-32": -(-N_DIGITS // 32), "GD": 1}
    interleaved(benchmark, cases, device="cpu", rounds=30, per=per)


def test_time_to_accuracy_digits(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Training seconds to 95 % test accuracy on digits, SGD at 8, 32, 128 against GD."""
    split = _digits()
    results: dict[str, list[dict[str, float | int | None]]] = {}

    def run_all() -> None:
        results.update(time_to_accuracy(split, (8, 32, 128, N_DIGITS), SEEDS, TARGET, EPOCHS))

    benchmark.pedantic(run_all, rounds=1, iterations=1)
    benchmark.extra_info.update(
        {
            "device": "cpu",
            "dataset": f"digits, n = {N_DIGITS}",
            "target": TARGET,
            "epochs": EPOCHS,
            "time_to_accuracy": results,
        }
    )


def _steps(split: Split, width: int, batch_size: int) -> Callable[[], None]:
    """STEPS training steps of in-width-out on shuffled batches, cycling through epochs."""
    torch.manual_seed(0)
    model = mlp(split.features, (width,), split.classes)
    opt = torch.optim.SGD(model.parameters(), lr=SEED_LR, momentum=SEED_MOMENTUM)
    criterion = nn.CrossEntropyLoss()
    data = Batches(split.X_train, split.y_train, batch_size, shuffle=True)

    def forever() -> Iterator[tuple[Tensor, Tensor]]:
        while True:
            yield from data

    stream = forever()

    def run() -> None:
        model.train()
        for xb, yb in itertools.islice(stream, STEPS):
            opt.zero_grad()
            criterion(model(xb), yb).backward()
            opt.step()

    return run


def test_step_cost_sweep(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Seconds per step for every width × batch size on both data sets, interleaved."""
    splits = {"two moons": moons(800, "cpu"), "digits": _digits()}
    cases, per, meta = {}, {}, {}
    for (name, split), width, b in itertools.product(splits.items(), WIDTHS, BATCHES):
        n = split.y_train.shape[0]
        size = b or n
        case = f"{name} w={width} b={size}"
        cases[case] = _steps(split, width, size)
        per[case] = STEPS
        meta[case] = {
            "dataset": name,
            "width": width,
            "batch": size,
            "in": split.features,
            "out": split.classes,
        }
    interleaved(benchmark, cases, device="cpu", rounds=5, warmup=1, per=per)
    benchmark.extra_info["cases"] = meta
