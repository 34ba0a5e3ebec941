"""Run the GPU plan (or prove it, ``--dry``): phases in turn, a phase's lanes side by side, every
step in its own process group under its budget; then ``SUMMARY.md``. See ``__main__``."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.gpu import summary
from benchmarks.gpu.plan import OUT, SUBJECTS, WALL_LIMIT_S, Step, bound_s, plan
from benchmarks.gpu.summary import FAILED, ROOT, Outcome

KILL_GRACE_S = 5


def _argv(argv: tuple[str, ...]) -> list[str]:
    return [sys.executable if a == "python" else a for a in argv]


def _execute(argv: list[str], log: Path, budget_s: int) -> tuple[int | None, float]:
    """Run ``argv`` in its own process group, output to ``log``; None when past the budget."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w", encoding="utf-8") as f:
        f.write(f"$ {shlex.join(argv)}\n")
        f.flush()
        start = time.monotonic()
        p = subprocess.Popen(
            argv, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            rc: int | None = p.wait(timeout=budget_s)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGTERM)  # the step and whatever it started (torchrun)
            try:
                p.wait(timeout=KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            rc = None
        return rc, time.monotonic() - start


def _clear(paths: tuple[Path, ...]) -> None:
    for p in paths:
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)


def run_step(step: Step, out: Path, dry: bool) -> Outcome:
    """One step, to a verdict; its output goes to ``out/logs/NAME.log``."""
    argv = step.argv
    if dry and step.dry == "collect":  # pytest-benchmark refuses to save a run of nothing
        argv = (*(a for a in argv if not a.startswith("--benchmark-json")), "--collect-only")
    elif dry:
        argv = step.dry_argv or argv
    if argv == step.argv and step.needs is not None and not step.needs.exists():
        return Outcome(step, "not run", detail=f"{step.needs} is missing (see above)")
    if not dry:
        _clear(step.outputs)
    log = out / "logs" / f"{step.name}.log"
    started = time.time()
    rc, wall = _execute(_argv(argv), log, step.budget_s)
    o = Outcome(step, "passed", wall, rc)
    if rc is None:
        o.status, o.detail = "timed out", f"past its {step.budget_s} s budget (killed)"
        return o
    if rc not in step.ok:
        o.status, o.detail = "failed", f"exit {rc}: {_tail(log)}"
        return o
    if dry and step.dry == "collect":
        ids = [ln for ln in log.read_text(encoding="utf-8").splitlines() if "::" in ln]
        o.detail = f"{len(ids)} ids collected"
        if not ids:
            o.status = "failed"
        return o
    if step.report is not None:
        if not step.report.exists() or step.report.stat().st_mtime < started:
            o.status, o.detail = "failed", f"exit {rc} but no {step.report} (it crashed)"
            return o
        name = step.report.parent.name
        cpu = None if dry else summary.CPU_REPORTS / name / "conformance.json"
        o.detail = summary.conformance(step.report, cpu)
        o.status = "passed" if rc == 0 else "findings"
    if step.junit is not None and step.junit.exists():
        o.detail, o.skips = summary.junit(step.junit)
    elif not o.detail and any(p.exists() for p in step.outputs):
        o.detail = "wrote " + ", ".join(str(p) for p in step.outputs if p.exists())
    return o


def _tail(log: Path) -> str:
    lines = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln]
    return lines[-1][:300] if lines else "(no output)"


def run_plan(steps: list[Step], out: Path, dry: bool) -> list[Outcome]:
    """Phases in order; within one, lanes in parallel threads. A failed phase 0 stops the run.

    The dry mode times nothing, so there every step of a phase is a lane of its own, as many at
    once as this machine has cores.
    """
    done: dict[str, Outcome] = {}
    for phase in sorted({s.phase for s in steps}):
        lanes: dict[int, list[Step]] = {}
        for i, s in enumerate(steps):
            if s.phase == phase:
                lanes.setdefault(i if dry else s.lane, []).append(s)
        workers = min(len(lanes), max(2, os.cpu_count() or 1)) if dry else len(lanes)

        def lane(todo: list[Step]) -> list[Outcome]:
            results = []
            for s in todo:
                results.append(run_step(s, out, dry))
                _say(results[-1])
            return results

        with ThreadPoolExecutor(workers) as pool:
            for results in pool.map(lane, lanes.values()):
                done.update((o.step.name, o) for o in results)
        if phase == 0 and any(done[s.name].status in FAILED for s in steps if s.phase == 0):
            why = "preflight failed: torch sees no CUDA device, or torch is broken (its log)"
            for s in steps:
                done.setdefault(s.name, Outcome(s, "not run", detail=why))
            break
    return [done[s.name] for s in steps]


def _say(o: Outcome) -> None:
    print(f"  {o.step.name:<40} {o.status:<9} {o.wall_s:6.1f} s / {o.step.budget_s:>3} s  "
          f"{o.detail[:160]}", flush=True)  # fmt: skip


