"""One torch release, measured: install it into its own environment, check it, count it.

For each release :func:`run_release` creates a virtual environment under ``work``, installs
torch at exactly that version (timed: the *install time*; with ``--no-cache-dir``, so the
download is in it), then sgdbench (editable) and the instruction counter's hooks (timed
apart), measures the environment's disk (``du``), asks the release which SGD paths it has
(:mod:`.probe`), runs ``python -m sgdbench check`` on each subject whose path is present,
optionally counts the SGD-32 and GD epochs' instructions under callgrind (and the Python
functions they call, ``benchmarks/pycalls.py``, which names what a change added), and deletes the
environment unless asked to keep it. Everything that goes wrong becomes the record's
``error`` (or the subject's): a failing release is a column with its error, never the end of
the session. Wall times are measured on whatever else the machine is doing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sgdbench.releases.plan import Release

__all__ = ["COUNTED", "MIN_FREE_BYTES", "run_release"]

ROOT = Path(__file__).resolve().parents[3]
PROBE = Path(__file__).with_name("probe.py")
# The seed's SGD-32 and GD epochs, through the seed's DataLoader and through Batches.
COUNTED = ("SGD-32 DataLoader", "GD DataLoader", "SGD-32 Batches", "GD Batches")
MIN_FREE_BYTES = 15 * 10**9  # a CUDA build takes ~6 GB installed; keep 15 GB free besides
CHECK_TIMEOUT_S = 1800
INSTALL_TIMEOUT_S = 3600
# torch's Python sources the explanations cite, copied out of each environment before it goes
SOURCES = ("optim/sgd.py", "optim/optimizer.py", "_foreach_utils.py", "nn/functional.py")
HOOKS = "pytest-codspeed>=5,<6"  # benchmarks/instructions.py's callgrind start request


def du(path: Path) -> int:
    """Bytes allocated to the files under ``path`` (as ``du``: blocks, links not followed)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                continue
    return total


def _pip_env(release: Release) -> dict[str, str]:
    """The environment pip runs in: PyPI alone for a CUDA build, so that ``torch==2.13.0`` is
    not satisfied by the local ``2.13.0+cpu`` wheel (a local version matches ``==2.13.0``)."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    if release.build == "cuda":
        env.pop("PIP_FIND_LINKS", None)
        env["PIP_CONFIG_FILE"] = os.devnull  # drops /etc/pip.conf's find-links
    return env


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _timed_install(python: Path, args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    cmd = [str(python), "-m", "pip", "install", "--no-cache-dir", "--quiet", *args]
    proc = _run(cmd, env, INSTALL_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(args)} failed:\n{_tail(proc.stderr)}")
    return round(time.perf_counter() - start, 1)


def _kwargs(args: list[str]) -> dict[str, Any] | None:
    """The constructor arguments a subject's ``check`` arguments fix (None: not torch's SGD)."""
    if "torch.optim:SGD" not in args:
        return None
    if "--kwargs" not in args:
        return {}
    value: dict[str, Any] = json.loads(args[args.index("--kwargs") + 1])
    return value


def _summary(report: dict[str, Any]) -> list[dict[str, Any]]:
    keep = ("id", "check", "variant", "status", "fact_only")
    return [{**{k: r[k] for k in keep}, "message": r["message"][:300]} for r in report["results"]]


def check_subject(
    python: Path, name: str, args: list[str], missing: str | None, out: Path, env: dict[str, str]
) -> dict[str, Any]:
    """One subject's results in this release, n/a (its path is missing) or its error."""
    if missing:
        return {"status": "n/a", "reason": missing, "results": []}
    start = time.time()
    cmd = [str(python), "-m", "sgdbench", "check", *args, "--out", str(out / name)]
    try:
        proc = _run(cmd, env, CHECK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"no result within {CHECK_TIMEOUT_S} s", "results": []}
    report = out / name / "conformance.json"
    # exit 1 is a failing check (a finding); anything else, or no fresh report, is an error
    if proc.returncode not in (0, 1) or not report.exists() or report.stat().st_mtime < start:
        why = _tail(proc.stderr) or f"exit {proc.returncode}"
        return {"status": "error", "reason": why, "results": []}
    data = json.loads(report.read_text(encoding="utf-8"))
    return {"status": "ran", "reason": "", "results": _summary(data), "torch": data["torch"]}


