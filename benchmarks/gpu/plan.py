"""What ``nox -s gpu`` (and ``python -m benchmarks.gpu``) runs on one GPU: the steps, as data.

Every step is one command line with a wall-time budget, the CUDA path it covers, the files it
writes (all under ``results/gpu/``, which no CPU run writes) and the way the dry mode proves it
on a CPU. Steps run in *phases*, one after another; inside a phase each *lane* runs its steps in
turn, and the lanes run side by side. Phase 1 holds the correctness checks in two lanes (each a
single-threaded process issuing small kernels; they share the GPU); phase 2 holds the timed
benchmarks alone, so nothing else runs beside the clock. The wall time is at most the sum, over
phases, of the longest lane's budgets (:func:`bound_s`): 440 s for this plan, under
:data:`WALL_LIMIT_S` with 40 s for stopping a step past its budget (5 s each) and writing the
summary.

The budgets are estimates, not measurements: no GPU has run this plan yet. Each is about 1.5-3x
what the same command should take on an H200, scaled from the CPU timings recorded in
``results/conformance/*/conformance.json`` and ``results/benchmarks/cpu-latest.json`` (the
network is 2-16-2, so a CUDA step costs its kernel launches, about what a CPU step costs in
torch's dispatcher), plus ~5 s a process for importing torch and creating a CUDA context.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["OUT", "SUBJECTS", "WALL_LIMIT_S", "Step", "bound_s", "plan"]

OUT = Path("results") / "gpu"
WALL_LIMIT_S = 480  # issue 18: "at most 8 minutes of wall time on one GPU"

_SGD = ["--optimizer", "torch.optim:SGD"]
# torch's own SGD paths (the default is foreach on CUDA; fused is CUDA's other default) and
# dropout, declared as ``nox -s conformance`` declares them on the CPU (noxfile.py, CONFORMANCE;
# ``nox -s gpu`` passes those with --subjects, and the dry mode fails if this copy drifts).
SUBJECTS: dict[str, list[str]] = {
    "torch-sgd-default": [*_SGD, "--bitwise"],
    "torch-sgd-for-loop": [*_SGD, "--kwargs", '{"foreach": false}', "--bitwise"],
    "torch-sgd-foreach": [*_SGD, "--kwargs", '{"foreach": true}', "--bitwise"],
    "torch-sgd-fused": [*_SGD, "--kwargs", '{"fused": true}'],
    "torch-F.dropout": ["--dropout", "torch.nn.functional:dropout", "--dropout-bitwise"],
    "torch-nn.Dropout": ["--dropout", "torch.nn:Dropout", "--dropout-bitwise"],
}
# CPU seconds at 50 examples, both dtypes (results/conformance/): 3.1, 3.1, 6.6, 3.0, 1.5, 1.5
_SUBJECT_BUDGET_S = {"torch-sgd-foreach": 35, "torch-F.dropout": 20, "torch-nn.Dropout": 20}
_DEFAULT_SUBJECT_BUDGET_S = 25

_PYTEST = ("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs")
_PYTEST_IMPORTS = ("pytest", "hypothesis", "torch", "sgdbench", "properties._support")


@dataclass(frozen=True)
class Step:
    """One command of the GPU run.

    ``argv[0] == "python"`` stands for the interpreter running the plan. ``dry`` says how the
    dry mode proves the step on a CPU: ``collect`` (``argv`` with pytest's --collect-only: the
    ids must be non-empty) or ``cpu`` (``dry_argv``, else ``argv``, run on the CPU; the dry
    mode's ``out`` is a temporary folder). ``ok`` are the exit statuses that are results rather
    than a broken step; ``needs`` a path an earlier step writes (checked before ``argv`` runs).
    """

    name: str
    argv: tuple[str, ...]
    budget_s: int
    outputs: tuple[Path, ...]
    covers: str
    imports: tuple[str, ...]
    phase: int
    lane: int = 0
    dry: str = "cpu"
    dry_argv: tuple[str, ...] = ()
    ok: tuple[int, ...] = (0,)
    needs: Path | None = None
    junit: Path | None = None
    report: Path | None = None  # a conformance.json this very run must write


def _pytest(
    name: str, paths: tuple[str, ...], marks: str, out: Path, extra: tuple[str, ...]
) -> tuple[tuple[str, ...], Path]:
    junit = out / f"{name}.xml"
    argv = (*_PYTEST, *paths, "-m", marks, "--hypothesis-profile", "ci", "--junitxml", str(junit))
    return argv + extra, junit


def plan(out: Path = OUT, subjects: dict[str, list[str]] | None = None) -> list[Step]:
    """The steps, writing under ``out`` (``results/gpu``; the dry mode passes a temporary one)."""
    subjects = SUBJECTS if subjects is None else subjects
    conf = out / "conformance"
    bench_json = out / "benchmarks.json"
    props, props_xml = _pytest("properties-cuda", ("properties",), "cuda", out, ())
    tests, tests_xml = _pytest("tests-cuda", ("tests",), "cuda", out, ())
    bench, bench_xml = _pytest(
        "benchmarks-cuda",
        ("benchmarks",),
        "cuda and not full",  # n = 100 000 would not fit: nox -s bench -- --full has it
        out,
        ("--full", "-p", "no:codspeed", f"--benchmark-json={bench_json}",
         "--benchmark-columns=median,iqr,rounds"),
    )  # fmt: skip
    ddp_json = out / "ddp-nccl-1rank.json"
    torchrun = ("python", "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1")
    ddp = ("-m", "sgdbench.distributed", "--epochs", "5", "--timeout", "30")
    gloo = ("--backend", "gloo", "--out", str(ddp_json))  # the dry mode's: no GPU
    report = ("python", "-m", "sgdbench", "bench-report")
    steps = [
        Step(
            "preflight",
            ("python", "-m", "benchmarks.gpu.machine", str(out / "machine.json"), "--require-cuda"),
            budget_s=20,  # importing torch, creating a CUDA context: ~5 s
            outputs=(out / "machine.json",),
            covers="torch sees a CUDA device (else nothing else runs); the machine, for SUMMARY",
            imports=("torch",),
            phase=0,
            dry_argv=("python", "-m", "benchmarks.gpu.machine", str(out / "machine.json")),
        ),
        Step(
            "properties-cuda",
            props,
            budget_s=180,  # same checks on the CPU: ~22 s at 50 examples; est. 60-120 s
            outputs=(props_xml,),
            covers="every property's cuda id: the conformance checks on sgdbench.reference and "
            "torch's SGD paths and dropouts, Batches (sgdbench.data) on CUDA, NCCL DDP (skips "
            "with < 2 GPUs)",
            imports=_PYTEST_IMPORTS,
            phase=1,
            lane=0,
            dry="collect",
            junit=props_xml,
        ),
        Step(
            "ddp-nccl-1rank",
            (*torchrun, *ddp, "--backend", "nccl", "--out", str(ddp_json)),
            budget_s=40,  # torchrun, NCCL's start, 5 epochs of 25 steps: est. 15-25 s
            outputs=(ddp_json,),
            covers="sgdbench.distributed under torchrun on NCCL with one rank on cuda:0 (the "
            "2-rank NCCL checks need 2 GPUs)",
            imports=("torch.distributed.run", "sgdbench.distributed"),
            phase=1,
            lane=0,
            dry_argv=(*torchrun, *ddp[:2], "--epochs", "1", *gloo),
        ),
        Step(
            "tests-cuda",
            tests,
            budget_s=40,  # 23 ids of small tensors: est. 10-20 s
            outputs=(tests_xml,),
            covers="unit tests' cuda ids: Split.to, Batches vs DataLoader on CUDA, reference "
            "dropout and SGD (bitwise = torch) on CUDA, train_test's CUDA synchronisation",
            imports=_PYTEST_IMPORTS,
            phase=1,
            lane=1,
            dry="collect",
            junit=tests_xml,
        ),
    ]
    for name, args in subjects.items():
        folder = conf / name
        argv = ("python", "-m", "sgdbench", "check", *args, "--out", str(folder))
        steps.append(
            Step(
                f"conformance-{name}",
                (*argv, "--device", "cuda"),
                budget_s=_SUBJECT_BUDGET_S.get(name, _DEFAULT_SUBJECT_BUDGET_S),
                outputs=(folder,),
                covers=f"`sgdbench check` on {name} with --device cuda (50 examples, both dtypes)",
                imports=("sgdbench.cli", "torch", "hypothesis"),
                phase=1,
                lane=1,
                dry_argv=(*_examples_1(argv), "--device", "cpu"),
                ok=(0, 1, 3),  # 1: a check fails, 3: a harness error: findings, in the report
                report=folder / "conformance.json",
            )
        )
    steps += [
        Step(
            "conformance-index",
            ("python", "-m", "sgdbench", "check-index", str(conf)),
            budget_s=10,
            outputs=(conf / "INDEX.md",),
            covers="one row per CUDA report (results/gpu/conformance/INDEX.md)",
            imports=("sgdbench.cli",),
            phase=2,  # after every report; cheap beside the clock
            needs=conf,
        ),
        Step(
            "benchmarks-cuda",
            bench,
            budget_s=170,  # the same cases' CPU rounds: ~41 s (cpu-latest.json); est. 60-120 s
            outputs=(bench_xml, bench_json),
            covers="every CUDA benchmark but n = 100 000: epoch and iteration cost (n = 800, "
            "10 000), cost against batch size, time to accuracy; CUDA synchronisation per epoch",
            imports=(*_PYTEST_IMPORTS, "pytest_benchmark", "benchmarks._cases"),
            phase=2,
            dry="collect",
            junit=bench_xml,
        ),
        Step(
            "bench-report",
            (*report, str(bench_json), "--out", str(out / "bench")),
            budget_s=20,
            outputs=(out / "bench",),
            covers="the benchmark report of a CUDA run (results/gpu/bench/BENCHMARKS.md, the "
            "run labelled by the GPU's name)",
            imports=("sgdbench.cli", "matplotlib", "numpy"),
            phase=2,
            dry_argv=(*report, "--help"),
            needs=bench_json,
        ),
    ]
    return steps


def _examples_1(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The command with ``--examples 1`` (replacing a given count)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--examples":
            skip = True
            continue
        out.append(a)
    return (*out, "--examples", "1")


def bound_s(steps: list[Step]) -> int:
    """The longest the steps can take: per phase, the lane with the most budget, summed."""
    total = 0
    for phase in sorted({s.phase for s in steps}):
        lanes: dict[int, int] = {}
        for s in steps:
            if s.phase == phase:
                lanes[s.lane] = lanes.get(s.lane, 0) + s.budget_s
        total += max(lanes.values())
    return total
