"""Instruction counts of every epoch case the regression gate tracks, under callgrind.

``python -m benchmarks.instructions --out COUNTS.json`` (``nox -s bench -- --instructions``
runs it) starts *one* process under ``valgrind --tool=callgrind --instr-atstart=no
--collect-atstart=no``. That process builds every case (the same builders the timed
benchmarks use, ``benchmarks/_cases.py``), warms each up at native speed, switches callgrind's
instrumentation on once, and then measures each case on its own: collection on, one epoch,
collection off and a dump, REPEATS times per case. Instructions, unlike seconds, do not drift
with the machine's load: the same code, inputs and environment give the same count.

Mechanism (why not hand-written glue): the two client requests come from maintained
libraries. ``torch._C._valgrind_toggle`` / ``_valgrind_toggle_and_dump_stats`` are what
``torch.utils.benchmark.Timer.collect_callgrind`` uses (CALLGRIND_TOGGLE_COLLECT and
CALLGRIND_DUMP_STATS, compiled into torch); CALLGRIND_START_INSTRUMENTATION comes from
pytest-codspeed's instrument hooks (``callgrind_start_instrumentation``, what CodSpeed's
CPU simulation calls around each benchmark). Timer itself would instrument the whole import
(126 s a case measured by the issue that asked for this); starting instrumentation after the
import and warm-up keeps a run of all cases near 40 s.

``--case NAME`` (repeatable) counts only the named cases (``nox -s releases`` counts the
SGD-32 and GD epochs under every torch release); a name that is no case is an error listing
them.

COUNTS.json (documented in docs/instructions.md): ``{"format": "sgdbench-instructions/1",
"key": {cpu, torch, python, threads, valgrind}, "repeats": R, "cases": {name: {"instructions":
[R counts], "steps": steps per epoch}}, "objects": {shared object: instructions}}`` where
``objects`` splits the SGD-32 Batches epoch's instructions by shared object and
``functions`` lists its 40 dearest functions (``object:function``, self cost, per epoch).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = "sgdbench-instructions/1"
N = 800
REPEATS = 3
WARMUP = 3
PROFILED = "SGD-32 Batches"  # the case whose instructions are split by shared object
STACKED = (1, 10, 100)  # seed counts of the stacked training cases (not 1000: 10× S=100's cost)
INSTALL_HINT = (
    "valgrind is not installed: `apt-get install valgrind` (Debian/Ubuntu), "
    "`dnf install valgrind` (Fedora), then run again"
)


def cases() -> tuple[dict[str, Callable[[], None]], dict[str, int]]:
    """Every epoch case the gate tracks, built and seeded, with its steps per epoch."""
    import torch

    from benchmarks._cases import PIPELINES, batches, iteration, moons, overhead, training
    from sgdbench import reference

    split = moons(N, "cpu")
    out: dict[str, Callable[[], None]] = {}
    steps: dict[str, int] = {}
    for method, bs, shuffle in (("SGD-32", 32, True), ("GD", N, False)):
        for pipeline in PIPELINES:
            out[f"{method} {pipeline}"], _ = training(split, bs, shuffle, pipeline)
            steps[f"{method} {pipeline}"] = -(-N // bs)
    for pipeline in PIPELINES:
        out[f"iteration {pipeline}"] = iteration(batches(split, 32, True, pipeline, seed=0))
        steps[f"iteration {pipeline}"] = -(-N // 32)
    for name, opt in (("torch.optim.SGD", torch.optim.SGD), ("reference.SGD", reference.SGD)):
        out[name], _ = training(split, 32, True, "Batches", optimizer=opt)
        steps[name] = -(-N // 32)
    over, _ = overhead(split)
    out.update(over)
    steps.update({k: -(-N // 32) for k in over})
    from benchmarks._seeds import stacked_epoch

    for s in STACKED:  # the training pass of S seeds at once (BENCHMARKS.md: seeds in parallel)
        out[f"stacked S={s}"] = stacked_epoch(split, s, evaluate=False)
        steps[f"stacked S={s}"] = -(-N // 32)
    return out, steps


def selected(names: list[str] | None) -> tuple[dict[str, Callable[[], None]], dict[str, int]]:
    """The cases named (all when ``names`` is empty); ValueError naming the unknown ones."""
    run, steps = cases()
    if not names:
        return run, steps
    unknown = [n for n in names if n not in run]
    if unknown:
        raise ValueError(f"--case must be one of {sorted(run)}, but got {unknown}")
    return {n: run[n] for n in names}, {n: steps[n] for n in names}


def worker(manifest: Path, repeats: int, names: list[str] | None = None) -> None:
    """Inside valgrind: warm up, instrument, then one collected epoch per case and repeat."""
    import torch
    from pytest_codspeed.instruments.hooks import dist_instrument_hooks as hooks

    torch.set_num_threads(1)
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
    manifest.write_text(json.dumps({"order": order, "steps": steps}), encoding="utf-8")


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or platform.machine()
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return m.group(1).strip() if m else platform.machine()


def key(valgrind: str) -> dict[str, Any]:
    """What makes two counts comparable: the same CPU, torch, Python, threads and valgrind."""
    import torch

    version = subprocess.run([valgrind, "--version"], capture_output=True, text=True, check=False)
    return {
        "cpu": _cpu_model(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": 1,
        "valgrind": version.stdout.strip(),
    }


def _parts(folder: Path) -> list[Path]:
    """callgrind's dumps in the order they were written (``cg.out.1``, ``cg.out.2``, …)."""
    numbered = [(int(p.name.rsplit(".", 1)[1]), p) for p in folder.glob("cg.out.*")]
    return [p for _, p in sorted(numbered) if p.name.rsplit(".", 1)[1].isdigit()]


