"""sgdbench.training.train_test and the seed reproduction, bit for bit."""

from __future__ import annotations

import pytest
import torch
import torch.optim as optim
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from sgdbench.data import Batches, two_moons
from sgdbench.experiments import GD, SGD_32, first_epoch_reaching, run
from sgdbench.models import mlp
from sgdbench.training import History, train_test


def seed_train_test(model, train_loader, X_train, y_train, X_test, y_test, epochs=100):
    """The chapter's ``train_test``, verbatim but for ``epochs`` and the data as arguments."""
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_accs, test_accs = [], []
    train_losses, test_losses = [], []
    for _epoch in range(epochs):
        model.train()
        for batch_X, batch_y in train_loader:
            optimizer.zero_grad()
            outputs = model(batch_X)
            loss = criterion(outputs, batch_y)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            train_outputs = model(X_train)
            test_outputs = model(X_test)
            train_loss = criterion(train_outputs, y_train).item()
            test_loss = criterion(test_outputs, y_test).item()
            train_losses.append(train_loss)
            test_losses.append(test_loss)
            train_preds = train_outputs.argmax(dim=1)
            test_preds = test_outputs.argmax(dim=1)
            train_acc = (train_preds == y_train).float().mean().item()
            test_acc = (test_preds == y_test).float().mean().item()
            train_accs.append(train_acc)
            test_accs.append(test_acc)
    return train_accs, test_accs, train_losses, test_losses


