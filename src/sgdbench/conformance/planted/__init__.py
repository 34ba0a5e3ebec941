"""Implementations with one planted bug each, and correct ones written unlike torch.

For the suite's self-check (``properties/test_selfcheck.py``) and for anyone who wants to see
it work: ``python -m sgdbench check --optimizer sgdbench.conformance.planted:MomentumReset``
must fail the momentum check, and ``…planted:LrInMomentum`` (correct, but it rounds in another
order than torch) must pass every check. Never train with the broken ones.

The Adam family and Lion are in :mod:`.adaptive`. The SGD optimizers live in
:mod:`.optimizers` (what a training loop relies on across steps in :mod:`.loop`; low
precision, GradScaler and checkpoints in :mod:`.precision`; correct ones with unusual
constructors in :mod:`.unusual`), the dropouts in :mod:`.dropouts` (a training loop's in
:mod:`.dropout_loop`); every public name is re-exported here and reports name it
``sgdbench.conformance.planted:NAME``, the one path a user types.
"""

from __future__ import annotations

from sgdbench.conformance.planted import (
    adaptive,
    dropout_loop,
    dropouts,
    loop,
    optimizers,
    precision,
    unusual,
)
from sgdbench.conformance.planted.adaptive import *  # noqa: F403
from sgdbench.conformance.planted.adaptive import BUGGY_ADAPTIVE, CORRECT_ADAPTIVE
from sgdbench.conformance.planted.dropout_loop import *  # noqa: F403
from sgdbench.conformance.planted.dropout_loop import BUGGY_DROPOUT_LOOP
from sgdbench.conformance.planted.dropouts import *  # noqa: F403
from sgdbench.conformance.planted.dropouts import BUGGY_DROPOUTS
from sgdbench.conformance.planted.loop import *  # noqa: F403
from sgdbench.conformance.planted.loop import BUGGY_LOOP
from sgdbench.conformance.planted.optimizers import *  # noqa: F403
from sgdbench.conformance.planted.optimizers import BUGGY_OPTIMIZERS
from sgdbench.conformance.planted.precision import *  # noqa: F403
from sgdbench.conformance.planted.precision import BUGGY_PRECISION
from sgdbench.conformance.planted.unusual import *  # noqa: F403

_MODULES = [adaptive, dropout_loop, dropouts, loop, optimizers, precision, unusual]
_TABLES = {"BUGGY_ADAPTIVE", "CORRECT_ADAPTIVE"}
_PUBLIC = [name for module in _MODULES for name in module.__all__ if name not in _TABLES]
__all__ = [
    "BUGGY_ADAPTIVE",
    "BUGGY_DROPOUTS",
    "BUGGY_DROPOUT_LOOP",
    "BUGGY_LOOP",
    "BUGGY_OPTIMIZERS",
    "BUGGY_PRECISION",
    "CORRECT_ADAPTIVE",
    *_PUBLIC,
]

for _name in _PUBLIC:
    globals()[_name].__module__ = __name__  # reports and replay snippets name the package
