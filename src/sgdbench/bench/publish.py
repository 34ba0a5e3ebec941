"""``bench-report``'s pipeline: one run into results/, through the gates, in one pass down.

A run (and its instruction counts, when counted) is loaded (:mod:`~sgdbench.bench.run`,
:mod:`~sgdbench.bench.counts`), gated against the baselines when compared
(:mod:`~sgdbench.bench.gates`: on instructions when counted, the wall-time ratios then only
warn), rendered (:mod:`~sgdbench.bench.report`, the instruction and data-parallel sections),
written into ``out`` only on success (:func:`sgdbench._output.staged_output`), and summed up in
the headline (:mod:`~sgdbench.bench.headline`). Exit statuses: 0 written, 1 a gate failed
(``out`` left as it was); a bad input file raises :class:`InputError` (the CLI's exit 2).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from sgdbench._output import staged_output
from sgdbench.bench import counts, gates, run
from sgdbench.bench.ddp_section import with_section
from sgdbench.bench.headline import headline
from sgdbench.bench.instructions_section import section, wall_time_ratios
from sgdbench.bench.report import render
from sgdbench.distributed.bench import STORE as DDP_STORE

__all__ = ["InputError", "Request", "publish"]


class InputError(ValueError):
    """A run, counts or baseline file that cannot be read: nothing was written."""


@dataclass(frozen=True)
class Request:
    """What ``bench-report`` was asked (its options, one field each)."""

    run: Path
    out: Path
    instructions: Path | None = None
    compare: bool = False
    baseline: Path | None = None
    threshold: float | None = None
    instructions_baseline: Path | None = None
    save_baseline: bool = False


def publish(req: Request) -> int:
    """BENCHMARKS.md, its plot and the stored JSON into ``req.out``; gate rows and the
    headline on stdout, a failed gate's reason on stderr. 0, or 1 when a gate failed."""
    try:
        data = run.load(req.run)
        counted = counts.load(req.instructions) if req.instructions else None
    except (OSError, ValueError) as e:
        raise InputError(str(e)) from None
    label = run.run_label(data)
    store = Path(req.out) / "benchmarks"
    gate_rows, instr_rows, verdicts = None, None, []
    if req.compare:
        baseline_path = req.baseline or store / f"{label}-baseline.json"
        try:
            passed, gate_rows = gates.wall_time(data, run.load(baseline_path), req.threshold)
        except (OSError, ValueError) as e:
            raise InputError(f"baseline: {e}") from None
        print("\n".join(gate_rows))
        if not passed and counted is None:
            print(
                f"regression gate: a tracked ratio worsened beyond its threshold against "
                f"{baseline_path}; {req.out} left as it was",
                file=sys.stderr,
            )
            return 1
        verdicts.append(
            "wall-time ratios ok"
            if passed
            else "wall-time ratios WORSENED (a warning: instructions are gated)"
        )
    if req.compare and counted is not None:
        ipath = req.instructions_baseline or store / f"{label}-instructions-baseline.json"
        try:
            ipassed, instr_rows = gates.instructions(counted, counts.load(ipath))
        except (OSError, ValueError) as e:
            raise InputError(f"instruction baseline: {e}") from None
        print("\n".join(instr_rows))
        if ipassed is False:
            print(
                f"instruction gate: a count or ratio grew beyond "
                f"+{gates.INSTRUCTION_THRESHOLD:.0%} against {ipath}; {req.out} left as it was",
                file=sys.stderr,
            )
            return 1
        verdicts.append("instructions ok" if ipassed else "instructions: no comparable baseline")
    instr_section = None
    if counted is not None:
        instr_section = section(counted, wall_time_ratios(data))
        if instr_rows:
            instr_section += ["", "### Instruction gate", "", *instr_rows]
    with staged_output(req.out) as stage:
        text = render(data, stage, gate_rows, instr_section, counted)
        ddp = store / DDP_STORE  # ddp-bench's last measurement: its section is kept
        if ddp.exists():
            text = with_section(text, json.loads(ddp.read_text(encoding="utf-8")))
        (stage / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    _store(req, store, label, counted is not None)
    report = Path(req.out) / "BENCHMARKS.md"
    print(headline(data, counted, str(report), "; ".join(verdicts) or "not run (--compare)"))
    return 0


def _store(req: Request, store: Path, label: str, counted: bool) -> None:
    """The run (and counts) as the latest, and as the baseline with ``save_baseline``."""
    store.mkdir(exist_ok=True)
    with staged_output(store) as stage:
        shutil.copyfile(req.run, stage / f"{label}-latest.json")
        if counted and req.instructions:
            shutil.copyfile(req.instructions, stage / f"{label}-instructions-latest.json")
        if req.save_baseline:
            shutil.copyfile(req.run, stage / f"{label}-baseline.json")
            if counted and req.instructions:
                shutil.copyfile(req.instructions, stage / f"{label}-instructions-baseline.json")
