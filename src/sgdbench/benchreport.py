"""Moved: a benchmark run and its report live in :mod:`sgdbench.bench`.

The old names re-exported: the run's data from :mod:`sgdbench.bench.run`, the wall-time gate
(``gate`` is :func:`sgdbench.bench.gates.wall_time`) and ``render``
(:mod:`sgdbench.bench.report`).
"""

from __future__ import annotations

from sgdbench.bench.gates import GATE
from sgdbench.bench.gates import wall_time as gate
from sgdbench.bench.report import render
from sgdbench.bench.run import Ratio, load, met, run_label, targets

__all__ = ["GATE", "Ratio", "gate", "load", "met", "render", "run_label", "targets"]
