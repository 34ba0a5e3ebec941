"""Implementations with one planted bug each, and correct ones written unlike torch.

For the suite's self-check (``properties/test_selfcheck.py``) and for anyone who wants to see
it work: ``python -m sgdbench check --optimizer sgdbench.conformance.planted:MomentumReset``
must fail the momentum check, and ``…planted:LrInMomentum`` (correct, but it rounds in another
order than torch) must pass every check. Never train with the broken ones.

The optimizers live in :mod:`.optimizers` (and, for what a training loop relies on across steps,
:mod:`.loop`), the dropouts in :mod:`.dropouts`; every public name
is re-exported here and reports name it ``sgdbench.conformance.planted:NAME``, the one path a
user types.
"""

from __future__ import annotations

from sgdbench.conformance.planted import dropouts, loop, optimizers
from sgdbench.conformance.planted.dropouts import *  # noqa: F403
from sgdbench.conformance.planted.dropouts import BUGGY_DROPOUTS
from sgdbench.conformance.planted.loop import *  # noqa: F403
from sgdbench.conformance.planted.loop import BUGGY_LOOP
from sgdbench.conformance.planted.optimizers import *  # noqa: F403
from sgdbench.conformance.planted.optimizers import BUGGY_OPTIMIZERS

__all__ = [
    "BUGGY_DROPOUTS",
    "BUGGY_LOOP",
    "BUGGY_OPTIMIZERS",
    *dropouts.__all__,
    *loop.__all__,
    *optimizers.__all__,
]

for _name in [*dropouts.__all__, *loop.__all__, *optimizers.__all__]:
    globals()[_name].__module__ = __name__  # reports and replay snippets name the package
