"""Mini-batches (chapter, Algorithm 11): "Divide the data into mini-batches B_1 ∪ … ∪ B_m = D",
"for each batch B: θ ← θ − η∇L(B, θ)"; "gradient descent [is] setting the batch size equal to
the size of the training set". And Batches ≡ the chapter's DataLoader.
"""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from properties._support import DEVICES, assert_close, assert_equal, seeds
from sgdbench.data import Batches
from sgdbench.reference import SGD

sizes = st.integers(1, 200)
batch_sizes = st.integers(1, 64)


@pytest.mark.parametrize("device", DEVICES)
@given(n=sizes, batch_size=batch_sizes, seed=seeds, generator=st.booleans())
def test_each_epoch_partitions_the_data(
    device: str, n: int, batch_size: int, seed: int, generator: bool
) -> None:
    """B_1 ∪ … ∪ B_m = D, each sample exactly once per epoch (drop_last=False), batches of
    batch_size but the last; with drop_last, exactly the n mod b leftover samples are missing."""
    X = torch.arange(n, device=device).double()
    gen = torch.Generator().manual_seed(seed) if generator else None
    torch.manual_seed(seed)
    for drop_last in (False, True):
        batches = Batches(X, X.long(), batch_size, shuffle=True, drop_last=drop_last, generator=gen)
        for _ in range(2):
            seen = [yb for _, yb in batches]
            got = torch.cat(seen).sort().values if seen else torch.empty(0, dtype=torch.long)
            sizes_ = [len(b) for b in seen]
            if drop_last:
                assert sizes_ == [batch_size] * (n // batch_size)
                assert len(got.unique()) == len(got) == n - n % batch_size
            else:
                assert sizes_[:-1] == [batch_size] * (len(sizes_) - 1)
                assert_equal(
                    "samples seen in one epoch", got, X.long(), f"Batches(n={n}, b={batch_size})"
                )


@pytest.mark.parametrize("device", DEVICES)
@given(n=st.integers(2, 100), seed=seeds, lr=st.floats(0.01, 1.0), shuffle=st.booleans())
def test_full_batch_sgd_is_gradient_descent(
    device: str, n: int, seed: int, lr: float, shuffle: bool
):
    """Batch size n gives exactly one step per epoch, and that step is θ − η∇L(D, θ).

    Without shuffling the batch is D itself and the step is bitwise the hand-computed one
    (θ − ηg formed as ``add(g, alpha=−η)``, one rounding, as every SGD update is). With
    shuffling the batch is D reordered, and the mean loss sums in another order: equal within
    float64 rounding (rtol 1e-12: n ≤ 100 terms of ≈1e-16 relative error each; atol 1e-13
    for parameters that cancel to ≈0, where the error is ≈1e-16 of ηg, |ηg| ≲ 10).
    """
    torch.manual_seed(seed)
    X, y = torch.randn(n, 2, dtype=torch.float64), torch.randint(0, 2, (n,))
    X, y = X.to(device), y.to(device)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2)).double().to(device)
    gd = copy.deepcopy(model)
    steps = 0
    opt = SGD(model.parameters(), lr=lr)
    batches = Batches(X, y, n, shuffle=shuffle)
    for xb, yb in batches:  # one epoch of Algorithm 11
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()
        steps += 1
    assert steps == len(batches) == 1
    grads = torch.autograd.grad(nn.functional.cross_entropy(gd(X), y), list(gd.parameters()))
    with torch.no_grad():
        for i, (p, p_gd, g) in enumerate(
            zip(model.parameters(), gd.parameters(), grads, strict=False)
        ):
            expected = p_gd.add(g, alpha=-lr)  # θ − ηg, rounded as SGD's update rounds it
            if shuffle:
                assert_close(f"param {i}", p, expected, 1e-12, 1e-13, "shuffled full batch vs GD")
            else:
                assert_equal(f"param {i}", p, expected, "full batch vs GD")


BATCHES_GIVEN = {
    "n": sizes,
    "batch_size": batch_sizes,
    "shuffle": st.booleans(),
    "drop_last": st.booleans(),
    "generator_seed": st.none() | seeds,
    "epochs": st.integers(1, 3),
    "seed": seeds,
}


@pytest.mark.parametrize("batches_cls", [Batches], ids=["Batches"])
@given(**BATCHES_GIVEN)
def test_batches_equal_dataloader(
    batches_cls: type[Batches],
    n: int,
    batch_size: int,
    shuffle: bool,
    drop_last: bool,
    generator_seed: int | None,
    seed: int,
    epochs: int,
) -> None:
    """Batches yields DataLoader's batches bit for bit, epoch after epoch, and leaves the global
    RNG and the generator as DataLoader leaves them."""
    X = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    y = torch.arange(n)
    gens = [
        None if generator_seed is None else torch.Generator().manual_seed(generator_seed)
        for _ in range(2)
    ]
    loaders = [
        DataLoader(
            TensorDataset(X, y),
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            generator=gens[0],
        ),
        batches_cls(X, y, batch_size, shuffle=shuffle, drop_last=drop_last, generator=gens[1]),
    ]
    runs, states = [], []
    for loader in loaders:
        torch.manual_seed(seed)
        runs.append([[b for b in loader] for _ in range(epochs)])
        states.append(torch.get_rng_state())
    call = f"Batches(n={n}, batch_size={batch_size}, shuffle={shuffle}, drop_last={drop_last})"
    assert [len(e) for e in runs[1]] == [len(e) for e in runs[0]], f"batch counts [{call}]"
    for e, (ep_dl, ep_b) in enumerate(zip(*runs, strict=True)):
        for k, ((xd, yd), (xb, yb)) in enumerate(zip(ep_dl, ep_b, strict=True)):
            assert_equal(f"epoch {e} batch {k} X", xb, xd, call)
            assert_equal(f"epoch {e} batch {k} y", yb, yd, call)
    assert_equal("global RNG state after", states[1], states[0], call)
    if gens[0] is not None:
        assert_equal("generator state after", gens[1].get_state(), gens[0].get_state(), call)
