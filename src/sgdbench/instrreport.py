"""Moved: instruction counts, their gate and their section live in :mod:`sgdbench.bench`.

The old names re-exported: the counts from :mod:`sgdbench.bench.counts`, ``gate`` and
``THRESHOLD`` (:func:`sgdbench.bench.gates.instructions`, ``INSTRUCTION_THRESHOLD``) and
``section`` (:mod:`sgdbench.bench.instructions_section`).
"""

from __future__ import annotations

from sgdbench.bench.counts import FORMAT, RATIOS, comparable, load, median, spread
from sgdbench.bench.gates import INSTRUCTION_THRESHOLD as THRESHOLD
from sgdbench.bench.gates import instructions as gate
from sgdbench.bench.instructions_section import section

__all__ = [
    "FORMAT",
    "RATIOS",
    "THRESHOLD",
    "comparable",
    "gate",
    "load",
    "median",
    "section",
    "spread",
]
