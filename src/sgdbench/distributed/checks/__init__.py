"""Data-parallel SGD read against Algorithm 11, as conformance checks (kind ``ddp``).

The checks run through :mod:`sgdbench.conformance`'s runner (Hypothesis examples, a
:class:`~sgdbench.conformance.CheckResult` each, the same reports); the implementation under
test is a :class:`DDPUnderTest`: an optimizer (torch.optim.SGD unless you name yours: the seam
for a user's optimizer under DDP), a dropout layer, the DDP communication hook, and the k ranks
of a live :class:`~sgdbench.distributed.WorkerGroup` that run every example.
"""

from __future__ import annotations

from sgdbench.distributed.checks import dropout as dropout
from sgdbench.distributed.checks import sampling as sampling
from sgdbench.distributed.checks import training as training
from sgdbench.distributed.checks._registry import CHECKS, DDPUnderTest

__all__ = ["CHECKS", "DDPUnderTest"]

# the order the checks run and are reported in: the arithmetic first, then the data, dropout
ORDER = [
    "matches_single_process",
    "summed_loss_is_k_times_smaller",
    "epoch_covers_data_once",
    "set_epoch_reshuffles",
    "dropout_masks_differ_across_ranks",
    "dropout_masks_shared_when_seeded_alike",
]
CHECKS.sort(key=lambda c: ORDER.index(c.name))
