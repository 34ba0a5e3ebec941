"""Quick versions of the chapter's claims (the full run: `python -m sgdbench claims`, whose
output is results/CLAIMS.md). Fewer seeds and epochs; every threshold below was set from what
the full run measured, with the margin stated beside it."""

from __future__ import annotations

import pytest
import torch

from sgdbench import claims
from sgdbench.data import Batches, two_moons
from sgdbench.models import mlp
from sgdbench.training import History, train_test

pytestmark = pytest.mark.claims
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def split():  # type: ignore[no-untyped-def]
    return two_moons()


@pytest.fixture(scope="module")
def runs(split) -> dict[str, list[History]]:  # type: ignore[no-untyped-def]
    return claims.sgd_gd_runs(split, SEEDS, epochs=30)


def test_sgd_reaches_low_loss_faster(runs) -> None:  # type: ignore[no-untyped-def]
    """Claim 1 at epochs 5, 10 and 30 (full run: 5, 10, 100): SGD-32 below GD in every seed."""
    c = claims.claim_sgd_faster(runs, (5, 10, 30))
    assert c.holds, c.measured


def test_test_accuracy_mostly_above_train_for_sgd(runs) -> None:  # type: ignore[no-untyped-def]
    """Claim 2: holds for SGD-32 (the share of epochs with test > train accuracy exceeds 0.5);
    GD is reported, not asserted."""
    c = claims.claim_test_above_train(runs)
    assert c.holds, c.measured


def test_sgd_trajectory_is_noisier(runs) -> None:  # type: ignore[no-untyped-def]
    """Claim 3: SGD-32's non-monotone test-loss variation exceeds GD's in every seed."""
    c = claims.claim_noisier(runs)
    assert c.holds, c.measured
    assert claims.roughness([3.0, 2.0, 1.0, 0.5], start=1) == 0.0  # monotone: no noise
    assert claims.roughness([1.0, 2.0, 1.0], start=1) == pytest.approx(2.0)
    assert claims.roughness([1.0, 0.5]) == 0.0  # shorter than start: nothing to measure


def test_weight_decay_strong_and_usual(split) -> None:  # type: ignore[no-untyped-def]
    """Claim 4 with λ ∈ {0, 1e-4, 0.1}, 2 seeds, 30 epochs."""
    c = claims.claim_weight_decay(split, (0, 1), epochs=30, decays=(0.0, 1e-4, 0.1))
    assert c.holds, c.measured


def test_simplenet_eval_deterministic_train_random() -> None:
    """Claim 5a on 20 seeds: eval identical always; train outputs differ in most seeds."""
    c = claims.claim_dropout_eval(range(20))
    assert c.holds, c.measured
    assert c.data["train_differ"] >= 15, c.measured


def test_dropout_gap_is_reported(split) -> None:  # type: ignore[no-untyped-def]
    """Claim 5b (reported, not asserted): both variants train, gaps are finite numbers."""
    c = claims.claim_dropout_gap(split, (0,), epochs=5, width=32)
    gaps = c.data["gaps"]
    assert set(gaps) == {"no dropout", "dropout 0.5"} and c.holds is None
    assert all(abs(g) < 1 for v in gaps.values() for g in v["acc_gap"])


def test_sharpness_proxy_and_batch_sweep(split) -> None:  # type: ignore[no-untyped-def]
    """Claim 6 (reported, not asserted); and the proxy itself: a trained net sits in a valley,
    so random perturbations raise its loss on average, and its weights come back untouched."""
    torch.manual_seed(0)
    model = mlp()
    train_test(model, Batches(split.X_train, split.y_train, 32, shuffle=True), split, epochs=5)
    before = [p.detach().clone() for p in model.parameters()]
    assert claims.sharpness(model, split) > 0
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    c = claims.claim_sharp_flat(split, (0,), epochs=5, batch_sizes=(32, 800))
    assert c.holds is None and set(c.data["rows"]) == {"32", "800"}
    assert -1 <= c.data["rho_sharpness"] <= 1
