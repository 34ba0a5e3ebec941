"""The algorithms an optimizer can be declared to implement (``check --algorithm NAME``).

One module each: its update written out as torch documents it, its float64 oracle with the
derived rounding bound, its hyper-parameters and the value that switches each off. Adding an
algorithm is one module that builds an :class:`~._spec.Algorithm`, one line here, and its
planted bugs (docs/conformance.md, "Adding an algorithm").
"""

from __future__ import annotations

from sgdbench.conformance.algorithms._spec import Adaptive, Algorithm
from sgdbench.conformance.algorithms.adam import ADAM, ADAMW
from sgdbench.conformance.algorithms.lion import LION
from sgdbench.conformance.algorithms.nadam import NADAM
from sgdbench.conformance.algorithms.radam import RADAM
from sgdbench.conformance.algorithms.sgd import SGD

__all__ = ["ALGORITHMS", "Adaptive", "Algorithm", "get"]

ALGORITHMS: dict[str, Algorithm] = {a.name: a for a in (SGD, ADAM, ADAMW, NADAM, RADAM, LION)}


def get(name: str) -> Algorithm:
    """The algorithm called ``name``, or ValueError listing the known ones."""
    try:
        return ALGORITHMS[name]
    except (KeyError, TypeError):
        raise ValueError(f"algorithm must be one of {list(ALGORITHMS)}, but got {name!r}") from None
