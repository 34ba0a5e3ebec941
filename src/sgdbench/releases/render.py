"""``results/RELEASES.md`` from the merged records, with every differing cell explained.

:func:`render` returns the markdown and the differences no explanation covers; the command
line writes nothing while that list is not empty ("a difference with no explanation is not
finished"). Explanations are hand-written (:mod:`.explanations`): each names the rows and the
release it covers with ``*`` wildcards, and one that covers no difference is reported as stale.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from sgdbench.releases.explanations import EXPLANATIONS, Explanation
from sgdbench.releases.matrix import (
    INSTRUCTION_CHANGE,
    INSTRUCTION_ROWS,
    Difference,
    check_table,
    differences,
    instruction_table,
    tally,
)

__all__ = ["covers", "render", "stale", "unexplained"]


def covers(e: Explanation, d: Difference) -> bool:
    return fnmatchcase(d.row, e.rows) and fnmatchcase(d.release, e.release)


def unexplained(diffs: list[Difference], notes: tuple[Explanation, ...]) -> list[Difference]:
    return [d for d in diffs if not any(covers(e, d) for e in notes)]


def _gb(n: int | None) -> str:
    return "—" if n is None else f"{n / 1e9:.2f}"


def _summary(records: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| release | torch | build | install torch (s) | install sgdbench (s) | disk (GB) | "
        "of it nvidia-* (GB) | ran | holds | FAILS | n/a | facts | paths missing | errors |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for r in records:
        t = tally(r)
        probe = r.get("probe", {})
        build = f"CUDA {probe['cuda']}" if probe.get("cuda") else r["build"].upper()
        lines.append(
            f"| {r['release']} | {probe.get('torch', '—')} | {build} | "
            f"{r.get('install_seconds', '—')} | {r.get('sgdbench_install_seconds', '—')} | "
            f"{_gb(r.get('disk_bytes'))} | {_gb(r.get('nvidia_disk_bytes'))} | "
            f"{'yes' if r['ran'] and not r['error'] else 'no'} | {t['holds']} | {t['fails']} | "
            f"{t['n/a']} | {t['facts']} | {t['missing']} | {t['errors']} |"
        )
    return lines


def _one(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _mark(cell: str, diff: bool) -> str:
    return f"**{cell}** ◆" if diff else cell


def _checks(records: list[dict[str, Any]], diffs: set[tuple[str, str]]) -> list[str]:
    rows, cells = check_table(records)
    labels = [r["release"] for r in records]
    lines = ["| check | " + " | ".join(labels) + " |", "| --- |" + " --- |" * len(labels)]
    for row in rows:
        shown = [_mark(cells[row].get(lab, "—"), (row, lab) in diffs) for lab in labels]
        lines.append(f"| {row} | " + " | ".join(shown) + " |")
    return lines


def _instructions(records: list[dict[str, Any]], diffs: set[tuple[str, str]]) -> list[str]:
    table = instruction_table(records)
    labels = [r["release"] for r in records]
    lines = ["| instructions per | " + " | ".join(labels) + " |"]
    lines.append("| --- |" + " ---: |" * len(labels))
    for row, values in table.items():
        shown = [
            _mark("—" if v is None else f"{v / 1e3:,.0f} k", (row, lab) in diffs)
            for lab, v in values.items()
        ]
        lines.append(f"| {row} | " + " | ".join(shown) + " |")
    return lines


def _where(records: list[dict[str, Any]]) -> list[str]:
    """The SGD-32 Batches epoch's instructions per shared object, per release (thousands)."""
    objects: dict[str, None] = {}
    for r in records:
        for name in (r.get("instructions") or {}).get("objects", {}):
            objects.setdefault(name)
    labels = [r["release"] for r in records]
    lines = ["| shared object | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(labels)]
    totals = {n: max((r.get("instructions") or {}).get("objects", {}).get(n, 0) for r in records)
              for n in objects}  # fmt: skip
    for name in sorted(objects, key=lambda n: -totals[n])[:8]:
        cells = [
            f"{(r.get('instructions') or {}).get('objects', {}).get(name, 0) / 1e3:,.0f} k"
            for r in records
        ]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return lines


def _calls(records: list[dict[str, Any]]) -> list[str]:
    """Python calls per SGD-32 step and per GD epoch (benchmarks/pycalls.py), where counted."""
    labels = [r["release"] for r in records]
    lines = ["| Python calls per | " + " | ".join(labels) + " |"]
    lines.append("| --- |" + " ---: |" * len(labels))
    for row, (case, per_step) in INSTRUCTION_ROWS.items():
        cells = []
        for r in records:
            c = (r.get("calls") or {}).get(case)
            n = sum(c["calls"].values()) / (c["steps"] if per_step else 1) if c else None
            cells.append("—" if n is None else f"{n:,.1f}")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return lines


def render(
    records: list[dict[str, Any]],
    meta: dict[str, Any],
    notes: tuple[Explanation, ...] = EXPLANATIONS,
) -> tuple[str, list[Difference]]:
    """RELEASES.md, and the differences no explanation covers (empty: finished)."""
    diffs = differences(records)
    missing = unexplained(diffs, notes)
    marked = {(d.row, d.release) for d in diffs}
    lines = [
        "# sgdbench across torch releases",
        "",
        "Written by `nox -s releases` (`python -m sgdbench releases`) from "
        "`results/releases.json`. Each release was installed into its own environment and "
        "checked with `python -m sgdbench check` on torch's own SGD (each path the release "
        "has) and dropout. ◆ marks a cell that differs from the nearest release to its left; "
        "each one is explained under [Why cells differ](#why-cells-differ).",
        "",
        f"Machine: {meta.get('machine', '?')}. Sessions: "
        + "; ".join(
            f"`{s['command']}` ({s['wall_seconds'] / 60:.1f} min wall)"
            for s in meta.get("sessions", [])
        )
        + ". Wall times were measured on a shared machine under other load.",
        "",
        *(f"- {note}" for note in meta.get("notes", [])),
        *([""] if meta.get("notes") else []),
        "## Releases",
        "",
        *_summary(records),
        "",
        "Install torch: wall time of `pip install --no-cache-dir torch==V` (download included) "
        "into a fresh environment; install sgdbench: its dependencies and the callgrind hooks. "
        "Disk: the whole environment (`du`), deleted after the release was measured.",
        "",
        "## Conformance: check × release",
        "",
        *_checks(records, marked),
        "",
        "## Instructions per SGD-32 step and per GD epoch",
        "",
        f"callgrind, 1 thread, n = 800, median of the repeats; machine: "
        f"{meta.get('machine', '?')}. A change of more than {INSTRUCTION_CHANGE:.0%} from the "
        "left neighbour is marked. CUDA and CPU builds are different binaries: a step between "
        "them compares builds as well as releases.",
        "",
        *_instructions(records, marked),
        "",
        "Where an SGD-32 epoch's instructions go (through `Batches`, self cost by shared object):",
        "",
        *_where(records),
        "",
        "Python functions entered and C functions called from Python (`benchmarks/pycalls.py`, "
        "`sys.setprofile` over one epoch; deterministic): what a change in `libpython`'s share "
        "comes from.",
        "",
        *_calls(records),
    ]
    gaps = []
    for r in records:
        gaps += [f"- {r['release']}: **error** {_one(r['error'])}"] if r["error"] else []
        counted = r.get("instructions") or {}
        if "error" in counted:
            gaps.append(f"- {r['release']} instructions: **error**: {_one(counted['error'])}")
        for name, sub in r["subjects"].items():
            if sub["status"] != "ran":
                gaps.append(f"- {r['release']} {name}: **{sub['status']}**: {_one(sub['reason'])}")
    if gaps:
        lines += ["", "## Paths a release lacks, and errors", "", *gaps]
    lines += _explained(diffs, missing, notes)
    return "\n".join(lines).rstrip() + "\n", missing


def stale(diffs: list[Difference], notes: tuple[Explanation, ...]) -> list[Explanation]:
    """Explanations that cover no differing cell (a typo, or a difference that went away)."""
    return [e for e in notes if not any(covers(e, d) for d in diffs)]


def _explained(
    diffs: list[Difference], missing: list[Difference], notes: tuple[Explanation, ...]
) -> list[str]:
    lines = ["", "## Why cells differ", ""]
    for e in notes:
        mine = [d for d in diffs if covers(e, d)]
        if not mine:
            continue
        lines.append(f"### {e.title}")
        lines.append("")
        for d in mine:
            lines.append(f"- {d}")
        lines += ["", e.text.strip(), ""]
    if missing:
        lines += ["### UNEXPLAINED (not finished)", ""]
        lines += [f"- {d}" for d in missing]
    return lines
