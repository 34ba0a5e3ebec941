"""sgdbench's sessions. ``nox -l`` lists them; ``nox -s NAME -- ARGS`` passes ARGS through.

torch: on a machine without an NVIDIA GPU (no ``nvidia-smi``) every session installs torch
under ``constraints/cpu.txt`` (the CPU wheel, torch==2.13.0) instead of the multi-GB CUDA build
an unpinned ``torch`` resolves to. Set ``SGDBENCH_TORCH=any`` to let pip choose (a GPU user's
default), ``SGDBENCH_TORCH=cpu`` to force the constraint, or give your own ``PIP_CONSTRAINT``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
CPU_CONSTRAINTS = ROOT / "constraints" / "cpu.txt"


def _torch_constraint() -> list[str]:
    choice = os.environ.get("SGDBENCH_TORCH", "auto")
    if choice not in {"auto", "cpu", "any"}:
        raise SystemExit(f"SGDBENCH_TORCH must be auto, cpu or any, but got {choice!r}")
    cpu_only = shutil.which("nvidia-smi") is None
    if choice == "cpu" or (choice == "auto" and cpu_only):
        return ["-c", str(CPU_CONSTRAINTS)]
    return []


def _install(session: nox.Session, *groups: str) -> None:
    deps = [d for g in groups for d in nox.project.dependency_groups(PYPROJECT, g)]
    session.install(*_torch_constraint(), "-e", ".", *deps)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests, claims (quick) and properties; Hypothesis profile ``ci`` when CI is set."""
    _install(session, "test")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, and mypy (strict) on src/."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def reproduce(session: nox.Session) -> None:
    """The chapter's SGD-32 vs GD experiment into results/ (args go to the CLI)."""
    _install(session)
    args = session.posargs or ["--seeds", "10"]
    session.run("python", "-m", "sgdbench", "reproduce", *args)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks into results/ (BENCHMARKS.md, plot, JSON); --full, --compare, --save-baseline."""
    _install(session, "bench")
    flags = set(session.posargs)
    unknown = flags - {"--full", "--compare", "--save-baseline"}
    if unknown:
        session.error(
            f"unknown bench flag(s) {sorted(unknown)}: use --full, --compare, --save-baseline"
        )
    run_json = Path(session.create_tmp()) / "run.json"
    run_json.unlink(missing_ok=True)
    session.run(
        "pytest",
        "benchmarks",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--benchmark-json={run_json}",
        "--benchmark-columns=median,iqr,rounds",
        *(["--full"] if "--full" in flags else []),
    )
    session.run(
        "python",
        "-m",
        "sgdbench",
        "bench-report",
        str(run_json),
        "--out",
        "results",
        *sorted(flags & {"--compare", "--save-baseline"}),
    )


@nox.session
def claims(session: nox.Session) -> None:
    """The chapter's claims over 10 seeds → results/CLAIMS.md (args go to the CLI)."""
    _install(session)
    args = session.posargs or ["--seeds", "10"]
    session.run("python", "-m", "sgdbench", "claims", *args)
