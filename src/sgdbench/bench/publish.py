"""``bench-report``'s pipeline: one run into results/, through the gates, in one pass down.

A run (and its instruction counts, when counted) is loaded (:mod:`~sgdbench.bench.run`,
:mod:`~sgdbench.bench.counts`), gated against the baselines when compared
(:mod:`~sgdbench.bench.gates`: on instructions when counted, the wall-time ratios then only
warn), rendered (:mod:`~sgdbench.bench.report`, the instruction and data-parallel sections),
written into ``out`` only on success (:func:`sgdbench._output.staged_output`), and summed up in
the headline (:mod:`~sgdbench.bench.headline`). A gated run on main that passed appends its
record to the gate's history (:mod:`~sgdbench.bench.history`, ``out/benchmarks/history.jsonl``)
and redraws its trend plot (``out/bench_history.png``). Exit statuses: 0 written, 1 a gate
failed (``out`` and the history left as they were); a bad input file (run, counts, reference,
history) raises :class:`InputError` (the CLI's exit 2).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sgdbench._output import staged_output
from sgdbench.bench import counts, gates, history, run
from sgdbench.bench.ddp_section import with_section
from sgdbench.bench.headline import headline
from sgdbench.bench.history_plot import plot as plot_history
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
    history: Path | None = None  # default: out/benchmarks/history.jsonl


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
    history_path = req.history or store / HISTORY
    try:
        records = history.load(history_path)
    except (OSError, ValueError) as e:
        raise InputError(str(e)) from None
    gate_rows, instr_rows, verdicts = None, None, []
    new_record = None
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
            reference = counts.load(ipath)
            limit, spread = gates.threshold(counted)
            ipassed, instr_rows = gates.instructions(counted, reference, limit)
        except (OSError, ValueError) as e:
            raise InputError(f"instruction reference: {e}") from None
        against = (reference.get("reference") or {}).get("label", f"the baseline {ipath}")
        print("\n".join(instr_rows))
        if not ipassed:
            print(
                f"instruction gate: FAILED against {against} (threshold +{limit:.2%}): a count "
                f"or ratio grew beyond it, or nothing could be judged; {req.out} left as it was",
                file=sys.stderr,
            )
            return 1
        verdicts.append(f"instructions held against {against} (threshold +{limit:.2%})")
        new_record = _record(counted, against, limit, spread, data)
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
        if new_record is not None:
            records = history.appended(records, new_record)
            plot_history(records, stage / "bench_history.png")
    _store(req, store, label, counted is not None, records if new_record else None, history_path)
    if new_record is not None:
        print(f"history: {new_record['commit'][:12]} recorded in {history_path} "
              f"({len(records)} records)")  # fmt: skip
    elif counted is not None and req.compare:
        print(f"history: not recorded ({_why_not(counted)})")
    report = Path(req.out) / "BENCHMARKS.md"
    print(headline(data, counted, str(report), "; ".join(verdicts) or "not run (--compare)"))
    return 0


HISTORY = "history.jsonl"


def _why_not(counted: dict[str, Any]) -> str:
    tree = counted.get("tree") or {}
    if not tree.get("commit"):
        return "the counted tree is no git commit"
    if tree.get("dirty"):
        return "the counted tree has uncommitted changes"
    return f"on branch {tree.get('branch') or '(detached)'!r}, not main"


def _record(
    counted: dict[str, Any], against: str, limit: float, spread: float | None, data: Any
) -> dict[str, Any] | None:
    """The history record of a passed gate on a clean main checkout; None elsewhere."""
    tree = counted.get("tree") or {}
    if tree.get("branch") != "main" or tree.get("dirty") or not tree.get("commit"):
        return None
    wall = {str(r): m[0] for r in gates.GATE if (m := r.measure(data)) is not None}
    return history.record(counted, against, limit, spread, wall)


def _store(
    req: Request,
    store: Path,
    label: str,
    counted: bool,
    records: list[dict[str, Any]] | None = None,
    history_path: Path | None = None,
) -> None:
    """The run (and counts) as the latest, and as the baseline with ``save_baseline``; the
    history with its new record."""
    store.mkdir(exist_ok=True)
    if records is not None and history_path is not None and history_path.parent != store:
        with staged_output(history_path.parent) as stage:
            (stage / history_path.name).write_text(history.dumps(records), encoding="utf-8")
        records = None
    with staged_output(store) as stage:
        if records is not None and history_path is not None:
            (stage / history_path.name).write_text(history.dumps(records), encoding="utf-8")
        shutil.copyfile(req.run, stage / f"{label}-latest.json")
        if counted and req.instructions:
            shutil.copyfile(req.instructions, stage / f"{label}-instructions-latest.json")
        if req.save_baseline:
            shutil.copyfile(req.run, stage / f"{label}-baseline.json")
            if counted and req.instructions:
                shutil.copyfile(req.instructions, stage / f"{label}-instructions-baseline.json")
