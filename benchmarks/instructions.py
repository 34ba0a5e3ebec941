"""Instruction counts of every epoch case the regression gate tracks, under callgrind.

``python -m benchmarks.instructions --out COUNTS.json [--root TREE]`` (``nox -s bench --
--instructions`` runs it through ``benchmarks/gate.py``) starts *one* process under
``valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no``:
``benchmarks/_count_worker.py``, which builds every case of the tree at TREE (default: this
repository), warms each up at native speed, switches callgrind's instrumentation on once, and
then measures each case on its own, REPEATS times. Instructions, unlike seconds, do not drift
with the machine's load: the same code, inputs and environment give the same count.

Mechanism (why not hand-written glue): the two client requests come from maintained
libraries. ``torch._C._valgrind_toggle`` / ``_valgrind_toggle_and_dump_stats`` are what
``torch.utils.benchmark.Timer.collect_callgrind`` uses (CALLGRIND_TOGGLE_COLLECT and
CALLGRIND_DUMP_STATS, compiled into torch); CALLGRIND_START_INSTRUMENTATION comes from
pytest-codspeed's instrument hooks (``callgrind_start_instrumentation``, what CodSpeed's
CPU simulation calls around each benchmark). Timer itself would instrument the whole import
(126 s a case measured by the issue that asked for this); starting instrumentation after the
import and warm-up keeps a run of all cases near 80 s.

What valgrind does not mask is pinned in the counted process (``_count_worker.PINNED``): one
thread for torch intra-op and inter-op and for OpenMP/MKL/OpenBLAS, one malloc arena, hash
seed 0, no address-space randomisation (``setarch -R``), a minimal environment.

``--case NAME`` (repeatable) counts only the named cases (``nox -s releases`` counts the
SGD-32 and GD epochs under every torch release); a name that is no case is an error listing
them. ``--worker M.json`` runs the worker on this repository in this process (for a caller that
starts valgrind itself, as RELEASES.md's caller trees do).

COUNTS.json (documented in docs/instructions.md): ``{"format": "sgdbench-instructions/2",
"fingerprint": {…what the counted process ran on, read inside valgrind…}, "key": {cpu, torch,
python, threads, valgrind} (the host's names, shown, not compared), "tree": {root, commit,
dirty, branch}, "repeats": R, "cases": {name: {"instructions": [R counts], "steps": steps per
epoch}}, "objects": {shared object: instructions}, "functions": {…}}`` where ``objects``
splits the SGD-32 Batches epoch's instructions by shared object and ``functions`` lists its 40
dearest functions (``object:function``, self cost, per epoch).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks import _callgrind
from benchmarks._count_worker import PINNED, WARMUP, selected, worker

__all__ = [
    "FORMAT",
    "WARMUP",
    "CountError",
    "check_args",
    "count",
    "measure",
    "selected",
    "tree",
]

FORMAT = "sgdbench-instructions/2"
REPEATS = 3
PROFILED = "SGD-32 Batches"  # the case whose instructions are split by shared object
ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().with_name("_count_worker.py")
INSTALL_HINT = (
    "valgrind is not installed: `apt-get install valgrind` (Debian/Ubuntu), "
    "`dnf install valgrind` (Fedora), then run again"
)


class CountError(RuntimeError):
    """The tree could not be counted; the message is one line saying why."""


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or platform.machine()
    m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return m.group(1).strip() if m else platform.machine()


def _valgrind_version(valgrind: str) -> str:
    done = subprocess.run([valgrind, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def key(valgrind: str) -> dict[str, Any]:
    """The host's names (CPU model, torch, Python, threads, valgrind): shown, not compared."""
    import torch

    return {
        "cpu": _cpu_model(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": 1,
        "valgrind": _valgrind_version(valgrind),
    }


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def tree(root: Path) -> dict[str, Any]:
    """Which commit the tree at ``root`` is, and whether it has uncommitted changes."""
    return {
        "root": str(root),
        "commit": _git(root, "rev-parse", "HEAD"),
        "date": _git(root, "show", "-s", "--format=%cI", "HEAD"),
        "subject": _git(root, "show", "-s", "--format=%s", "HEAD"),
        "branch": _git(root, "branch", "--show-current"),
        "dirty": bool(_git(root, "status", "--porcelain", "--untracked-files=no")),
    }


def count(
    root: Path = ROOT,
    repeats: int = REPEATS,
    names: list[str] | None = None,
    inject: str | None = None,
) -> dict[str, Any]:
    """The counts of the tree at ``root`` (a COUNTS.json's data); CountError saying why not.

    ``inject``: SGDBENCH_INJECT_STEP_OPS for the counted process (default: this process's),
    the knob that plants one extra tensor op per training step (docs/instructions.md).
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise CountError(INSTALL_HINT)
    root = Path(root).resolve()
    inject = os.environ.get("SGDBENCH_INJECT_STEP_OPS", "0") if inject is None else inject
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
            str(folder / "w.py"),
            "--manifest",
            str(manifest),
            "--repeats",
            str(repeats),
            *(arg for n in names or [] for arg in ("--case", n)),
        ]
        # A fixed, minimal environment: hash order and even the size of the environment block
        # show up in the count, and a run under nox must count what a run outside it counts.
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", **PINNED}
        env["SGDBENCH_INJECT_STEP_OPS"] = inject
        # The tree's two packages through links in a folder of their own, whose path has one
        # length for every count (tempfile's names are of fixed length): module paths have the
        # same size wherever the tree lies, and the folders the import system lists hold the
        # same names whatever else the tree holds (docs, results, an egg-info).
        # The worker too runs from a copy in this folder: its path is argv[1] (on the stack) and
        # __main__'s file, and a checkout elsewhere moved counts by up to 1.2 % through it.
        shutil.copyfile(WORKER, folder / "w.py")
        link = folder / "t"
        (link / "src").mkdir(parents=True)
        (link / "src" / "sgdbench").symlink_to(root / "src" / "sgdbench")
        (link / "benchmarks").symlink_to(root / "benchmarks")
        env["SGDBENCH_COUNT_TREE"] = str(link)
        # Every tree's code loaded from bytecode, as the installed torch's is, whether or not
        # the tree was imported before (a fresh worktree has no __pycache__).
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "src", "benchmarks"],
            cwd=root,  # the tree's own folder: compileall writes into it
            capture_output=True,
            check=False,
        )
        print(f"instructions: {repeats} repeats of each case of {root} …", file=sys.stderr)
        # Started in the link folder too: its path, unlike the tree's, has one length.
        proc = subprocess.run(cmd, env=env, cwd=link, check=False, stderr=subprocess.PIPE)
        if proc.returncode != 0 or not manifest.exists():
            lines = proc.stderr.decode(errors="replace").strip().splitlines()
            log = folder / "valgrind.log"
            lines += log.read_text(errors="replace").splitlines() if log.exists() else []
            why = next((ln for ln in reversed(lines) if ln.strip()), "no output")
            raise CountError(f"the callgrind run of {root} failed (exit {proc.returncode}): {why}")
        info = json.loads(manifest.read_text(encoding="utf-8"))
        if not Path(info["sgdbench"]).resolve().is_relative_to(root):
            raise CountError(f"counted {info['sgdbench']}, not the tree at {root}")
        found = _callgrind.parts(folder)
        if len(found) != len(info["order"]):
            raise CountError(
                f"{len(found)} callgrind dumps for {len(info['order'])} measured epochs: "
                "an interrupted run"
            )
        counts: dict[str, list[int]] = defaultdict(list)
        functions: dict[str, int] = defaultdict(int)
        profiled = 0
        for name, part in zip(info["order"], found, strict=True):
            counts[name].append(_callgrind.total(part))
            if name == PROFILED:
                profiled += 1
                for fn, n in _callgrind.by_function(part).items():
                    functions[fn] += n
    per_fn = {k: v // max(profiled, 1) for k, v in functions.items()}
    objects: dict[str, int] = defaultdict(int)
    for fn, n in per_fn.items():
        objects[fn.split(":", 1)[0]] += n
    return {
        "format": FORMAT,
        "fingerprint": {**info["fingerprint"], "valgrind": _valgrind_version(valgrind)},
        "key": key(valgrind),
        "tree": tree(root),
        "repeats": repeats,
        "cases": {
            name: {"instructions": counts[name], "steps": info["steps"][name]}
            for name in info["steps"]
        },
        "objects": dict(objects),
        "functions": dict(sorted(per_fn.items(), key=lambda kv: -kv[1])[:40]),
        "inject_step_ops": inject,
    }


def write(data: dict[str, Any], out: Path) -> None:
    """COUNTS.json, replaced whole (an interrupted write leaves the old file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(out)


def measure(
    out: Path, repeats: int = REPEATS, names: list[str] | None = None, root: Path = ROOT
) -> int:
    """Count the tree and write COUNTS.json: 0; 1 when the run failed; 2 without valgrind."""
    if shutil.which("valgrind") is None:
        print(f"instructions: {INSTALL_HINT}", file=sys.stderr)
        return 2
    try:
        data = count(root, repeats, names)
    except CountError as e:
        print(f"instructions: {e}; nothing written", file=sys.stderr)
        return 1
    write(data, out)
    print(f"instructions: wrote {out}", file=sys.stderr)
    return 0


def check_args(parser: argparse.ArgumentParser, repeats: int, names: list[str] | None) -> None:
    """--repeats ≥ 1 and every --case a case: else the parser's usage error (exit 2)."""
    if repeats < 1:
        parser.error(f"--repeats must be ≥ 1, but got {repeats}")
    if names:
        try:
            selected(names)
        except ValueError as e:
            parser.error(str(e))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    parser.add_argument("--out", type=Path, help="COUNTS.json to write")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument(
        "--case", action="append", metavar="NAME", help="count only this case (repeatable)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree to count (default: .)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.repeats, args.case)
        return 0
    if args.out is None:
        parser.error("--out COUNTS.json is required")
    check_args(parser, args.repeats, args.case)
    return measure(args.out, args.repeats, args.case, args.root)


if __name__ == "__main__":
    sys.exit(main())
