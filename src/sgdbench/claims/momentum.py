"""Claims 9–10: momentum, section "Properties of SGD".

"Additionally, SGD can greatly benefit from additional optimization techniques like momentum."

SGD-32 on the seed's 2-16-2 network in three settings: momentum μ = 0.9 at lr η = 0.1 (the
seed's optimizer, reused from claims 1–3), μ = 0 at the same η = 0.1, and μ = 0 at the matched
effective step η/(1 − μ) = 1.0 (in a steady gradient, momentum's steps sum to that), so that
a gain is not only a larger step. Measured: the epoch at which the test accuracy first reaches
95 %, the training seconds to it (the sum of ``History.epoch_seconds`` up to that epoch: wall
time of the training passes only, on whatever machine ran it), and the final losses.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from sgdbench.claims._core import Claim, Progress, bands, span, stacked
from sgdbench.claims._stats import median_ci, share
from sgdbench.data import Split
from sgdbench.experiments import SGD_32, first_epoch_reaching
from sgdbench.training import SEED_LR, SEED_MOMENTUM, History

__all__ = ["TARGET_ACC", "claim_momentum", "claim_momentum_matched", "momentum_runs"]

TARGET_ACC = 0.95
MATCHED_LR = SEED_LR / (1 - SEED_MOMENTUM)


def momentum_runs(
    split: Split, seeds: Sequence[int], epochs: int, progress: Progress = None
) -> dict[str, list[History]]:
    """SGD-32 without momentum at lr 0.1 and at the matched lr 1.0 (stacked)."""
    return {
        f"μ=0, lr={lr:g}": stacked(
            split,
            seeds,
            epochs,
            f"μ=0, lr={lr:g}",
            progress,
            batch_size=SGD_32.batch_size,
            shuffle=SGD_32.shuffle,
            optimizer={"lr": lr, "momentum": 0.0},
        ).histories
        for lr in (SEED_LR, MATCHED_LR)
    }


def _to_target(hs: Sequence[History]) -> dict[str, list[float]]:
    """Per run: epochs and training seconds to 95 % test accuracy (never: epochs + 1, ∞)."""
    epochs, seconds = [], []
    for h in hs:
        e = first_epoch_reaching(h.test_acc, TARGET_ACC)
        epochs.append(float(e) if e is not None else float(len(h) + 1))
        if h.epoch_seconds:  # a sequential run's; the stacked trainer times seeds together
            seconds.append(sum(h.epoch_seconds[:e]) if e is not None else float("inf"))
    return {
        "epochs": epochs,
        "seconds": seconds,
        "final_train_loss": [h.train_loss[-1] for h in hs],
        "final_test_loss": [h.test_loss[-1] for h in hs],
    }


def _describe(name: str, r: dict[str, list[float]], epochs: int) -> str:
    reached = [e for e in r["epochs"] if e <= epochs]
    secs = [s for s in r["seconds"] if s != float("inf")]
    return (
        f"{name}: 95 % test acc reached in {share(len(reached), len(r['epochs']))} of seeds, "
        f"epoch median {median_ci(r['epochs'])}"
        + (f", training seconds median {statistics.median(secs):.3f}" if secs else "")
        + f"; final train loss {span(r['final_train_loss'], '.4f')}"
    )


def _table(
    momentum: Sequence[History], plain: dict[str, list[History]]
) -> dict[str, dict[str, list[float]]]:
    return {
        f"μ={SEED_MOMENTUM}, lr={SEED_LR:g}": _to_target(momentum),
        **{k: _to_target(v) for k, v in plain.items()},
    }


def _pair(
    momentum: Sequence[History], plain: dict[str, list[History]], lr: float
) -> tuple[dict[str, dict[str, list[float]]], dict[str, list[float]], dict[str, list[float]], int]:
    """(every setting's table, μ=0.9's row, the row of μ=0 at ``lr``, epochs per run)."""
    t = _table(momentum, plain)
    return t, t[f"μ={SEED_MOMENTUM}, lr={SEED_LR:g}"], t[f"μ=0, lr={lr:g}"], len(momentum[0])


def _faster_and_lower(a: dict[str, list[float]], b: dict[str, list[float]], factor: float) -> bool:
    """a's median epochs to target ≤ factor × b's, and a's mean final train loss below b's."""
    return statistics.median(a["epochs"]) <= factor * statistics.median(b["epochs"]) and (
        statistics.fmean(a["final_train_loss"]) < statistics.fmean(b["final_train_loss"])
    )


SENTENCE = (
    "“Additionally, SGD can greatly benefit from additional optimization techniques like momentum.”"
)
SECONDS_NOTE = (
    "seconds are training-pass wall time summed to that epoch, on a machine that may be shared "
    "with other jobs (compare within this run only); stacked runs have none per seed"
)


def _per_seed(a: dict[str, list[float]], b: dict[str, list[float]], factor: float) -> list[bool]:
    """Per seed: a reached the target in ≤ factor × b's epochs and ended at a lower loss."""
    return [
        ea <= factor * eb and la < lb
        for ea, eb, la, lb in zip(
            a["epochs"], b["epochs"], a["final_train_loss"], b["final_train_loss"], strict=True
        )
    ]


