"""``python -m benchmarks.gpu [--dry] [--only STEP]... [--subjects FILE]``: the GPU run.

Runs :func:`benchmarks.gpu.plan.plan` (every CUDA property, test and benchmark, the conformance
suite on torch's CUDA SGD paths and dropout, NCCL with one rank) into ``results/gpu/`` and
writes ``results/gpu/SUMMARY.md`` last; exit 0 when every step ran to a verdict, 1 when one
failed, timed out or could not run, 2 when torch sees no CUDA device. A step that fails does not
stop the others. ``nox -s gpu`` runs this after installing the package; without nox, from the
repository's root: ``PYTHONPATH=src python -m benchmarks.gpu``.

``--dry`` (on any machine, CI's included) proves the run would start: it prints the plan with
every command and budget, imports every module the steps need, collects each pytest step's ids
(they must be non-empty: the cuda ids are collected and skip on a CPU), and runs every other
step on the CPU (conformance with ``--device cpu --examples 1``, NCCL replaced by gloo) into a
temporary folder. It never writes results/gpu/.

On a lent device machine (no nox there)::

    PYTHONPATH=src PYTHONUNBUFFERED=1 python3 -m benchmarks.gpu; rc=$?;
    tar -czf $OUT/gpu.tar.gz results/gpu; exit $rc
"""

from __future__ import annotations

import sys

from benchmarks.gpu.run import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
