"""sgdbench.data: the seed's two-moons pipeline and Batches ≡ DataLoader."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset

from sgdbench.data import DIGITS_TRAIN, Batches, Split, digits, two_moons


def test_two_moons_is_the_seed_pipeline() -> None:
    # The chapter's code, verbatim.
    X, y = make_moons(n_samples=1000, noise=0.2, random_state=42)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    s = two_moons()
    assert torch.equal(s.X_train, torch.tensor(X_train, dtype=torch.float32))
    assert torch.equal(s.X_test, torch.tensor(X_test, dtype=torch.float32))
    assert torch.equal(s.y_train, torch.tensor(y_train, dtype=torch.long))
    assert torch.equal(s.y_test, torch.tensor(y_test, dtype=torch.long))
    assert s.X_train.shape == (800, 2) and s.X_test.shape == (200, 2)
    assert s.X_train.dtype == torch.float32 and s.y_train.dtype == torch.int64


def test_two_moons_arguments_change_the_data() -> None:
    s = two_moons(n_samples=200, noise=0.1, test_size=0.5, random_state=1)
    assert s.X_train.shape == (100, 2) and s.y_test.shape == (100,)
    assert set(s.y_train.tolist()) == {0, 1}
    assert not torch.equal(two_moons(random_state=1).X_train, two_moons().X_train)


def test_digits_is_the_chapters_pipeline_on_the_digits() -> None:
    """load_digits → StandardScaler on all images → stratified split, float32 / int64."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X = StandardScaler().fit_transform(data.data)
    X_train, X_test, y_train, _ = train_test_split(
        X, data.target, train_size=DIGITS_TRAIN, stratify=data.target, random_state=42
    )
    s = digits()
    assert torch.equal(s.X_train, torch.tensor(X_train, dtype=torch.float32))
    assert torch.equal(s.X_test, torch.tensor(X_test, dtype=torch.float32))
    assert torch.equal(s.y_train, torch.tensor(y_train, dtype=torch.long))
    assert s.X_train.shape == (200, 64) and s.X_test.shape == (1597, 64)
    assert (s.features, s.classes) == (64, 10)
    counts = torch.bincount(s.y_train, minlength=10)
    assert counts.min() >= 19 and counts.max() <= 21  # stratified: 20 ± 1 per class
    assert s.y_train.dtype == torch.int64 and s.X_train.dtype == torch.float32
    assert torch.equal(digits().X_train, s.X_train)  # fixed: the same split every call


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_train": 5}, ValueError, "`n_train` must be ≥ 10, but got 5"),
        ({"n_train": 1790}, ValueError, "`n_train` must leave at least 10 test images"),
        ({"n_train": 20.0}, TypeError, "`n_train` must be an int"),
        ({"random_state": -3}, ValueError, "`random_state` must be ≥ 0"),
    ],
)
def test_digits_bad_input(kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        digits(**kwargs)  # type: ignore[arg-type]


def test_split_to_moves_every_tensor(device: torch.device) -> None:
    s = two_moons(n_samples=40).to(device)
    assert isinstance(s, Split) and s.device.type == device.type
    assert all(t.device.type == device.type for t in (s.X_train, s.y_train, s.X_test, s.y_test))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 2}, ValueError, "`n_samples` must be ≥ 4, but got 2"),
        ({"n_samples": 10.5}, TypeError, "`n_samples` must be an int"),
        ({"noise": -0.1}, ValueError, r"`noise` must be in \[0.0, inf\]"),
        ({"test_size": 1.0}, ValueError, r"`test_size` must be in \(0.0, 1.0\)"),
        ({"test_size": 0}, ValueError, r"`test_size` must be in \(0.0, 1.0\)"),
        ({"random_state": -1}, ValueError, "`random_state` must be ≥ 0"),
    ],
)
def test_two_moons_bad_input(kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        two_moons(**kwargs)  # type: ignore[arg-type]


def _epochs(loader: object, k: int) -> list[list[tuple[torch.Tensor, torch.Tensor]]]:
    return [[(xb.clone(), yb.clone()) for xb, yb in loader] for _ in range(k)]  # type: ignore[attr-defined]


def assert_same_as_dataloader(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    shuffle: bool,
    drop_last: bool,
    generator_seed: int | None,
    epochs: int = 3,
) -> None:
    """Batches and DataLoader from the same RNG state: same batches, same RNG state after."""
    gens = [
        None if generator_seed is None else torch.Generator().manual_seed(generator_seed)
        for _ in range(2)
    ]
    torch.manual_seed(1234)
    dl = DataLoader(
        TensorDataset(X.cpu(), y.cpu()),
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        generator=gens[0],
    )
    expected = _epochs(dl, epochs)
    rng_expected = torch.get_rng_state()
    torch.manual_seed(1234)
    ours = Batches(X, y, batch_size, shuffle=shuffle, drop_last=drop_last, generator=gens[1])
    got = _epochs(ours, epochs)
    assert len(ours) == len(dl)
    assert [len(e) for e in got] == [len(e) for e in expected]
    for e, (ep_exp, ep_got) in enumerate(zip(expected, got, strict=True)):
        for b, ((xe, ye), (xg, yg)) in enumerate(zip(ep_exp, ep_got, strict=True)):
            assert xg.device == X.device
            assert torch.equal(xg.cpu(), xe) and torch.equal(yg.cpu(), ye), (
                f"epoch {e} batch {b} differs from DataLoader"
            )
    assert torch.equal(torch.get_rng_state(), rng_expected), "global RNG left in another state"
    if gens[0] is not None:
        assert torch.equal(gens[1].get_state(), gens[0].get_state()), "generator state differs"


@pytest.mark.parametrize(
    ("n", "batch_size"),
    [(1, 1), (7, 3), (32, 32), (33, 32), (100, 7), (800, 32), (800, 800), (10, 64)],
)
@pytest.mark.parametrize("shuffle", [False, True], ids=["seq", "shuffle"])
@pytest.mark.parametrize("drop_last", [False, True], ids=["keep", "drop"])
@pytest.mark.parametrize("generator_seed", [None, 7], ids=["global", "gen"])
def test_batches_equal_dataloader(
    n: int, batch_size: int, shuffle: bool, drop_last: bool, generator_seed: int | None
) -> None:
    X = torch.randn(n, 3, generator=torch.Generator().manual_seed(n))
    y = torch.arange(n)
    assert_same_as_dataloader(X, y, batch_size, shuffle, drop_last, generator_seed)


def test_batches_equal_dataloader_on_device(device: torch.device) -> None:
    X, y = torch.randn(100, 2).to(device), torch.arange(100).to(device)
    assert_same_as_dataloader(X, y, 32, True, False, None)
    assert_same_as_dataloader(X, y, 32, True, True, 3)


def test_batches_partition_each_epoch() -> None:
    n, bs = 103, 10
    batches = Batches(torch.arange(n).float(), torch.arange(n), bs, shuffle=True)
    orders = []
    for _ in range(2):
        seen = torch.cat([yb for _, yb in batches])
        assert sorted(seen.tolist()) == list(range(n))  # each sample exactly once
        orders.append(seen)
    assert not torch.equal(*orders)  # reshuffled every epoch


def test_batches_without_shuffle_are_views() -> None:
    X, y = torch.randn(50, 2), torch.arange(50)
    (xb, yb), *_ = Batches(X, y, 50)
    assert xb.data_ptr() == X.data_ptr() and yb.data_ptr() == y.data_ptr()


def test_batches_len_and_repr() -> None:
    X, y = torch.zeros(10, 1), torch.zeros(10)
    assert len(Batches(X, y, 3)) == 4
    assert len(Batches(X, y, 3, drop_last=True)) == 3
    assert len(Batches(X, y, 11, drop_last=True)) == 0
    assert "batch_size=3" in repr(Batches(X, y, 3))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((torch.zeros(3, 2), torch.zeros(4), 1), {}, ValueError, "same length, but got 3 and 4"),
        ((torch.zeros(0, 2), torch.zeros(0), 1), {}, ValueError, "empty"),
        ((torch.zeros(3, 2), torch.zeros(3), 0), {}, ValueError, "`batch_size` must be ≥ 1"),
        ((torch.zeros(3, 2), torch.zeros(3), 2.0), {}, TypeError, "`batch_size` must be an int"),
        ((np.zeros((3, 2)), torch.zeros(3), 1), {}, TypeError, "must be torch.Tensor"),
        ((torch.zeros(3), torch.tensor(1.0), 1), {}, ValueError, "first .sample. dimension"),
        ((torch.zeros(3), torch.zeros(3), 1), {"generator": 5}, TypeError, "`generator` must"),
        ((torch.zeros(3), torch.zeros(3), 1), {"shuffle": 1}, TypeError, "must be bool"),
    ],
)
def test_batches_bad_input(
    args: tuple[object, ...], kwargs: dict[str, object], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        Batches(*args, **kwargs)  # type: ignore[arg-type]


def test_batches_epochs_are_independent_iterators() -> None:
    X, y = torch.arange(10).float(), torch.arange(10)
    b = Batches(X, y, 4, shuffle=True, generator=torch.Generator().manual_seed(0))
    first = list(itertools.islice(iter(b), 1))
    assert len(first) == 1 and len(list(b)) == 3