def print_plan(steps: list[Step]) -> None:
    print(f"GPU plan: {len(steps)} steps, at most {bound_s(steps)} s (limit {WALL_LIMIT_S} s)")
    for s in steps:
        print(f"- [{s.phase}.{s.lane}] {s.name}, budget {s.budget_s} s: {shlex.join(s.argv)}")
        print(f"    covers: {s.covers}")
        print(f"    writes: {', '.join(str(p) for p in s.outputs)}")


def _subjects(path: Path | None) -> tuple[dict[str, list[str]], str]:
    """The conformance subjects (nox passes noxfile's) and how they differ from SUBJECTS."""
    if path is None:
        return SUBJECTS, ""
    given: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    drift = sorted(n for n in given.keys() | SUBJECTS.keys() if given.get(n) != SUBJECTS.get(n))
    if not drift:
        return given, ""
    return given, (
        f"benchmarks/gpu/plan.py's SUBJECTS differ from noxfile.py's CONFORMANCE in {drift}: "
        "the fallback (python -m benchmarks.gpu) would check something else; make them agree"
    )


def _imports(steps: list[Step]) -> list[str]:
    """Import every module the steps need; the ones that fail, with why."""
    failed = []
    for name in sorted({m for s in steps for m in s.imports}):
        try:
            importlib.import_module(name)
        except Exception as e:  # any reason it would not run is the finding
            failed.append(f"{name}: {type(e).__name__}: {e}")
    return failed


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__)
    p.add_argument("--dry", action="store_true", help="prove the plan on this CPU (CI)")
    p.add_argument("--only", action="append", metavar="STEP", help="run these steps alone")
    p.add_argument("--subjects", type=Path, help="conformance subjects, JSON (nox -s gpu's)")
    p.add_argument("--out", type=Path, default=OUT, help=f"from the repo root (default: {OUT})")
    return p


def main(args_in: list[str]) -> int:
    args = parser().parse_args(args_in)
    subjects, drift = _subjects(args.subjects)
    os.chdir(ROOT)  # the steps' paths are relative to the repository's root, as printed
    if args.dry:
        with tempfile.TemporaryDirectory(prefix="sgdbench-gpu-dry-") as tmp:
            return _dry(subjects, drift, Path(tmp), args.only)
    out = args.out
    steps = _select(plan(out, subjects), args.only)
    if drift:
        print(f"warning: {drift}", file=sys.stderr)
    print_plan(steps)
    started, t0 = datetime.now(timezone.utc), time.monotonic()
    outcomes = run_plan(steps, out, dry=False)
    preflight_ok = all(o.status not in FAILED for o in outcomes if o.step.phase == 0)
    code = 0 if all(o.status not in FAILED for o in outcomes) else 1 if preflight_ok else 2
    machine_json = out / "machine.json"
    info: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "benchmarks.gpu", *args_in]),
        "started": started.isoformat(timespec="seconds"),
        "wall_s": time.monotonic() - t0,
        "bound_s": bound_s(steps),
        "exit": code,
        "machine": json.loads(machine_json.read_text()) if machine_json.exists() else None,
        "subjects_drift": drift,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "SUMMARY.md").write_text(summary.markdown(outcomes, info), encoding="utf-8")
    (out / "summary.json").write_text(summary.as_json(outcomes, info), encoding="utf-8")
    print(f"GPU run: exit {code} after {info['wall_s']:.0f} s; {out / 'SUMMARY.md'}")
    return code


def _select(steps: list[Step], only: list[str] | None) -> list[Step]:
    if not only:
        return steps
    unknown = set(only) - {s.name for s in steps}
    if unknown:
        raise SystemExit(f"unknown step(s) {sorted(unknown)}: {[s.name for s in steps]}")
    return [s for s in steps if s.name in only]


def _dry(subjects: dict[str, list[str]], drift: str, tmp: Path, only: list[str] | None) -> int:
    real, steps = _select(plan(OUT, subjects), only), _select(plan(tmp, subjects), only)
    print_plan(real)
    problems = [drift] if drift else []
    if bound_s(real) > WALL_LIMIT_S:
        problems.append(f"the plan's bound {bound_s(real)} s is past {WALL_LIMIT_S} s")
    t0 = time.monotonic()
    problems += [f"import {x}" for x in _imports(steps)]
    print(f"dry run on the CPU into {tmp} (imports: {time.monotonic() - t0:.1f} s):")
    outcomes = run_plan(steps, tmp, dry=True)
    problems += [f"{o.step.name}: {o.status}: {o.detail}" for o in outcomes if o.status in FAILED]
    for line in problems:
        print(f"dry: {line}", file=sys.stderr)
    print(f"dry run: {'FAILED' if problems else 'ok'} in {time.monotonic() - t0:.0f} s")
    return 1 if problems else 0
