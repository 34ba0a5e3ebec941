"""The process callgrind counts: the gate's epoch cases of one source tree, and its fingerprint.

``valgrind --tool=callgrind … python …/benchmarks/_count_worker.py --manifest M``
(``benchmarks/instructions.py`` starts it, in a folder linking to ROOT) counts the tree at ROOT:
``sgdbench`` from ``ROOT/src`` and the case builders from ``ROOT/benchmarks/_cases.py``; this
file, the counting itself, is always the caller's. So a base commit checked out in a git
worktree is counted exactly as HEAD is (the paired run of docs/instructions.md). It builds
every case, warms each up at native speed, switches callgrind's instrumentation on once, then
measures each case on its own: collection on, one epoch, collection off and a dump, R times
per case.

Before anything is counted it writes what it runs on, read from inside valgrind, into the
manifest: valgrind presents its own CPU (its CPUID tables, so torch's kernels are chosen for
that CPU, not the host's), and that, with the thread settings and the library versions, is
what decides the count. The host's CPU name is not part of it.

Run as a script, it imports nothing of the tree it sits in: only ROOT's code is on its path,
through a folder of fixed path length that links to ROOT's ``src/sgdbench`` and
``benchmarks`` (``SGDBENCH_COUNT_TREE``), so that what the import system sees does not depend
on where ROOT lies or what else it holds (docs/instructions.md: such differences moved counts
by up to 0.5 %).
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    del sys.path[0]  # this file's folder: ROOT's benchmarks/ must be the one imported

import argparse
import functools
import gc
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

Epoch = Callable[[], None]
N = 800
WARMUP = 3
STACKED = (1, 10, 100)  # seed counts of the stacked training cases (not 1000: 10× S=100's cost)
# What the counting process must not inherit: threads that spin, malloc arenas, hash seeds.
PINNED = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "1",
    "PYTHONHASHSEED": "0",
}


def cases(names: list[str] | None = None) -> tuple[dict[str, Epoch], dict[str, int]]:
    """The epoch cases the gate tracks (all, or those named, in the gate's order), built and
    seeded, with their steps per epoch; ValueError naming an unknown case. Only the cases
    asked for are built: a count of one case does not pay for the others."""
    import torch

    from benchmarks._cases import PIPELINES, batches, iteration, moons, overhead, training
    from benchmarks._seeds import stacked_epoch
    from sgdbench import reference

    split = moons(N, "cpu")
    make: dict[str, tuple[Callable[[], Epoch], int]] = {}
    per32 = -(-N // 32)
    for method, bs, shuffle in (("SGD-32", 32, True), ("GD", N, False)):
        for pipeline in PIPELINES:
            build = functools.partial(training, split, bs, shuffle, pipeline)
            make[f"{method} {pipeline}"] = (lambda build=build: build()[0], -(-N // bs))
    for pipeline in PIPELINES:
        gen = functools.partial(batches, split, 32, True, pipeline, seed=0)
        make[f"iteration {pipeline}"] = (lambda gen=gen: iteration(gen()), per32)
    for name, opt in (("torch.optim.SGD", torch.optim.SGD), ("reference.SGD", reference.SGD)):
        build = functools.partial(training, split, 32, True, "Batches", optimizer=opt)
        make[name] = (lambda build=build: build()[0], per32)
    both = functools.cache(lambda: overhead(split)[0])  # the two share one builder
    for name in ("bare loop", "train_test"):
        make[name] = (lambda name=name: both()[name], per32)
    for s in STACKED:  # the training pass of S seeds at once (BENCHMARKS.md: seeds in parallel)
        make[f"stacked S={s}"] = (lambda s=s: stacked_epoch(split, s, evaluate=False), per32)
    unknown = [n for n in names or [] if n not in make]
    if unknown:
        raise ValueError(f"--case must be one of {sorted(make)}, but got {unknown}")
    chosen = names or list(make)
    return {n: make[n][0]() for n in chosen}, {n: make[n][1] for n in chosen}


def selected(names: list[str] | None) -> tuple[dict[str, Epoch], dict[str, int]]:
    """The cases named (all when ``names`` is empty); ValueError naming the unknown ones."""
    return cases(names)


def fingerprint() -> dict[str, Any]:
    """What this process runs on, as it reads it: the gate compares counts only when equal.

    The CPU as CPUID answers it (under valgrind: valgrind's emulated CPU, the same on every
    host that offers it the same features) and torch's kernel choice from it; the thread
    settings; the versions of everything between the code and the instructions.
    """
    import numpy
    import torch

    cpu: dict[str, Any] = {}
    try:  # py-cpuinfo (pytest-benchmark's dependency): CPUID executed in this very process
        from cpuinfo.cpuinfo import CPUID

        probe = CPUID()
        top = probe.get_max_extension_support()
        cpu = {"brand": probe.get_processor_brand(top), "flags": sorted(probe.get_flags(top))}
    except Exception as e:  # recorded: the fingerprint then differs
        cpu = {"brand": f"unreadable: {type(e).__name__}", "flags": []}
    return {
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_brand": cpu["brand"],
        "cpu_flags": cpu["flags"],
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "env": {k: os.environ.get(k, "") for k in sorted(PINNED)},
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "glibc": os.confstr("CS_GNU_LIBC_VERSION") or "",
    }


def worker(manifest: Path, repeats: int, names: list[str] | None = None) -> None:
    """Inside valgrind: warm up, instrument, then one collected epoch per case and repeat."""
    import torch
    from pytest_codspeed.instruments.hooks import dist_instrument_hooks as hooks

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)  # before any inter-op work, or torch refuses
    import sgdbench

    print_ = fingerprint()
    run, steps = selected(names)
    for fn in run.values():
        for _ in range(WARMUP):
            fn()
    order: list[str] = []
    # The garbage collector runs when an allocation count crosses a threshold, so which epoch
    # pays for a collection would vary: collect once, then keep it off while counting.
    gc.collect()
    gc.disable()
    hooks.callgrind_start_instrumentation()
    for r in range(repeats):
        for name, fn in run.items():
            fn()  # once more instrumented, uncounted: the same path as the counted epoch
            torch._C._valgrind_toggle()  # collection on
            fn()
            torch._C._valgrind_toggle_and_dump_stats()  # collection off, dump this epoch
            order.append(name)
        print(f"instructions: repeat {r + 1}/{repeats} counted", file=sys.stderr, flush=True)
    info = {"order": order, "steps": steps, "fingerprint": print_}
    info["sgdbench"] = os.path.abspath(sgdbench.__file__)
    manifest.write_text(json.dumps(info), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/_count_worker.py")
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--case", action="append", metavar="NAME")
    args = parser.parse_args(argv)
    # The tree comes as SGDBENCH_COUNT_TREE: a folder of fixed path length linking to its two
    # packages (instructions.py), put on the path unresolved, so every module's path has the
    # same length and every listed folder the same names wherever the tree lies. Where the
    # tree lies is not on the command line either (argv sits on the stack, and its length
    # shifts the process's memory layout).
    tree = os.environ["SGDBENCH_COUNT_TREE"]
    sys.path[:0] = [os.path.join(tree, "src"), tree]
    worker(args.manifest, args.repeats, args.case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
