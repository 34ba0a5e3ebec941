"""The chapter's empirical statements, each checked over many seeds (results/CLAIMS.md).

The chapter shows one run of each experiment. Here each statement is measured over ``seeds``
seeds and reported as mean [min, max] with a verdict whose rule is written beside it. Every
experiment uses the chapter's setup unless said otherwise: two moons (800/200), the 2-16-2 ReLU
network, ``torch.optim.SGD(lr=0.1, momentum=0.9)``, cross-entropy, 100 epochs, and
``torch.manual_seed(seed)`` before each model is built.

The claims live one concern per module: ``sgd_gd`` (SGD against GD), ``regularisation``
(weight decay, dropout), ``sharpness`` (sharp against flat minima, at matched training loss,
with the eigen-solver in ``hessian``), ``schedules`` (step-size decay), ``momentum``,
``lowrank`` (dropout and the rank of W), ``fair`` (SGD against GD per update and per second);
``_core`` holds the :class:`Claim` row they all return and the epoch-at-a-time training loop,
``_stats`` the confidence intervals; ``run`` trains what the claims read on one data set (two
moons or digits, stacked over the seeds) and judges them; ``report`` turns the rows into
results/CLAIMS.md, ``figures`` draws each data set's figures.
"""

from __future__ import annotations

from sgdbench.claims._core import Claim, Progress, span, train_epochs
from sgdbench.claims.fair import claim_fair_per_second, claim_fair_per_update
from sgdbench.claims.hessian import Eigen, hessian_operator, power_iteration, top_eigenvalue
from sgdbench.claims.lowrank import claim_dropout_low_rank, effective_rank, rank_above
from sgdbench.claims.momentum import claim_momentum, claim_momentum_matched, momentum_runs
from sgdbench.claims.regularisation import (
    WEIGHT_DECAYS,
    claim_dropout_eval,
    claim_dropout_gap,
    claim_weight_decay,
    weight_decay_runs,
    weight_norms,
    wide_runs,
)
from sgdbench.claims.schedules import (
    SCHEDULES,
    claim_gd_no_decay,
    claim_sgd_needs_decay,
    fluctuation,
    schedule_runs,
)
from sgdbench.claims.sgd_gd import (
    claim_noisier,
    claim_sgd_faster,
    claim_test_above_train,
    roughness,
    sgd_gd_runs,
)
from sgdbench.claims.sharpness import (
    BATCH_SIZES,
    TARGET_LOSS,
    claim_sharp_flat,
    sharpness,
    spearman,
)

__all__ = [
    "BATCH_SIZES",
    "SCHEDULES",
    "TARGET_LOSS",
    "WEIGHT_DECAYS",
    "Claim",
    "Eigen",
    "Progress",
    "claim_dropout_eval",
    "claim_dropout_gap",
    "claim_dropout_low_rank",
    "claim_fair_per_second",
    "claim_fair_per_update",
    "claim_gd_no_decay",
    "claim_momentum",
    "claim_momentum_matched",
    "claim_noisier",
    "claim_sgd_faster",
    "claim_sgd_needs_decay",
    "claim_sharp_flat",
    "claim_test_above_train",
    "claim_weight_decay",
    "effective_rank",
    "fluctuation",
    "hessian_operator",
    "momentum_runs",
    "power_iteration",
    "rank_above",
    "roughness",
    "schedule_runs",
    "sgd_gd_runs",
    "sharpness",
    "span",
    "spearman",
    "top_eigenvalue",
    "train_epochs",
    "weight_decay_runs",
    "weight_norms",
    "wide_runs",
]
