"""Claims 12–13: the chapter's caveat about its SGD-vs-GD comparison, per update and per second.

Section "Training with SGD in Pytorch": "Strictly speaking, this comparison is not entirely
fair, since SGD performs multiple parameter updates within each epoch, whereas gradient descent
performs only a single update. Nevertheless, the comparison remains meaningful because, after
each epoch, both methods have processed the entire training dataset once."

The runs are those of claims 1–3 (SGD-32 and GD, same seeds and initial weights). The test loss
is compared at three matched budgets, per seed:

- epochs: after E epochs each (claim 1's comparison);
- parameter updates: after U = E updates each, GD's total; SGD-32 makes ⌈800/32⌉ = 25 per
  epoch, so that is its epoch ⌊U/25⌋;
- seconds of training: after S = GD's total training seconds (sum of ``History.epoch_seconds``,
  the training passes only); SGD-32 at its last epoch whose cumulative seconds are ≤ S.
"""

from __future__ import annotations

import itertools
from typing import Any

from sgdbench.claims._core import Claim, bands, span
from sgdbench.claims._stats import share
from sgdbench.experiments import GD, SGD_32
from sgdbench.training import History

__all__ = ["claim_fair_per_second", "claim_fair_per_update", "cumulative_seconds", "matched"]

N_TRAIN = 800  # the chapter's training set: 80 % of make_moons(n_samples=1000)
SGD_STEPS = -(-N_TRAIN // (SGD_32.batch_size or N_TRAIN))  # updates per SGD-32 epoch: 25


def cumulative_seconds(h: History) -> list[float]:
    """Training seconds elapsed at the end of each epoch."""
    return list(itertools.accumulate(h.epoch_seconds))


def matched(
    sgd: History, gd: History, budget: str, steps_per_epoch: int
) -> tuple[int | None, float | None, float]:
    """(SGD epoch, SGD test loss, GD test loss) at GD's whole budget of ``budget``:
    "updates" or "seconds"; the SGD epoch is None when its first epoch already exceeds it."""
    if budget == "updates":
        epoch: int | None = len(gd) // steps_per_epoch or None
    elif budget == "seconds":
        limit = sum(gd.epoch_seconds)
        epoch = sum(s <= limit for s in cumulative_seconds(sgd)) or None
    else:
        raise ValueError(f"`budget` must be 'updates' or 'seconds', but got {budget!r}")
    sgd_loss = sgd.test_loss[epoch - 1] if epoch is not None else None
    return epoch, sgd_loss, gd.test_loss[-1]


def _compare(
    runs: dict[str, list[History]], budget: str, steps: int = SGD_STEPS
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"sgd_epoch": [], "sgd": [], "gd": [], "gd_seconds": []}
    for s, g in zip(runs[SGD_32.name], runs[GD.name], strict=True):
        e, ls, lg = matched(s, g, budget, steps)
        out["sgd_epoch"].append(float(e or 0))
        out["sgd"].append(float("nan") if ls is None else ls)
        out["gd"].append(lg)
        out["gd_seconds"].append(sum(g.epoch_seconds))
    return out


def _curves(runs: dict[str, list[History]]) -> dict[str, dict[str, list[list[float]]]]:
    """Per method: each seed's test loss and cumulative training seconds, epoch by epoch."""
    return {
        name: {
            "test_loss": [h.test_loss for h in hs],
            "seconds": [cumulative_seconds(h) for h in hs],
        }
        for name, hs in runs.items()
    }


def _per_epoch_wins(runs: dict[str, list[History]]) -> int:
    return sum(
        s.test_loss[-1] < g.test_loss[-1]
        for s, g in zip(runs[SGD_32.name], runs[GD.name], strict=True)
    )


def claim_fair_per_update(runs: dict[str, list[History]], n_train: int = N_TRAIN) -> Claim:
    """Claim 12: at GD's number of updates, is SGD-32 still ahead? (``n_train``: the training
    set's size, which fixes SGD-32's updates per epoch)"""
    steps = -(-n_train // (SGD_32.batch_size or n_train))
    c: dict[str, Any] = dict(_compare(runs, "updates", steps))
    n, epochs = len(c["gd"]), len(runs[GD.name][0])
    gd_ahead = sum(g <= s for g, s in zip(c["gd"], c["sgd"], strict=True))
    ok = gd_ahead > n / 2
    return Claim(
        "fair-per-update",
        "“Strictly speaking, this comparison is not entirely fair, since SGD performs multiple "
        "parameter updates within each epoch, whereas gradient descent performs only a single "
        "update.”",
        f"after {epochs} epochs: SGD-32 lower test loss in {share(_per_epoch_wins(runs), n)} of "
        f"seeds; after {epochs} updates each (SGD-32 at epoch {c['sgd_epoch'][0]:.0f}): test "
        f"loss SGD-32 {span(c['sgd'], '.4f')}, GD {span(c['gd'], '.4f')}; GD at or below SGD-32 "
        f"in {share(gd_ahead, n)} of seeds",
        (
            f"holds: counted per update GD is ahead, in {gd_ahead}/{n} seeds, so SGD's lead per "
            "epoch comes from its extra updates"
            if ok
            else "does not hold here: SGD-32 is ahead even at an equal number of updates"
        ),
        "holds (the caveat matters) if at GD's total number of updates GD's test loss is at or "
        "below SGD-32's in more than half the seeds",
        ok,
        {
            **c,
            "curves": {name: bands([h.test_loss for h in hs]) for name, hs in runs.items()},
            "steps_per_epoch": {SGD_32.name: steps, GD.name: 1},
        },
        "GD's test loss at or below SGD-32's after GD's number of updates (same seed)",
        [g <= s for g, s in zip(c["gd"], c["sgd"], strict=True)],
    )


def claim_fair_per_second(runs: dict[str, list[History]]) -> Claim:
    """Claim 13: at GD's training seconds, is SGD-32 ahead? (the chapter's efficiency argument)"""
    c = _compare(runs, "seconds")
    n = len(c["gd"])
    done = [(s, g) for s, g in zip(c["sgd"], c["gd"], strict=True) if s == s]  # s == s: not NaN
    sgd_ahead = sum(s < g for s, g in done)
    ok = sgd_ahead > n / 2
    sgd_reached = [s for s, _ in done]
    return Claim(
        "fair-per-second",
        "“SGD is not only more efficient in its computation of the gradients, it also has many "
        "theoretical advantages to gradient descent.” (per second of training, on 800 points)",
        f"GD's training seconds {span(c['gd_seconds'], '.3f')}; SGD-32 within them reached epoch "
        f"{span(c['sgd_epoch'], '.1f')}; test loss there SGD-32 "
        + (span(sgd_reached, ".4f") if sgd_reached else "— (no epoch)")
        + f", GD {span(c['gd'], '.4f')}; SGD-32 lower in {sgd_ahead}/{n} seeds",
        (
            f"holds: per second of training SGD-32 is still ahead, in {sgd_ahead}/{n} seeds"
            if ok
            else f"does not hold here: per second of training SGD-32 is ahead in only "
            f"{sgd_ahead}/{n} seeds on this small data set"
        ),
        "holds if, within GD's total training seconds (same seed), SGD-32's test loss is below "
        "GD's in more than half the seeds; seconds are training-pass wall time on a machine that "
        "may be shared with other jobs, compared within one run",
        ok,
        {**c, "curves": _curves(runs)},
        "SGD-32's test loss below GD's within GD's training seconds (same seed)",
        [s == s and s < g for s, g in zip(c["sgd"], c["gd"], strict=True)],
    )
