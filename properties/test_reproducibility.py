"""Reproducibility: one seed fixes everything (model init, shuffling, dropout), so a run is
bitwise repeatable, and another seed gives another run."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from properties._support import seeds
from sgdbench.data import Batches, two_moons
from sgdbench.training import train_test


@pytest.mark.slow  # ~12 s: nox -s slow
@given(seed=seeds, other=seeds, batch_size=st.sampled_from([8, 32, 160]))
def test_same_seed_same_history(seed: int, other: int, batch_size: int) -> None:
    """Reproducibility: one seed fixes init and shuffling, so the History is bitwise the same;
    another seed gives another History (different init ⇒ different first-epoch losses)."""
    split = two_moons(n_samples=200)

    def run(s: int):  # type: ignore[no-untyped-def]
        torch.manual_seed(s)
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
        batches = Batches(split.X_train, split.y_train, batch_size, shuffle=True)
        return train_test(model, batches, split, epochs=2)

    a = run(seed)
    assert a == run(seed), f"two runs from seed {seed} differ"
    if other != seed:
        assert a != run(other), f"seeds {seed} and {other} gave the same History"
