"""Claims 1–3: SGD-32 against full-batch GD, section "Training with SGD in Pytorch"."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence

from sgdbench.claims._core import Claim, Progress, span, stacked
from sgdbench.claims._stats import mean_ci, share
from sgdbench.data import Split
from sgdbench.experiments import GD, SGD_32
from sgdbench.stacked import SeedRuns
from sgdbench.training import History

__all__ = [
    "claim_noisier",
    "claim_sgd_faster",
    "claim_test_above_train",
    "roughness",
    "sgd_gd_runs",
]


def claim_sgd_faster(runs: dict[str, list[History]], epochs_at: Sequence[int]) -> Claim:
    """Claim 1: at each epoch in ``epochs_at``, SGD-32's test loss is below GD's, same seed."""
    sgd, gd = runs[SGD_32.name], runs[GD.name]
    rows, all_hold = [], True
    per_seed = [True] * len(sgd)
    gaps_at: dict[str, list[float]] = {}
    for e in epochs_at:
        gaps = [g.test_loss[e - 1] - s.test_loss[e - 1] for s, g in zip(sgd, gd, strict=True)]
        gaps_at[str(e)] = gaps
        wins = sum(gap > 0 for gap in gaps)
        per_seed = [ok and gap > 0 for ok, gap in zip(per_seed, gaps, strict=True)]
        all_hold &= wins == len(gaps)
        rows.append(
            f"epoch {e}: SGD lower in {share(wins, len(gaps))} of seeds, "
            f"GD − SGD test loss {span(gaps, '.4f')}, mean {mean_ci(gaps)}"
        )
    return Claim(
        "sgd-faster",
        "“The resulting optimization trajectories show that SGD reaches high accuracies and "
        "low losses much more quickly than gradient descent.”",
        "; ".join(rows),
        "holds" if all_hold else "does not hold in every seed",
        f"holds if SGD-32's test loss is below GD's for every seed at epochs {list(epochs_at)}",
        all_hold,
        {"epochs": list(epochs_at), "gaps": gaps_at},
        f"SGD-32's test loss below GD's at every epoch of {list(epochs_at)}",
        per_seed,
    )


def _fraction_test_above(h: History) -> float:
    return statistics.fmean(te > tr for te, tr in zip(h.test_acc, h.train_acc, strict=True))


def claim_test_above_train(runs: dict[str, list[History]]) -> Claim:
    """Claim 2: test accuracy is most often (in > half the epochs) above train accuracy."""
    parts, verdicts, fractions = [], {}, {}
    for name in (SGD_32.name, GD.name):
        fr = fractions[name] = [_fraction_test_above(h) for h in runs[name]]
        above = share(sum(f > 0.5 for f in fr), len(fr))
        verdicts[name] = statistics.fmean(fr) > 0.5
        parts.append(
            f"{name}: share of epochs with test acc > train acc {span(fr, '.2f')}, mean "
            f"{mean_ci(fr, '.3f')}; above half the epochs in {above} of seeds"
        )
    sgd_ok, gd_ok = verdicts[SGD_32.name], verdicts[GD.name]
    return Claim(
        "test-above-train",
        "“Quite uncommonly, the test accuracy is here most often higher than the train accuracy.”",
        "; ".join(parts),
        ("holds" if sgd_ok else "does not hold")
        + f" for SGD-32; {'also holds' if gd_ok else 'does not hold'} for GD",
        "holds if the share of epochs with test acc strictly above train acc, averaged over "
        "seeds, exceeds 0.5",
        sgd_ok,
        {
            "gd_holds": gd_ok,
            "final_acc": {
                name: {
                    "train": statistics.fmean(h.train_acc[-1] for h in runs[name]),
                    "test": statistics.fmean(h.test_acc[-1] for h in runs[name]),
                }
                for name in (SGD_32.name, GD.name)
            },
        },
        "SGD-32's test accuracy above its train accuracy in more than half the epochs",
        [f > 0.5 for f in fractions[SGD_32.name]],
    )


def roughness(values: Sequence[float], start: int = 10) -> float:
    """Non-monotone variation of a curve from epoch ``start`` on: Σ|Δ| − |last − first|.

    Zero for a monotone curve however fast it moves; it counts only the back-and-forth, which
    is what "noisy progress" means (a steadily falling GD loss has large |Δ| but no noise).
    """
    v = values[min(start, len(values)) - 1 :]  # a run shorter than ``start``: its last epoch
    total = sum(abs(b - a) for a, b in itertools.pairwise(v))
    return total - abs(v[-1] - v[0])


def _turned(hs: Sequence[History], start: int = 10) -> int:
    """Seeds whose test loss from epoch ``start`` falls to a minimum and then rises again by
    more than 0.01: a single turn (overfitting), which the variation measure also counts."""
    count = 0
    for h in hs:
        v = h.test_loss[min(start, len(h)) - 1 :]
        low = min(range(len(v)), key=v.__getitem__)
        count += 0 < low < len(v) - 1 and v[-1] - v[low] > 0.01 and v[0] - v[low] > 0.01
    return count


def claim_noisier(runs: dict[str, list[History]]) -> Claim:
    """Claim 3: SGD's test-loss trajectory is noisier than GD's."""
    sgd = [roughness(h.test_loss) for h in runs[SGD_32.name]]
    gd = [roughness(h.test_loss) for h in runs[GD.name]]
    wins = sum(s > g for s, g in zip(sgd, gd, strict=True))
    return Claim(
        "noisier",
        "“We observe the rather noisy progress of the trajectories.” (SGD, against the "
        "smoother GD curves of the comparison figure)",
        f"non-monotone variation of the test loss from epoch "
        f"{min(10, len(runs[GD.name][0]))} (Σ|Δ| − |net change|): "
        f"SGD-32 {span(sgd, '.4f')}, GD {span(gd, '.4f')}; SGD higher in "
        f"{share(wins, len(sgd))} of seeds",
        "holds" if wins == len(sgd) else "does not hold in every seed",
        "holds if SGD-32's non-monotone variation exceeds GD's in every seed",
        wins == len(sgd),
        {
            "sgd": sgd,
            "gd": gd,
            "turned": {name: _turned(runs[name]) for name in (SGD_32.name, GD.name)},
        },
        "SGD-32's non-monotone variation of the test loss above GD's",
        [s > g for s, g in zip(sgd, gd, strict=True)],
    )


def sgd_gd_runs(
    split: Split, seeds: Sequence[int], epochs: int, progress: Progress = None
) -> dict[str, SeedRuns]:
    """The SGD-32 and GD runs claims 1–3 read (the reproduce experiment), stacked."""
    return {
        m.name: stacked(
            split, seeds, epochs, m.name, progress, batch_size=m.batch_size, shuffle=m.shuffle
        )
        for m in (SGD_32, GD)
    }