def count(python: Path, out: Path, env: dict[str, str], tool: str = "instructions") -> Any:
    """The counted cases under this release: their instructions (benchmarks/instructions.py)
    or, with ``tool="pycalls"``, the Python functions they call (benchmarks/pycalls.py)."""
    cases = [a for name in COUNTED for a in ("--case", name)]
    cmd = [str(python), "-m", f"benchmarks.{tool}", "--out", str(out), *cases]
    proc = _run(cmd, env, CHECK_TIMEOUT_S)
    if proc.returncode != 0 or not out.exists():
        return {"error": _tail(proc.stderr) or f"exit {proc.returncode}"}
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if tool == "pycalls":
        return data["cases"]
    return {k: data[k] for k in ("key", "repeats", "cases", "objects", "functions")}


def run_release(
    release: Release,
    subjects: dict[str, list[str]],
    work: Path,
    *,
    instructions: bool = False,
    keep: bool = False,
) -> dict[str, Any]:
    """Install, check and count one release; the record (its ``error`` says what broke)."""
    env_dir = work / "envs" / release.label
    out = work / "runs" / release.label
    record: dict[str, Any] = {
        "release": release.label,
        "version": release.version,
        "build": release.build,
        "requirements": release.requirements(),
        "ran": False,
        "error": "",
        "subjects": {},
    }
    work.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(work).free
    record["free_bytes_before"] = free
    if free < MIN_FREE_BYTES:
        floor = MIN_FREE_BYTES / 1e9
        record["error"] = f"not installed: {free / 1e9:.1f} GB free, below {floor:g} GB"
        return record
    shutil.rmtree(env_dir, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    python = env_dir / "bin" / "python"
    pip_env = _pip_env(release)
    run_env = {**pip_env, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    try:
        subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
        pins = out / "constraints.txt"
        pins.write_text("\n".join(release.requirements()) + "\n", encoding="utf-8")
        record["install_seconds"] = _timed_install(python, release.requirements(), pip_env)
        record["torch_disk_bytes"] = du(env_dir)
        extra = ["-c", str(pins), "-e", str(ROOT), *([HOOKS] if instructions else [])]
        record["sgdbench_install_seconds"] = _timed_install(python, extra, pip_env)
        record["disk_bytes"] = du(env_dir)
        site = next((env_dir / "lib").glob("python*/site-packages"))
        record["nvidia_disk_bytes"] = du(site / "nvidia") if (site / "nvidia").exists() else 0
        for name in SOURCES:
            if (site / "torch" / name).exists():
                (out / "torch" / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(site / "torch" / name, out / "torch" / name)
        paths = [k for k in map(_kwargs, subjects.values()) if k is not None]
        proc = _run([str(python), str(PROBE), json.dumps(paths)], run_env, 600)
        if proc.returncode != 0:
            raise RuntimeError(f"torch does not import:\n{_tail(proc.stderr)}")
        record["probe"] = probe = json.loads(proc.stdout)
        record["ran"] = True
        for name, args in subjects.items():
            kw = _kwargs(args)
            missing = None if kw is None else probe["paths"][json.dumps(kw, sort_keys=True)]
            record["subjects"][name] = check_subject(python, name, args, missing, out, run_env)
            print(f"releases: {release.label} {name}: {record['subjects'][name]['status']}",
                  file=sys.stderr, flush=True)  # fmt: skip
        if instructions:
            record["instructions"] = count(python, out / "instructions.json", run_env)
            record["calls"] = count(python, out / "calls.json", run_env, "pycalls")
    except Exception as e:  # a release that breaks is recorded, and the next one runs
        record["error"] = f"{type(e).__name__}: {e}"
    finally:
        if not keep:
            shutil.rmtree(env_dir, ignore_errors=True)
        record["free_bytes_after"] = shutil.disk_usage(work).free
    return record