def claim_momentum(momentum: Sequence[History], plain: dict[str, list[History]]) -> Claim:
    """Claim 9: μ = 0.9 against μ = 0 at the same lr 0.1."""
    t, mom, same, epochs = _pair(momentum, plain, SEED_LR)
    ok = _faster_and_lower(mom, same, 0.5)
    return Claim(
        "momentum",
        SENTENCE + " (SGD-32, momentum 0.9 against none, both at lr 0.1)",
        f"{_describe(f'μ={SEED_MOMENTUM}', mom, epochs)}; {_describe('μ=0', same, epochs)}",
        "holds: momentum reached 95 % in at most half the epochs and ended at a lower loss"
        if ok
        else "does not hold here at lr 0.1",
        "holds if the median epoch to 95 % test accuracy with μ=0.9 is at most half that with "
        f"μ=0 (a run that never reaches it counts as {epochs + 1}) and the mean final training "
        f"loss is lower; {SECONDS_NOTE}",
        ok,
        {
            "table": t,
            "curves": {
                f"μ={SEED_MOMENTUM}, lr={SEED_LR:g}": bands([h.test_acc for h in momentum]),
                **{k: bands([h.test_acc for h in hs]) for k, hs in plain.items()},
            },
        },
        "μ=0.9 reached 95 % test accuracy in at most half μ=0's epochs and ended at a lower "
        "training loss (same seed)",
        _per_seed(mom, same, 0.5),
    )


def claim_momentum_matched(momentum: Sequence[History], plain: dict[str, list[History]]) -> Claim:
    """Claim 10: μ = 0.9 at lr 0.1 against μ = 0 at the matched effective step lr 1.0."""
    t, mom, big, epochs = _pair(momentum, plain, MATCHED_LR)
    ok = _faster_and_lower(mom, big, 1.0)
    return Claim(
        "momentum-matched",
        SENTENCE
        + f" (against plain SGD-32 at the matched effective step η/(1−μ) = {MATCHED_LR:g})",
        f"{_describe(f'μ={SEED_MOMENTUM}, lr={SEED_LR:g}', mom, epochs)}; "
        f"{_describe(f'μ=0, lr={MATCHED_LR:g}', big, epochs)}",
        (
            f"holds: median epochs to 95 % {statistics.median(mom['epochs']):g} against "
            f"{statistics.median(big['epochs']):g}, final train loss "
            f"{statistics.fmean(mom['final_train_loss']):.4f} against "
            f"{statistics.fmean(big['final_train_loss']):.4f}"
            if ok
            else "does not hold here: a plain step of the same effective size does as well"
        ),
        "holds if μ=0.9 at lr 0.1 reaches 95 % test accuracy in no more epochs (median) than "
        f"μ=0 at lr {MATCHED_LR:g} and ends at a lower mean final training loss; {SECONDS_NOTE}",
        ok,
        {"table": t},
        f"μ=0.9 at lr 0.1 reached 95 % in no more epochs than μ=0 at lr {MATCHED_LR:g} and "
        "ended at a lower training loss (same seed)",
        _per_seed(mom, big, 1.0),
    )