@pytest.mark.parametrize(
    ("batch_size", "shuffle"),
    [pytest.param(32, True, marks=pytest.mark.slow), (None, False)],  # SGD-32: ~18 s each
    ids=["SGD-32", "GD"],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_seed_reproduction_is_bitwise_identical(
    batch_size: int | None, shuffle: bool, seed: int
) -> None:
    """The seed's experiment through the seed's DataLoader and code, then through Batches and
    train_test: the same History, float for float, all 100 epochs."""
    s = two_moons()
    bs = batch_size or s.y_train.shape[0]
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    loader = DataLoader(TensorDataset(s.X_train, s.y_train), batch_size=bs, shuffle=shuffle)
    expected = seed_train_test(model, loader, s.X_train, s.y_train, s.X_test, s.y_test)
    rng_after_seed = torch.get_rng_state()

    method = SGD_32 if shuffle else GD
    got = run(method, seed, s, epochs=100)
    assert got.metrics() == dict(
        zip(("train_acc", "test_acc", "train_loss", "test_loss"), expected, strict=True)
    )
    assert torch.equal(torch.get_rng_state(), rng_after_seed)  # same random draws, too


def test_same_seed_same_history_different_seed_different() -> None:
    s = two_moons()
    a, b, c = (run(SGD_32, seed, s, epochs=5) for seed in (3, 3, 4))
    assert a == b and a.metrics() == b.metrics()
    assert a != c


def test_train_test_with_dataloader_equals_batches() -> None:
    s = two_moons(n_samples=300)
    histories = []
    for make in (
        lambda: DataLoader(TensorDataset(s.X_train, s.y_train), batch_size=16, shuffle=True),
        lambda: Batches(s.X_train, s.y_train, 16, shuffle=True),
    ):
        torch.manual_seed(0)
        histories.append(train_test(mlp(), make(), s, epochs=4))
    assert histories[0] == histories[1]


def test_history_shape_timing_and_optimizer_argument(device: torch.device) -> None:
    s = two_moons(n_samples=200).to(device)
    torch.manual_seed(0)
    model = mlp(dropout=0.2).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    h = train_test(model, Batches(s.X_train, s.y_train, 50), s, epochs=3, optimizer=opt)
    assert isinstance(h, History) and len(h) == 3
    assert all(len(v) == 3 for v in h.metrics().values())
    assert len(h.epoch_seconds) == 3 and all(t > 0 for t in h.epoch_seconds)
    assert all(0.0 <= a <= 1.0 for a in h.train_acc + h.test_acc)
    assert h.train_loss[-1] < h.train_loss[0]  # it learns
    assert not model.training  # left in eval mode after the last evaluation, as the seed
    assert History.from_dict(h.metrics()) == h


def test_criterion_argument_is_used() -> None:
    class Counting(nn.CrossEntropyLoss):
        calls = 0

        def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            Counting.calls += 1
            return super().forward(input, target)

    s = two_moons(n_samples=100)
    train_test(mlp(), Batches(s.X_train, s.y_train, 30), s, epochs=2, criterion=Counting())
    assert Counting.calls == 2 * (3 + 2)  # 3 batches and 2 evaluations per epoch


def test_first_epoch_reaching() -> None:
    assert first_epoch_reaching([0.5, 0.96, 0.9, 0.97], 0.95) == 2
    assert first_epoch_reaching([0.5, 0.6], 0.95) is None


def test_train_test_bad_input() -> None:
    s = two_moons(n_samples=100)
    b = Batches(s.X_train, s.y_train, 10)
    with pytest.raises(TypeError, match=r"`model` must be a torch\.nn\.Module"):
        train_test("net", b, s)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`split` must be a sgdbench\.data\.Split"):
        train_test(mlp(), b, (s.X_train, s.y_train))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`epochs` must be ≥ 1, but got 0"):
        train_test(mlp(), b, s, epochs=0)
    with pytest.raises(TypeError, match=r"`optimizer` must be a torch\.optim\.Optimizer"):
        train_test(mlp(), b, s, optimizer="sgd")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`train_batches` has no batches"):
        train_test(mlp(), Batches(s.X_train, s.y_train, 500, drop_last=True), s)
    with pytest.raises(ValueError, match="`model` is on meta but `split` is on cpu"):
        train_test(mlp().to("meta"), b, s)


def test_injected_step_ops_add_work_not_numbers() -> None:
    """SGDBENCH_INJECT_STEP_OPS (for checking the instruction gate) swaps in a train_epoch with
    extra tensor ops per step; unset, the plain one runs. Either trains to the same numbers."""
    import os
    import subprocess
    import sys

    code = (
        "import torch; from sgdbench import training; from sgdbench.data import two_moons, Batches;"
        "from sgdbench.models import mlp; s = two_moons(); torch.manual_seed(0); m = mlp();"
        "o = torch.optim.SGD(m.parameters(), lr=0.1);"
        "b = Batches(s.X_train, s.y_train, 32);"
        "training.train_epoch(m, b, o, torch.nn.CrossEntropyLoss());"
        "print(training.train_epoch.__name__, float(sum(p.sum() for p in m.parameters())))"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "SGDBENCH_INJECT_STEP_OPS": k},
            capture_output=True, text=True, check=True,
        ).stdout.split()
        for k in ("0", "2", "0.4")
    ]  # fmt: skip
    assert outs[0][0] == "train_epoch" and outs[1][0] == "_train_epoch_with_injected_ops"
    assert outs[2][0] == "_train_epoch_with_injected_ops"
    assert outs[0][1] == outs[1][1] == outs[2][1]


@pytest.mark.parametrize(("rate", "ops"), [(1.0, 25), (0.4, 10), (0.6, 15), (2.0, 50)])
def test_injected_step_ops_at_a_fractional_rate(
    monkeypatch: pytest.MonkeyPatch, rate: float, ops: int
) -> None:
    """SGDBENCH_INJECT_STEP_OPS=r plants r ops per step on average (25 steps here)."""
    from sgdbench import training
    from sgdbench.data import Batches, two_moons
    from sgdbench.models import mlp

    calls = []
    add = torch.add
    monkeypatch.setattr(torch, "add", lambda *a, **k: calls.append(1) or add(*a, **k))
    monkeypatch.setattr(training, "_INJECT_STEP_OPS", rate)
    s = two_moons()
    m = mlp()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    batches = Batches(s.X_train, s.y_train, 32)
    training._train_epoch_with_injected_ops(m, batches, opt, torch.nn.CrossEntropyLoss())
    assert len(calls) == ops
