"""The gate's history: one record per commit on main, its counts, ratios and verdict inputs.

Every gated run on main that passes (``nox -s bench -- --compare --instructions``) appends one
JSON line to ``results/benchmarks/history.jsonl`` (:func:`appended`): the commit and its date,
the fingerprint (what the counted process ran on; its CPU flags as a digest), what it was
judged against, the threshold and the A/A spread it came from, each case's count (median over
the repeats), the same-run ratios in instructions, and the tracked wall-time ratios. A second
run on the same commit replaces that commit's line. The file is bounded: past
:data:`MAX_RECORDS` lines the oldest are dropped (about 1.6 kB a line, so under 1 MB).

A failed run (a failed gate, an interrupted count) writes nothing, so the history holds only
what was judged and held. It still shows what the gate cannot: two steps that each stay under
the threshold against the baseline, or an accepted change. :func:`steps` names every commit
where a case moved by at least that run's threshold against the previous record with the same
fingerprint (a fingerprint change starts a new series: counts across it are not comparable).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, NamedTuple

from sgdbench.bench import counts as c

__all__ = [
    "FORMAT",
    "MAX_RECORDS",
    "Step",
    "appended",
    "dumps",
    "load",
    "record",
    "series",
    "steps",
]

FORMAT = "sgdbench-history/1"
MAX_RECORDS = 400
_KEYS = {"format", "commit", "date", "fingerprint", "reference", "threshold", "counts", "ratios"}


def load(path: str | Path) -> list[dict[str, Any]]:
    """The records, oldest first ([] when the file does not exist yet); ValueError naming the
    file and line when it is corrupt or foreign."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for n, line in enumerate(text.splitlines(), 1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{n}: not JSON ({e.msg}): a corrupt history file") from None
        if not isinstance(rec, dict) or rec.get("format") != FORMAT or not set(rec) >= _KEYS:
            raise ValueError(f"{path}:{n}: not an sgdbench history record ({FORMAT})")
        if not isinstance(rec["counts"], dict) or not all(
            isinstance(v, int | float) for v in rec["counts"].values()
        ):
            raise ValueError(f"{path}:{n}: its counts are not numbers: a corrupt history file")
        records.append(rec)
    return records


def _fingerprint(data: dict[str, Any]) -> dict[str, Any]:
    """The fingerprint with its CPU flags folded into an id (the whole of it, hashed)."""
    fp = dict(data.get("fingerprint") or {})
    ident = hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:12]
    fp.pop("cpu_flags", None)
    return {"id": ident, **fp}


def record(
    run: dict[str, Any],
    reference: str,
    threshold: float,
    spread: float | None,
    wall_time: dict[str, float],
) -> dict[str, Any]:
    """One history line for a gated run's counts (``run``: a COUNTS.json's data)."""
    tree = run.get("tree", {})
    ratios = {
        f"{n} / {d}": round(r, 6) for n, d in c.RATIOS if (r := c.ratio(run, n, d)) is not None
    }
    return {
        "format": FORMAT,
        "commit": tree.get("commit", ""),
        "subject": tree.get("subject", ""),
        "date": tree.get("date", ""),
        "fingerprint": _fingerprint(run),
        "reference": reference,
        "threshold": threshold,
        "aa_spread": spread,
        "counts": {case: c.median(run, case) for case in sorted(run["cases"])},
        "ratios": ratios,
        "wall_time": {k: round(v, 6) for k, v in wall_time.items()},
    }


def appended(records: list[dict[str, Any]], new: dict[str, Any]) -> list[dict[str, Any]]:
    """``records`` with ``new`` last (replacing its commit's line), the oldest dropped past
    :data:`MAX_RECORDS`."""
    kept = [r for r in records if r["commit"] != new["commit"]]
    return [*kept, new][-MAX_RECORDS:]


def dumps(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)


class Step(NamedTuple):
    """A case's count moved by at least the run's threshold against the previous record."""

    at: int  # index of the record that moved
    case: str
    change: float  # relative, against the previous record with the same fingerprint
    threshold: float


def steps(records: list[dict[str, Any]]) -> list[Step]:
    """Every (record, case) whose count moved by ≥ that record's threshold since the previous
    record with the same fingerprint."""
    out = []
    last: dict[str, int] = {}  # fingerprint id → index of its latest record
    for i, rec in enumerate(records):
        ident = rec["fingerprint"].get("id", "")
        j = last.get(ident)
        last[ident] = i
        if j is None:
            continue
        before = records[j]["counts"]
        for case, n in rec["counts"].items():
            old = before.get(case)
            if old and abs(n / old - 1) >= rec["threshold"]:
                out.append(Step(i, case, n / old - 1, rec["threshold"]))
    return out


def series(records: list[dict[str, Any]], cases: list[str] | None = None) -> list[str]:
    """``bench-history``'s text: one row per record, each case's count and change against the
    previous record of its fingerprint, then the steps."""
    if not records:
        return ["no records yet: a gated run on main appends one (nox -s bench -- --compare "
                "--instructions)"]  # fmt: skip
    names = cases or sorted({k for r in records for k in r["counts"]})
    moved = {(s.at, s.case) for s in steps(records)}
    head = ["commit", "date", "fingerprint", "threshold", *names]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    prev: dict[str, dict[str, Any]] = {}
    for i, rec in enumerate(records):
        ident = rec["fingerprint"].get("id", "")
        before = prev.get(ident, {}).get("counts", {})
        cells = [rec["commit"][:10], rec["date"][:10], ident[:8], f"{rec['threshold']:.2%}"]
        for name in names:
            n = rec["counts"].get(name)
            if n is None:
                cells.append("—")
                continue
            old = before.get(name)
            change = f" ({n / old - 1:+.2%})" if old else ""
            flag = " **STEP**" if (i, name) in moved else ""
            cells.append(f"{n / 1e6:.3f} M{change}{flag}")
        lines.append("| " + " | ".join(cells) + " |")
        prev[ident] = rec
    found = steps(records)
    lines += ["", f"{len(records)} records (at most {MAX_RECORDS}, the oldest dropped)."]
    if not found:
        lines.append("Steps: none (no case moved by its run's threshold between two records).")
    for s in found:
        rec = records[s.at]
        lines.append(
            f"Step: {s.case} moved {s.change:+.2%} (threshold {s.threshold:.2%}) at "
            f"{rec['commit'][:12]} {rec.get('subject', '')}".rstrip()
        )
    return lines
