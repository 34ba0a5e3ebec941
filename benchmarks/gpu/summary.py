"""What each step of the GPU run came to, read from its files, and ``SUMMARY.md``."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from benchmarks.gpu.plan import WALL_LIMIT_S, Step

ROOT = Path(__file__).resolve().parents[2]
CPU_REPORTS = ROOT / "results" / "conformance"  # written by nox -s conformance (CPU)
FAILED = {"failed", "timed out", "not run"}

NOT_RUN_HERE = [
    "the 2-rank NCCL checks (`properties/test_distributed.py`, ids `nccl2`) need 2 GPUs: with "
    "one they are collected in properties-cuda and skip with that reason; ddp-nccl-1rank runs "
    "NCCL with one rank instead",
    "the n = 100 000 benchmarks (`nox -s bench -- --full` on a GPU machine): epoch costs of "
    "3 125 steps, four cases, 8 rounds, past this run's 8 minutes",
    "the torch.compile'd SGD (`torch-sgd-compiled`): inductor builds a new step for every "
    "example (65.8 s for 5 on the CPU), a budget of its own past 8 minutes",
]


@dataclass
class Outcome:
    """A step's verdict: passed, findings (a report of failing checks), failed, timed out,
    not run."""

    step: Step
    status: str
    wall_s: float = 0.0
    rc: int | None = None
    detail: str = ""
    skips: Counter[str] | None = None


def junit(path: Path) -> tuple[str, Counter[str]]:
    """'N passed, F failed, S skipped' and the skip reasons with their counts."""
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors")}
    skips: Counter[str] = Counter()
    failing = []
    for case in root.iter("testcase"):
        for s in case.findall("skipped"):
            skips[(s.get("message") or "").strip()] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failing.append(f"{case.get('classname')}::{case.get('name')}")
    passed = total["tests"] - total["failures"] - total["errors"] - sum(skips.values())
    text = f"{passed} passed, {total['failures'] + total['errors']} failed, "
    text += f"{sum(skips.values())} skipped"
    if failing:
        text += ": " + ", ".join(failing[:5]) + (" …" if len(failing) > 5 else "")
    return text, skips


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["status"] for r in report["results"]}


def conformance(path: Path, cpu: Path | None) -> str:
    """The report's counts and, given the CPU report of the same subject, where they differ."""
    report = json.loads(path.read_text(encoding="utf-8"))
    c = report["counts"]
    text = ", ".join(f"{v} {k}" for k, v in c.items() if v)
    if cpu is None or not cpu.exists():
        return text
    on_cpu = _statuses(json.loads(cpu.read_text(encoding="utf-8")))
    diffs = []
    for cid, status in _statuses(report).items():
        twin = cid.replace("[cuda", "[cpu")
        if twin in on_cpu and on_cpu[twin] != status:
            diffs.append(f"{cid} {status} (cpu: {on_cpu[twin]})")
    same = "; differs from the CPU report in " + ", ".join(diffs) if diffs else "; as on the CPU"
    return text + same


def markdown(outcomes: list[Outcome], info: dict[str, Any]) -> str:
    """results/gpu/SUMMARY.md."""
    machine = info.get("machine") or {}
    devices = ", ".join(d["name"] for d in machine.get("devices", [])) or "no CUDA device"
    lines = [
        "# GPU run",
        "",
        f"Written by `{info['command']}` on {info['started']}. torch {machine.get('torch', '?')}"
        f" (CUDA build {machine.get('cuda_build', '?')}) on {devices}. Wall time "
        f"{info['wall_s']:.0f} s; the plan's bound {info['bound_s']} s, the limit "
        f"{WALL_LIMIT_S} s. Exit status {info['exit']}.",
        "",
        "| step | status | wall s | budget s | result | writes |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for o in outcomes:
        writes = ", ".join(f"`{p}`" for p in o.step.outputs)
        detail = o.detail.replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {o.step.name} | {o.status} | {o.wall_s:.1f} | {o.step.budget_s} | {detail} | "
            f"{writes} |"
        )
    skips: Counter[str] = Counter()
    for o in outcomes:
        skips.update(o.skips or {})
    if skips:
        lines += ["", "## Skipped, by reason", ""]
        lines += [f"- {n} × {reason}" for reason, n in skips.most_common()]
    lines += ["", "## Not in this run", ""]
    lines += [f"- {x}" for x in NOT_RUN_HERE]
    lines += [
        "",
        "Each step's output is in `logs/STEP.log` beside this file; `summary.json` holds the "
        "table as data.",
        "",
    ]
    return "\n".join(lines)


def as_json(outcomes: list[Outcome], info: dict[str, Any]) -> str:
    steps = [
        {
            "name": o.step.name,
            "status": o.status,
            "rc": o.rc,
            "wall_s": round(o.wall_s, 2),
            "budget_s": o.step.budget_s,
            "detail": o.detail,
            "skips": dict(o.skips or {}),
            "argv": list(o.step.argv),
        }
        for o in outcomes
    ]
    return json.dumps({**info, "steps": steps}, indent=1, ensure_ascii=False) + "\n"
