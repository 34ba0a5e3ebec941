"""sgdbench's sessions. ``nox -l`` lists them; ``nox -s NAME -- ARGS`` passes ARGS through.

torch: on a machine without an NVIDIA GPU (no ``nvidia-smi``) every session installs torch
under ``constraints/cpu.txt`` (the CPU wheel, torch==2.13.0) instead of the multi-GB CUDA build
an unpinned ``torch`` resolves to. Set ``SGDBENCH_TORCH=any`` to let pip choose (a GPU user's
default), ``SGDBENCH_TORCH=cpu`` to force the constraint, or give your own ``PIP_CONSTRAINT``.

``nox -s releases [-- RELEASE... --instructions --keep --merge]`` is the exception: it installs
*each* torch release named (default: ``sgdbench.releases.plan.DEFAULT_RELEASES``; ``2.4.1`` is
PyPI's CUDA build, ``2.13.0+cpu`` the CPU wheel) into its own environment under
``.nox/releases-work/envs/`` and deletes it after measuring it unless ``--keep``; the results go
to ``results/RELEASES.md`` and ``results/releases.json``. Several GB of disk per CUDA build and
tens of minutes: never part of CI, and not a default session.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time
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
    # the Lion oracle is compared with lion-pytorch (pure Python; it declares torch: --no-deps)
    session.install("--no-deps", "lion-pytorch==0.2.5")
    # every core (2 in CI); the tests that spawn process groups stay in one worker (loadgroup)
    session.run("pytest", "-n", "auto", "--dist", "loadgroup", "-m", "not slow", *session.posargs)


@nox.session
def slow(session: nox.Session) -> None:
    """The tests marked slow (seconds each): the conformance suite's self-check (every planted
    bug caught, every correct implementation passing, 100 examples a check) and the bitwise
    SGD-32 reproductions; CI runs it after ``tests``."""
    _install(session, "test")
    session.run("pytest", "-n", "auto", "--dist", "loadgroup", "-m", "slow", *session.posargs)


# A library author's own test suite: sgdbench's checks on their optimizer, as the README shows.
USER_SUITE = """\
import torch
from sgdbench.conformance import OptimizerUnderTest, parametrize_with_checks


@parametrize_with_checks([OptimizerUnderTest(torch.optim.AdamW, algorithm="adamw")])
def test_adamw(impl, check):
    check(impl)
