"""The release records as two tables, and the cells that differ from their left neighbour.

Table 1: a row per (subject, check), a column per release; a cell is ``holds``, ``FAILS``,
``n/a`` or ``error``, or, where the two dtypes disagree, both (``FAILS f32, holds f64``).
Verdicts about the weight-decay form a subject does not declare are facts (``fact: holds``).
Table 2: instructions per SGD-32 step and per GD epoch (median of the repeats).

A cell *differs* when it is not what the nearest release to its left with a comparable cell
showed: an ``error`` cell, or a release that did not run, is compared with nothing (its
explanation is its recorded error). An instruction count differs when it moved by more than
:data:`INSTRUCTION_CHANGE` from its left neighbour.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from sgdbench.releases.plan import parse_release

__all__ = [
    "FORMAT",
    "INSTRUCTION_CHANGE",
    "INSTRUCTION_ROWS",
    "Difference",
    "check_table",
    "differences",
    "instruction_table",
    "merge",
    "tally",
]

FORMAT = "sgdbench-releases/1"
# Two runs of one build differ by ≤ 0.30 % in any count (docs/instructions.md); a move
# of more than 1 % between releases is a change to explain (the regression gate's threshold).
INSTRUCTION_CHANGE = 0.01
# Row label → (counted case, per step?).
INSTRUCTION_ROWS = {
    "SGD-32 step, DataLoader (the seed's)": ("SGD-32 DataLoader", True),
    "GD epoch, DataLoader (the seed's)": ("GD DataLoader", False),
    "SGD-32 step, Batches": ("SGD-32 Batches", True),
    "GD epoch, Batches": ("GD Batches", False),
}
NOT_RUN = "error"


@dataclass(frozen=True)
class Difference:
    """A cell of ``row`` in release ``release`` that is not ``before`` (its left neighbour's)."""

    table: str  # "checks" | "instructions"
    row: str
    release: str
    previous: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.row}: {self.previous} `{self.before}` → {self.release} `{self.after}`"


def merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of both, a release in ``new`` replacing the same release in ``old``, sorted
    in release order (ValueError naming a record whose ``release`` is not a release)."""
    by_label = {r["release"]: r for r in old}
    by_label.update({r["release"]: r for r in new})
    try:
        keys = {label: parse_release(label).sort_key for label in by_label}
    except ValueError as e:
        raise ValueError(f"a record's release is not a release: {e}") from None
    return [by_label[label] for label in sorted(by_label, key=keys.__getitem__)]


def _verdict(result: dict[str, Any]) -> str:
    status = {"holds": "holds", "fails": "FAILS", "n/a": "n/a", "xfail": "xfail"}[result["status"]]
    if result["fact_only"]:
        return "fact: holds" if result["status"] == "holds" else "fact: does not hold"
    return status


def _cell(results: list[dict[str, Any]]) -> str:
    """One check's verdicts over the dtypes: one word when they agree, else each dtype's."""
    verdicts = {r["variant"].split("-", 1)[1]: _verdict(r) for r in results}
    if len(set(verdicts.values())) == 1:
        return next(iter(verdicts.values()))
    return ", ".join(f"{v} {d.replace('float', 'f')}" for d, v in sorted(verdicts.items()))


def check_table(records: list[dict[str, Any]]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Rows (subject · check, in first-seen order) and cells[row][release]."""
    rows: dict[str, None] = {}
    by_subject: dict[str, list[str]] = {}
    for rec in records:
        for subject, res in rec["subjects"].items():
            for r in res["results"]:
                row = f"{subject} · {r['check']}"
                rows.setdefault(row)
                by_subject.setdefault(subject, [])
                if row not in by_subject[subject]:
                    by_subject[subject].append(row)
    cells: dict[str, dict[str, str]] = {row: {} for row in rows}
    for rec in records:
        label = rec["release"]
        for subject, subject_rows in by_subject.items():
            res = rec["subjects"].get(subject)
            for row in subject_rows:
                if not rec["ran"] or res is None or res["status"] == "error":
                    cells[row][label] = NOT_RUN
                elif res["status"] == "n/a":
                    cells[row][label] = "n/a"
                else:
                    check = row.split(" · ", 1)[1]
                    mine = [r for r in res["results"] if r["check"] == check]
                    cells[row][label] = _cell(mine) if mine else "n/a"
    return list(rows), cells


def per_unit(record: dict[str, Any], case: str, per_step: bool) -> float | None:
    """Median instructions of ``case`` per epoch, or per step when ``per_step``."""
    counts = (record.get("instructions") or {}).get("cases", {}).get(case)
    if not counts:
        return None
    median = float(statistics.median(counts["instructions"]))
    return median / counts["steps"] if per_step else median


def instruction_table(records: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """cells[row][release]: instructions per step (SGD-32) or per epoch (GD), or None."""
    return {
        row: {rec["release"]: per_unit(rec, case, step) for rec in records}
        for row, (case, step) in INSTRUCTION_ROWS.items()
    }


def _walk(
    table: str, row: str, cells: dict[str, Any], same: Any, show: Any = str
) -> list[Difference]:
    out, last = [], None
    for label, value in cells.items():
        if value is None or value == NOT_RUN:
            continue
        if last is not None and not same(last[1], value):
            out.append(Difference(table, row, label, last[0], show(last[1]), show(value)))
        last = (label, value)
    return out


def differences(records: list[dict[str, Any]]) -> list[Difference]:
    """Every cell of both tables that differs from its comparable left neighbour."""
    rows, cells = check_table(records)
    out = [d for row in rows for d in _walk("checks", row, cells[row], lambda a, b: a == b)]
    for row, values in instruction_table(records).items():
        out += _walk(
            "instructions",
            row,
            values,
            lambda a, b: abs(b / a - 1) <= INSTRUCTION_CHANGE,
            lambda v: f"{v:,.0f}",
        )
    return out


def tally(record: dict[str, Any]) -> dict[str, int]:
    """The release's verdicts per check and dtype (holds, fails, n/a, xfail; facts apart), and
    per subject: ``missing`` (the release lacks its path: its rows are n/a cells, not counted
    above) and ``errors`` (the subject's run broke)."""
    out = {"holds": 0, "fails": 0, "n/a": 0, "xfail": 0, "facts": 0, "errors": 0, "missing": 0}
    for res in record["subjects"].values():
        if res["status"] == "error":
            out["errors"] += 1
        elif res["status"] == "n/a":
            out["missing"] += 1
        for r in res["results"]:
            out["facts" if r["fact_only"] else r["status"]] += 1
    return out