def total(part: Path) -> int:
    """The Ir total of one dump (its ``summary:`` / ``totals:`` line)."""
    for line in part.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise ValueError(f"{part}: no summary line: an interrupted or foreign callgrind dump")


def by_function(part: Path) -> dict[str, int]:
    """Self instructions per function (``object:function``) in one dump.

    callgrind compresses names: ``ob=(n) name`` / ``fn=(n) name`` define an id, ``(n)`` alone
    reuses it, and ``cob=``/``cfn=`` (a call's callee) may define them too. A ``calls=`` line is
    followed by the inclusive cost of that call, which belongs to the callee and is skipped.
    """
    names: dict[str, dict[str, str]] = {"ob": {}, "fn": {}}
    current = {"ob": "?", "fn": "?"}
    skip_next = False
    out: dict[str, int] = defaultdict(int)
    for line in part.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r"(c?)(ob|fn)=(?:\((\d+)\))? ?(.*)$", line)
        if m:
            callee, kind, ident, name = m.groups()
            if ident is None:
                ident = name
            if name:
                names[kind][ident] = name
            if not callee:
                current[kind] = names[kind].get(ident, ident)
            continue
        if line.startswith("calls="):
            skip_next = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if skip_next:
                skip_next = False
                continue
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                out[f"{Path(current['ob']).name}:{current['fn']}"] += int(fields[1])
    return dict(out)


def by_object(part: Path) -> dict[str, int]:
    """Self instructions per shared object in one dump."""
    out: dict[str, int] = defaultdict(int)
    for key, n in by_function(part).items():
        out[key.split(":", 1)[0]] += n
    return dict(out)


def measure(out: Path, repeats: int = REPEATS, names: list[str] | None = None) -> int:
    """Run the worker under callgrind and write COUNTS.json; 2 when valgrind is missing."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print(f"instructions: {INSTALL_HINT}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sgdbench-callgrind-") as tmp:
        folder = Path(tmp)
        manifest = folder / "manifest.json"
        # setarch -R: no address-space randomisation, so pointer-keyed hashing and the
        # allocator's choices repeat from run to run.
        setarch = shutil.which("setarch")
        cmd = [
            *([setarch, platform.machine(), "-R"] if setarch else []),
            valgrind,
            "--tool=callgrind",
            "--instr-atstart=no",
            "--collect-atstart=no",
            f"--callgrind-out-file={folder / 'cg.out'}",
            f"--log-file={folder / 'valgrind.log'}",
            sys.executable,
            "-m",
            "benchmarks.instructions",
            "--worker",
            str(manifest),
            "--repeats",
            str(repeats),
            *(arg for n in names or [] for arg in ("--case", n)),
        ]
        # A fixed, minimal environment: hash order and even the size of the environment block
        # show up in the count, and a run under nox must count what a run outside it counts.
        env = {"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
        env["SGDBENCH_INJECT_STEP_OPS"] = os.environ.get("SGDBENCH_INJECT_STEP_OPS", "0")
        print(f"instructions: {repeats} repeats of each case under callgrind …", file=sys.stderr)
        proc = subprocess.run(cmd, env=env, check=False)
        if proc.returncode != 0 or not manifest.exists():
            log = folder / "valgrind.log"
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            tail = "\n".join(lines[-5:])
            print(
                f"instructions: the callgrind run failed (exit {proc.returncode}); nothing "
                f"written:\n{tail}",
                file=sys.stderr,
            )
            return 1
        info = json.loads(manifest.read_text(encoding="utf-8"))
        parts = _parts(folder)
        if len(parts) != len(info["order"]):
            print(
                f"instructions: {len(parts)} callgrind dumps for {len(info['order'])} "
                "measured epochs: an interrupted run; nothing written",
                file=sys.stderr,
            )
            return 1
        counts: dict[str, list[int]] = defaultdict(list)
        functions: dict[str, int] = defaultdict(int)
        profiled = 0
        for name, part in zip(info["order"], parts, strict=True):
            counts[name].append(total(part))
            if name == PROFILED:
                profiled += 1
                for fn, n in by_function(part).items():
                    functions[fn] += n
        per_fn = {k: v // max(profiled, 1) for k, v in functions.items()}
        objects: dict[str, int] = defaultdict(int)
        for fn, n in per_fn.items():
            objects[fn.split(":", 1)[0]] += n
        top = dict(sorted(per_fn.items(), key=lambda kv: -kv[1])[:40])
        data = {
            "format": FORMAT,
            "key": key(valgrind),
            "repeats": repeats,
            "cases": {
                name: {"instructions": counts[name], "steps": info["steps"][name]}
                for name in info["steps"]
            },
            "objects": dict(objects),
            "functions": top,
            "inject_step_ops": os.environ.get("SGDBENCH_INJECT_STEP_OPS", "0"),
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"instructions: wrote {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    parser.add_argument("--out", type=Path, help="COUNTS.json to write")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument(
        "--case", action="append", metavar="NAME", help="count only this case (repeatable)"
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be ≥ 1, but got {args.repeats}")
    if args.worker:
        worker(args.worker, args.repeats, args.case)
        return 0
    if args.out is None:
        parser.error("--out COUNTS.json is required")
    if args.case:
        try:
            selected(args.case)
        except ValueError as e:
            parser.error(str(e))
    return measure(args.out, args.repeats, args.case)


if __name__ == "__main__":
    sys.exit(main())