"""


@nox.session
def wheel(session: nox.Session) -> None:
    """Build the wheel, install it in a fresh environment, and run ``check`` and a user's
    pytest suite from it outside the repository, as a library author's CI would."""
    import tempfile

    dist = Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    outside = Path(tempfile.mkdtemp(prefix="sgdbench-user-project-"))  # not under the checkout
    session.install("pip>=24")
    session.run("python", "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dist),
                str(ROOT))  # fmt: skip
    (built,) = dist.glob("sgdbench-*.whl")
    session.install(*_torch_constraint(), str(built), "pytest>=8")
    session.chdir(outside)
    session.run("python", "-c", "import sgdbench, sys; "
                f"sys.exit('imported from the checkout' if {str(ROOT / 'src')!r} in "
                "sgdbench.__file__ else 0)")  # fmt: skip
    session.run("python", "-m", "sgdbench", "check", "--optimizer", "torch.optim:AdamW",
                "--algorithm", "adamw", "--examples", "5", "--out", "report")  # fmt: skip
    (outside / "test_my_optimizer.py").write_text(USER_SUITE, encoding="utf-8")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_optimizer.py")
    shutil.rmtree(outside, ignore_errors=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, mypy (strict) on src/, and the layers contracts
    (lint-imports: pyproject.toml's [tool.importlinter], see docs/architecture.md)."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("lint-imports")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation (mkdocs.yml) → site/, with warnings as errors: a broken link, a missing
    page or a stale anchor fails. The package is installed so mkdocstrings renders its API."""
    _install(session, "docs")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"), *session.posargs)


@nox.session
def reproduce(session: nox.Session) -> None:
    """The chapter's SGD-32 vs GD experiment into results/ (args go to the CLI). 10 seeds: the
    chapter's figures; reproduce.json keeps every epoch of every seed (≈ 16 kB a seed)."""
    _install(session)
    args = session.posargs or ["--seeds", "10"]
    session.run("python", "-m", "sgdbench", "reproduce", *args)


BENCH_FLAGS = {"--full", "--compare", "--save-baseline", "--instructions"}
VALGRIND_HINT = (
    "--instructions needs valgrind: `apt-get install valgrind` (Debian/Ubuntu) or "
    "`dnf install valgrind` (Fedora); plain `nox -s bench` does not"
)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks into results/ (BENCHMARKS.md, plot, JSON); --full, --compare, --save-baseline,
    --instructions (callgrind counts, gated instead of wall time)."""
    flags = set(session.posargs)
    unknown = flags - BENCH_FLAGS
    if unknown:
        session.error(
            f"unknown bench flag(s) {sorted(unknown)}: use {', '.join(sorted(BENCH_FLAGS))}"
        )
    if "--instructions" in flags and shutil.which("valgrind") is None:
        print(f"nox -s bench: {VALGRIND_HINT}", file=sys.stderr)
        raise SystemExit(2)  # usage: the mode cannot run here (nox passes the status on)
    _install(session, "bench")
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
        "-p",
        "no:codspeed",  # installed for its callgrind hooks only (benchmarks/instructions.py)
        *(["--full"] if "--full" in flags else []),
    )
    counts = []
    if "--instructions" in flags:
        counts_json = Path(session.create_tmp()) / "instructions.json"
        counts_json.unlink(missing_ok=True)
        if "--compare" in flags:
            # HEAD counted twice (the A/A spread), and the reference it is judged against: the
            # committed baseline when the fingerprints match, else the base commit counted now
            # in a git worktree (benchmarks/gate.py). A base that cannot count fails the gate.
            ref_json = counts_json.with_name("reference.json")
            ref_json.unlink(missing_ok=True)
            session.run(
                "python",
                "-m",
                "benchmarks.gate",
                "--counts",
                str(counts_json),
                "--reference",
                str(ref_json),
                "--baseline",
                str(ROOT / "results" / "benchmarks" / "cpu-instructions-baseline.json"),
            )
            counts = ["--instructions-baseline", str(ref_json)]
        else:
            session.run("python", "-m", "benchmarks.instructions", "--out", str(counts_json))
        counts += ["--instructions", str(counts_json)]
    session.run(
        "python",
        "-m",
        "sgdbench",
        "bench-report",
        str(run_json),
        "--out",
        "results",
        *sorted(flags & {"--compare", "--save-baseline"}),
        *counts,
    )


@nox.session(name="bench_find")
def bench_find(session: nox.Session) -> None:
    """GOOD BAD [--case NAME …]: the first commit after GOOD whose instruction counts moved past
    the gate's threshold, by bisection over git worktrees (benchmarks/findcommit.py)."""
    if shutil.which("valgrind") is None:
        print("nox -s bench_find: needs valgrind: `apt-get install valgrind`", file=sys.stderr)
        raise SystemExit(2)
    _install(session, "bench")
    session.run("python", "-m", "benchmarks.findcommit", *session.posargs)


@nox.session
def claims(session: nox.Session) -> None:
    """The chapter's claims over 1,000 seeds (two moons; digits: 100) → results/CLAIMS.md
    (args go to the CLI; ≈ 6 min here)."""
    _install(session)
    args = session.posargs or ["--seeds", "1000"]
    session.run("python", "-m", "sgdbench", "claims", *args)


@nox.session
def ddp(session: nox.Session) -> None:
    """Data-parallel epoch cost and all-reduce share against the world size (DDP, gloo) →
    the data-parallel section of results/BENCHMARKS.md and results/benchmarks/ddp-cpu.json
    (args go to ``python -m sgdbench ddp-bench``)."""
    _install(session)
    args = session.posargs or ["--world-sizes", "1,2,4", "--epochs", "50"]
    session.run("python", "-m", "sgdbench", "ddp-bench", *args)


# Third-party SGD-family optimizers and dropouts the conformance session checks. They declare
# `torch`, so they go in with --no-deps next to the session's torch (else pip pulls the CUDA
# build); pytorch-ranger is what torch_optimizer imports at top level. Not here, because they
# cannot be checked from the command line (results/conformance/THIRD_PARTY.md): schedulefree
# (step() raises unless optimizer.train() was called), torchopt (not a torch.optim.Optimizer),
# and anything importing torchvision (timm, composer: PyPI's torchvision does not load beside
# CPU torch).
THIRD_PARTY = [
    *["pytorch_optimizer==4.1.0", "torch-optimizer==0.3.0", "pytorch-ranger==0.1.1"],
    *["adamp==0.3.0", "heavyball==3.2.1"],  # optimizers (results/conformance/THIRD_PARTY.md)
    *["lion-pytorch==0.2.5", "torch-optimi==0.3.3", "bitsandbytes==0.50.2"],  # Adam family, Lion
    *["dropblock==0.3.0", "monai==1.6.1", "pytorch-nlp==0.5.0", "torchlayers==0.1.1"],  # dropouts
]
# What those need beside torch (installed normally, under the torch constraint): heavyball
# imports opt_einsum; numpy (pytorch_optimizer, heavyball, monai, dropblock) comes with sgdbench.
THIRD_PARTY_DEPS = ["opt-einsum==3.4.0", "packaging"]  # packaging: bitsandbytes
_SGD = ["--optimizer", "torch.optim:SGD"]


def _po(name: str, weight_decay: str) -> list[str]:
    return ["--optimizer", f"pytorch_optimizer:{name}", "--weight-decay", weight_decay]


CONFORMANCE = {
    "reference-sgd": ["--optimizer", "sgdbench.reference:SGD", "--bitwise"],
    "reference-dropout": ["--dropout", "sgdbench.reference:dropout", "--dropout-bitwise"],
    "torch-sgd-default": [*_SGD, "--bitwise"],
    "torch-sgd-for-loop": [*_SGD, "--kwargs", '{"foreach": false}', "--bitwise"],
    "torch-sgd-foreach": [*_SGD, "--kwargs", '{"foreach": true}', "--bitwise"],
    "torch-sgd-fused": [*_SGD, "--kwargs", '{"fused": true}'],
    # each example compiles a new step (~0.7 s after a ~15 s first build): fewer examples
    "torch-sgd-compiled": [
        *["--optimizer", "sgdbench.conformance.targets:CompiledSGD"],
        *["--examples", "5", "--dtype", "float32"],
    ],
    "torch-F.dropout": ["--dropout", "torch.nn.functional:dropout", "--dropout-bitwise"],
    "torch-nn.Dropout": ["--dropout", "torch.nn:Dropout", "--dropout-bitwise"],
    # declared what they document: one draw per sample and channel
    "torch-nn.Dropout1d": [
        *["--dropout", "torch.nn:Dropout1d", "--dropout-rank", "3"],
        *["--dropout-structure", "channel"],
    ],
    "torch-nn.Dropout2d": [
        *["--dropout", "torch.nn:Dropout2d", "--dropout-rank", "4"],
        *["--dropout-structure", "channel"],
    ],
    "torch-nn.Dropout3d": [
        *["--dropout", "torch.nn:Dropout3d", "--dropout-rank", "5"],
        *["--dropout-structure", "channel"],
    ],
    "torch-nn.AlphaDropout": ["--dropout", "torch.nn:AlphaDropout"],
    "torch-nn.FeatureAlphaDropout": [
        *["--dropout", "torch.nn:FeatureAlphaDropout", "--dropout-rank", "4"]
    ],
    "pytorch_optimizer-SGDW-decoupled": [
        *["--optimizer", "pytorch_optimizer:SGDW", "--weight-decay", "decoupled"],
        *["--kwargs", '{"weight_decouple": true}'],
    ],
    "pytorch_optimizer-SGDW-coupled": [
        *["--optimizer", "pytorch_optimizer:SGDW", "--weight-decay", "coupled"],
        *["--kwargs", '{"weight_decouple": false}'],
    ],
    "torch_optimizer-SGDW": ["--optimizer", "torch_optimizer:SGDW", "--weight-decay", "decoupled"],
    # Third-party SGD-family optimizers (results/conformance/THIRD_PARTY.md: what each is, and
    # each FAIL's evidence).
    # --weight-decay: the form its source applies by default (file:line in the survey).
    "pytorch_optimizer-SGDP": _po("SGDP", "decoupled"),
    "torch_optimizer-SGDP": ["--optimizer", "torch_optimizer:SGDP", "--weight-decay", "decoupled"],
    "adamp-SGDP": ["--optimizer", "adamp:SGDP", "--weight-decay", "decoupled"],
    "pytorch_optimizer-AccSGD": _po("AccSGD", "coupled"),
    "torch_optimizer-AccSGD": ["--optimizer", "torch_optimizer:AccSGD"],
    "pytorch_optimizer-ASGD": _po("ASGD", "decoupled"),
    "pytorch_optimizer-SignSGD": _po("SignSGD", "decoupled"),
    "pytorch_optimizer-SGDSaI": _po("SGDSaI", "decoupled"),
    # momentum must lie in (0, 1): checked from μ = 0.9, the μ = 0 checks not applicable
    "pytorch_optimizer-ScheduleFreeSGD": [  # --kwargs: the base configuration (momentum)
        *_po("ScheduleFreeSGD", "coupled"),
        *["--kwargs", '{"momentum": 0.9}'],
    ],
    "pytorch_optimizer-QHM": _po("QHM", "coupled"),
    "torch_optimizer-QHM": ["--optimizer", "torch_optimizer:QHM"],
    "pytorch_optimizer-PID": _po("PID", "coupled"),
    "torch_optimizer-PID": ["--optimizer", "torch_optimizer:PID"],
    "pytorch_optimizer-LARS": _po("LARS", "coupled"),
    "torch_optimizer-LARS": ["--optimizer", "torch_optimizer:LARS"],
    "pytorch_optimizer-AggMo": _po("AggMo", "coupled"),
    "torch_optimizer-AggMo": ["--optimizer", "torch_optimizer:AggMo"],
    # **kwargs that refuses unknown keys; its momentum is called `beta` (heavy ball, default 0.9)
    # its step is torch.compile'd: 261 s for 10 examples of float32 here, so 10 examples
    "heavyball-SGD": [
        *["--optimizer", "heavyball:SGD", "--weight-decay", "decoupled"],
        *["--examples", "10"],
    ],
    # torch's own Adam family on every CPU path (NAdam and RAdam have no fused path)
    **{
        f"torch-{name.lower()}-{path}": [
            *["--optimizer", f"torch.optim:{name}", "--algorithm", name.lower()],
            *(["--kwargs", flag] if flag else []),
            *(["--bitwise"] if path == "for-loop" else []),
        ]
        for name in ("Adam", "AdamW", "NAdam", "RAdam")
        for path, flag in (
            ("for-loop", '{"foreach": false}'),
            ("foreach", '{"foreach": true}'),
            ("fused", '{"fused": true}'),
        )
        if path != "fused" or name in ("Adam", "AdamW")
    },
    # Third-party Adam-family and Lion optimizers (results/conformance/THIRD_PARTY.md), each
    # declared what its documentation says it is; --weight-decay where the package's default
    # form is not the algorithm's own
    "lion_pytorch-Lion": ["--optimizer", "lion_pytorch:Lion", "--algorithm", "lion"],
    "pytorch_optimizer-Lion": ["--optimizer", "pytorch_optimizer:Lion", "--algorithm", "lion"],
    "optimi-Lion": ["--optimizer", "optimi:Lion", "--algorithm", "lion"],
    "bitsandbytes-Lion32bit": [
        "--optimizer",
        "bitsandbytes.optim:Lion32bit",
        "--algorithm",
        "lion",
    ],
    "optimi-Adam": ["--optimizer", "optimi:Adam", "--algorithm", "adam"],
    "optimi-AdamW": ["--optimizer", "optimi:AdamW", "--algorithm", "adamw"],
    "optimi-RAdam": ["--optimizer", "optimi:RAdam", "--algorithm", "radam"],
    "bitsandbytes-Adam32bit": [
        "--optimizer",
        "bitsandbytes.optim:Adam32bit",
        "--algorithm",
        "adam",
    ],
    "bitsandbytes-AdamW32bit": [
        *["--optimizer", "bitsandbytes.optim:AdamW32bit", "--algorithm", "adamw"],
    ],
    "pytorch_optimizer-RAdam": [
        *["--optimizer", "pytorch_optimizer:RAdam", "--algorithm", "radam"],
        *["--weight-decay", "decoupled"],  # weight_decouple=True by default
    ],
    "torch_optimizer-RAdam": [
        *["--optimizer", "torch_optimizer:RAdam", "--algorithm", "radam"],
        *["--weight-decay", "decoupled"],
    ],
    # QHAdam with its default ν = (1, 1) is Adam (Ma & Yarats, 2019)
    "pytorch_optimizer-QHAdam": ["--optimizer", "pytorch_optimizer:QHAdam", "--algorithm", "adam"],
    "torch_optimizer-QHAdam": ["--optimizer", "torch_optimizer:QHAdam", "--algorithm", "adam"],
    # AdamP is AdamW plus a projection that acts only where a gradient is nearly orthogonal
    # to its weight (Heo et al., 2021)
    "adamp-AdamP": ["--optimizer", "adamp:AdamP", "--algorithm", "adamw"],
    "torch_optimizer-AdamP": ["--optimizer", "torch_optimizer:AdamP", "--algorithm", "adamw"],
    "pytorch_optimizer-AdamP": ["--optimizer", "pytorch_optimizer:AdamP", "--algorithm", "adamw"],
    # torch.compile'd steps (a rebuild per drawn shape): float32, 5 examples, 10 s a check
    "heavyball-AdamW": [
        *["--optimizer", "heavyball:AdamW", "--algorithm", "adamw"],
        *["--examples", "5", "--dtype", "float32", "--budget", "10"],
    ],
    "heavyball-NAdam": [
        *["--optimizer", "heavyball:NAdam", "--algorithm", "nadam"],
        *["--examples", "5", "--dtype", "float32", "--budget", "10"],
    ],
    # Third-party dropouts.
    "dropblock-DropBlock2D": [  # block_size: a constructor argument
        *["--dropout", "dropblock:DropBlock2D", "--dropout-rank", "4"],
        *["--dropout-kwargs", '{"block_size": 3}'],
    ],
    "monai-DropPath": [  # one draw per sample (stochastic depth)
        *["--dropout", "monai.networks.layers:DropPath", "--dropout-rank", "4"],
        *["--dropout-structure", "sample"],
    ],
    # one mask per (batch, feature), shared along the sequence axis 0: no declarable structure
    "torchnlp-LockedDropout": ["--dropout", "torchnlp.nn:LockedDropout", "--dropout-rank", "3"],
    "torchlayers-Dropout": ["--dropout", "torchlayers:Dropout"],
    "torchlayers-Dropout-4d": [  # it builds torch.nn.Dropout2d: one draw per channel
        *["--dropout", "torchlayers:Dropout", "--dropout-rank", "4"],
        *["--dropout-structure", "channel"],
    ],
}


@nox.session
def conformance(session: nox.Session) -> None:
    """The conformance suite on torch's SGD paths and dropouts and on third-party SGD-family
    optimizers and dropouts → results/conformance/ (one report each, INDEX.md); ARGS: report
    names to run, default all."""
    _install(session)
    session.install(*_torch_constraint(), *THIRD_PARTY_DEPS)
    session.install("--no-deps", *THIRD_PARTY)
    unknown = set(session.posargs) - set(CONFORMANCE)
    if unknown:
        session.error(f"unknown report(s) {sorted(unknown)}: choose from {sorted(CONFORMANCE)}")
    for name in session.posargs or CONFORMANCE:
        out = ROOT / "results" / "conformance" / name
        started = time.time()
        # exit 1 (a check fails) and 3 (a harness error: no verdict on some check) are findings
        # to commit, not a broken session; but a crash exits 1 too, so the report must have been
        # written by this very run
        session.run("python", "-m", "sgdbench", "check", *CONFORMANCE[name], "--out", str(out),
                    success_codes=[0, 1, 3])  # fmt: skip
        report = out / "conformance.json"
        if not report.exists() or report.stat().st_mtime < started:
            session.error(f"check {name} wrote no report: it crashed (see above)")
    session.run("python", "-m", "sgdbench", "check-index", "results/conformance")


# What `nox -s releases` checks under every torch release: torch's own SGD paths (the default,
# for-loop, foreach and fused; a path a release lacks is n/a) and dropout. Not the
# torch.compile'd step: it took > 4 min a release here under load (inductor builds C++ per
# example), too long for 8 releases; `nox -s conformance -- torch-sgd-compiled` checks it.
RELEASE_SUBJECTS = [
    *["torch-sgd-default", "torch-sgd-for-loop", "torch-sgd-foreach", "torch-sgd-fused"],
    *["torch-F.dropout", "torch-nn.Dropout"],
]


@nox.session(default=False)
def releases(session: nox.Session) -> None:
    """Conformance and instruction counts under each torch release → results/RELEASES.md (not
    CI: GBs per release); ARGS: releases (2.4.1, 2.13.0+cpu), --instructions, --keep, --merge."""
    _install(session)
    subjects = Path(session.create_tmp()) / "subjects.json"
    subjects.write_text(json.dumps({n: CONFORMANCE[n] for n in RELEASE_SUBJECTS}), encoding="utf-8")
    command = shlex.join(["nox", "-s", "releases", "--", *session.posargs])
    session.run("python", "-m", "sgdbench", "releases", "--subjects", str(subjects),
                "--work", str(ROOT / ".nox" / "releases-work"), "--command-line", command,
                *session.posargs)  # fmt: skip


@nox.session(default=False)
def gpu(session: nox.Session) -> None:
    """Every CUDA property, test and benchmark, the conformance suite on torch's CUDA SGD paths
    and dropout → results/gpu/ (SUMMARY.md), ≤ 8 min on one GPU; ``-- --dry``: proved on a CPU."""
    _install(session, "bench")
    # the subjects, declared as above; benchmarks/gpu/plan.py keeps a copy for a machine without
    # nox (python -m benchmarks.gpu), and the dry mode fails if the two drift apart
    subjects = Path(session.create_tmp()) / "gpu-subjects.json"
    subjects.write_text(json.dumps({n: CONFORMANCE[n] for n in RELEASE_SUBJECTS}), encoding="utf-8")
    session.run("python", "-m", "benchmarks.gpu", "--subjects", str(subjects), *session.posargs)
