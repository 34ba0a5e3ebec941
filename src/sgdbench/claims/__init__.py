"""The chapter's empirical statements, each checked over many seeds (results/CLAIMS.md).

The chapter shows one run of each experiment. Here each statement is measured over ``seeds``
seeds and reported as mean [min, max] with a verdict whose rule is written beside it. Every
experiment uses the chapter's setup unless said otherwise: two moons (800/200), the 2-16-2 ReLU
network, ``torch.optim.SGD(lr=0.1, momentum=0.9)``, cross-entropy, 100 epochs, and
``torch.manual_seed(seed)`` before each model is built.

The claims live one concern per module: ``sgd_gd`` (SGD against GD), ``regularisation``
(weight decay, dropout), ``sharpness`` (sharp against flat minima); ``_core`` holds the
:class:`Claim` row they all return.
"""

from __future__ import annotations

from sgdbench.claims._core import Claim, Progress, span
from sgdbench.claims.regularisation import (
    WEIGHT_DECAYS,
    claim_dropout_eval,
    claim_dropout_gap,
    claim_weight_decay,
)
from sgdbench.claims.sgd_gd import (
    claim_noisier,
    claim_sgd_faster,
    claim_test_above_train,
    roughness,
    sgd_gd_runs,
)
from sgdbench.claims.sharpness import BATCH_SIZES, claim_sharp_flat, sharpness

__all__ = [
    "BATCH_SIZES",
    "WEIGHT_DECAYS",
    "Claim",
    "Progress",
    "claim_dropout_eval",
    "claim_dropout_gap",
    "claim_noisier",
    "claim_sgd_faster",
    "claim_sharp_flat",
    "claim_test_above_train",
    "claim_weight_decay",
    "roughness",
    "sgd_gd_runs",
    "sharpness",
    "span",
]
