"""Claims 7–8: step-size decay, section "Properties of SGD".

"However, the randomness of SGD might also be a problem when it comes to the convergence of
this method. In fact, SGD requires a decreasing step-size to converge. Hence it requires a
learning rate scheduler, and a good learning rate scheduler is in practice often not trivial to
find."

SGD-32 with the seed's optimizer (lr η₀ = 0.1, momentum 0.9) under four schedules, each a
``torch.optim.lr_scheduler`` stepped once at the end of every epoch:

- constant: η₀ throughout (this is the seed's run, reused from claims 1–3);
- step: ``StepLR(step_size=⌊0.3·E⌋, gamma=0.1)``, η₀ × 0.1 at 30 %, 60 % and 90 % of E epochs;
- cosine: ``CosineAnnealingLR(T_max=E)``, from η₀ down to 0 at epoch E;
- 1/t: ``LambdaLR(lambda t: 1 / (1 + t / 10))``, η_t = η₀ / (1 + t/10) after t epochs.

Full-batch GD at the constant η₀ is measured alongside. SGD's noise floor is the training
loss's epoch-to-epoch fluctuation over the last K = 10 epochs, measured as its non-monotone
variation ``roughness`` (Σ|Δ| − |net change|): zero for a curve that only falls, however fast.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

import torch
from torch.optim import lr_scheduler

from sgdbench.claims._core import Claim, Progress, bands, span, stacked
from sgdbench.claims._stats import share
from sgdbench.claims.sgd_gd import roughness
from sgdbench.data import Split
from sgdbench.experiments import SGD_32
from sgdbench.training import SEED_LR, SEED_MOMENTUM, History

__all__ = [
    "SCHEDULES",
    "claim_gd_no_decay",
    "claim_sgd_needs_decay",
    "fluctuation",
    "schedule_runs",
]

LAST_EPOCHS = 10  # K: the window over which the noise floor is read

Schedule = Callable[[torch.optim.Optimizer, int], lr_scheduler.LRScheduler]
SCHEDULES: dict[str, Schedule] = {
    "step": lambda opt, epochs: lr_scheduler.StepLR(
        opt, step_size=max(1, epochs * 3 // 10), gamma=0.1
    ),
    "cosine": lambda opt, epochs: lr_scheduler.CosineAnnealingLR(opt, T_max=epochs),
    "1/t": lambda opt, epochs: lr_scheduler.LambdaLR(opt, lambda t: 1 / (1 + t / 10)),
}


def fluctuation(h: History, last: int = LAST_EPOCHS) -> float:
    """Non-monotone variation of the training loss over the last ``last`` epochs."""
    return roughness(h.train_loss, start=max(1, len(h) - last + 1))


def schedule_runs(
    split: Split, seeds: Sequence[int], epochs: int, progress: Progress = None
) -> dict[str, list[History]]:
    """SGD-32, the seed's optimizer, under each decaying schedule of :data:`SCHEDULES`
    (stacked; the scheduler steps after every epoch, as ``train_epochs(after_epoch=...)``)."""
    return {
        name: stacked(
            split,
            seeds,
            epochs,
            f"schedule {name}",
            progress,
            batch_size=SGD_32.batch_size,
            shuffle=SGD_32.shuffle,
            optimizer={"lr": SEED_LR, "momentum": SEED_MOMENTUM},
            schedule=lambda opt, make=make: make(opt, epochs),
        ).histories
        for name, make in SCHEDULES.items()
    }


def claim_sgd_needs_decay(constant: Sequence[History], decayed: dict[str, list[History]]) -> Claim:
    """Claim 7: every decaying schedule has a lower noise floor than the constant step."""
    base = [fluctuation(h) for h in constant]
    parts = [
        f"constant: fluctuation {span(base, '.4f')}, final train loss "
        f"{span([h.train_loss[-1] for h in constant], '.4f')}"
    ]
    per_seed = [True] * len(base)
    verdicts, table = (
        [],
        {
            "constant": {
                "fluctuation": base,
                "final_train_loss": [h.train_loss[-1] for h in constant],
            }
        },
    )
    for name, hs in decayed.items():
        fl = [fluctuation(h) for h in hs]
        wins = sum(f < b for f, b in zip(fl, base, strict=True))
        per_seed = [ok and f < b for ok, f, b in zip(per_seed, fl, base, strict=True)]
        ratio = (
            statistics.fmean(fl) / statistics.fmean(base)
            if statistics.fmean(base)
            else float("inf")
        )
        ok = wins == len(base) and ratio < 0.5
        verdicts.append(ok)
        final = [h.train_loss[-1] for h in hs]
        lower = sum(f < h.train_loss[-1] for f, h in zip(final, constant, strict=True))
        table[name] = {"fluctuation": fl, "final_train_loss": final}
        parts.append(
            f"{name}: fluctuation {span(fl, '.4f')} ({ratio:.2f}× constant's mean, lower in "
            f"{share(wins, len(base))} of seeds), final train loss {span(final, '.4f')} (below "
            f"constant's in {share(lower, len(base))})"
        )
    ok = all(verdicts)
    failed = [n for n, v in zip(decayed, verdicts, strict=True) if not v]
    return Claim(
        "sgd-needs-decay",
        "“In fact, SGD requires a decreasing step-size to converge. Hence it requires a learning "
        "rate scheduler.” (SGD-32, lr 0.1, momentum 0.9; step, cosine and 1/t decay against a "
        "constant step)",
        "; ".join(parts),
        "holds: every decaying schedule settled below the constant step's noise floor"
        if ok
        else f"does not hold here for {', '.join(failed)}",
        f"fluctuation = non-monotone variation (Σ|Δ| − |net change|) of the training loss over "
        f"the last {LAST_EPOCHS} epochs; holds if each decaying schedule's fluctuation is below "
        "the constant step's in every seed and its mean is below 0.5× the constant step's mean; "
        "the final training loss is reported, not judged (converging is not the same as "
        "reaching a lower loss)",
        ok,
        {
            "schedules": table,
            "curves": {
                "constant": bands([h.train_loss for h in constant]),
                **{k: bands([h.train_loss for h in hs]) for k, hs in decayed.items()},
            },
        },
        "every decaying schedule's fluctuation below the constant step's",
        per_seed,
    )


def claim_gd_no_decay(sgd_constant: Sequence[History], gd: Sequence[History]) -> Claim:
    """Claim 8: GD at a constant step has (almost) no noise floor; SGD at the same step has."""
    sgd_fl = [fluctuation(h) for h in sgd_constant]
    gd_fl = [fluctuation(h) for h in gd]
    wins = sum(g < 0.1 * s for g, s in zip(gd_fl, sgd_fl, strict=True))
    falling = sum(h.train_loss[-1] < h.train_loss[-min(LAST_EPOCHS, len(h))] for h in gd)
    ok = wins == len(gd)
    return Claim(
        "gd-no-decay",
        "“However, the randomness of SGD might also be a problem when it comes to the "
        "convergence of this method.” (so GD, without that randomness, needs no decay: GD and "
        "SGD-32 both at the constant lr 0.1, momentum 0.9)",
        f"fluctuation over the last {LAST_EPOCHS} epochs: GD {span(gd_fl, '.5f')}, SGD-32 "
        f"{span(sgd_fl, '.4f')}; GD below 0.1× SGD-32's in {share(wins, len(gd))} of seeds; "
        "GD's training loss still falling over those epochs in "
        f"{share(falling, len(gd))} (final "
        f"{span([h.train_loss[-1] for h in gd], '.4f')})",
        "holds: GD settles at a constant step where SGD keeps fluctuating"
        if ok
        else f"does not hold in every seed ({wins}/{len(gd)})",
        "holds if GD's fluctuation (as in the row above) is below 0.1× SGD-32's at the same "
        "constant step in every seed",
        ok,
        {"gd": gd_fl, "sgd": sgd_fl, "gd_curves": bands([h.train_loss for h in gd])},
        "GD's fluctuation below 0.1× SGD-32's (same seed)",
        [g < 0.1 * s for g, s in zip(gd_fl, sgd_fl, strict=True)],
    )
