"""One benchmark run, from its data to its report: what ``nox -s bench`` writes into results/.

A run is pytest-benchmark's JSON of ``benchmarks/`` (wall time) and, with ``--instructions``,
callgrind's counts (``python -m benchmarks.instructions``). One module a concern, each layer
importing only those below it (an import-linter contract in ``pyproject.toml`` keeps it so):

- :mod:`~sgdbench.bench.publish`: ``bench-report``'s pipeline, a run into results/ (gates,
  BENCHMARKS.md, the stored JSON, the headline);
- :mod:`~sgdbench.bench.report` (BENCHMARKS.md's text) and :mod:`~sgdbench.bench.headline`
  (the few lines a run ends with);
- the sections: :mod:`~sgdbench.bench.sections` (wall time),
  :mod:`~sgdbench.bench.instructions_section` and :mod:`~sgdbench.bench.ddp_section`
  (data-parallel epochs, measured by :mod:`sgdbench.distributed.bench`), and
  :mod:`~sgdbench.bench.gates` (the wall-time and the instruction gate);
- a run's data: :mod:`~sgdbench.bench.run` (wall time: paired ratios, targets) and
  :mod:`~sgdbench.bench.counts` (instruction counts).

``sgdbench.benchreport``, ``sgdbench.instrreport`` and ``sgdbench.benchheadline`` re-export
their old names from here.
"""
