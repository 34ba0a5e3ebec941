"""A conformance run's results as one line per check, JSON and markdown."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

import sgdbench
from sgdbench.conformance._runner import CheckResult

__all__ = ["Report"]

MARK = {"holds": "holds", "fails": "FAILS", "n/a": "n/a", "xfail": "xfail"}


@dataclass
class Report:
    """What a run found: every result, the implementations, and how it was run."""

    results: list[CheckResult] = field(default_factory=list)
    implementations: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every applicable check holds (or fails as an accepted xfail)."""
        return not any(r.counts_as_failure for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.counts_as_failure]

    def counts(self) -> dict[str, int]:
        out = {"holds": 0, "fails": 0, "n/a": 0, "xfail": 0, "facts": 0}
        for r in self.results:
            out["facts" if r.fact_only else r.status] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        return (
            f"{c['holds']} hold, {c['fails']} fail, {c['n/a']} not applicable, "
            f"{c['xfail']} accepted (xfail), {c['facts']} reported as facts"
        )

    def merge(self, other: Report) -> None:
        self.results += other.results
        self.implementations += other.implementations
        self.settings = {**other.settings, **self.settings}

    # ----------------------------------------------------------------- renderings

    def to_json(self) -> dict[str, Any]:
        return {
            "sgdbench": sgdbench.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "ok": self.ok,
            "counts": self.counts(),
            "settings": self.settings,
            "implementations": self.implementations,
            "results": [asdict(r) for r in self.results],
        }

    def to_markdown(self, title: str = "Conformance report") -> str:
        names = ", ".join(f"`{i['name']}`" for i in self.implementations)
        s = self.settings
        lines = [
            f"# {title}",
            "",
            f"Implementations: {names}. torch {torch.__version__}, Python "
            f"{platform.python_version()}, {s.get('examples')} examples per check, "
            f"seed {s.get('seed')}, devices {', '.join(s.get('devices', []))}.",
            "",
            f"**{'All applicable checks hold' if self.ok else 'Some checks FAIL'}**: "
            f"{self.summary()}.",
            "",
            "| check | where | verdict | examples run | what it checks |",
            "| --- | --- | --- | ---: | --- |",
        ]
        for r in self.results:
            shown = verdict(r)
            if r.fact_only:
                shown = "fact: " + ("holds" if r.status == "holds" else "does not hold")
            lines.append(
                f"| `{r.check}` | {r.variant} | {shown} | {r.examples} | {_cell(r.cites)} |"
            )
        details = [r for r in self.results if r.status in ("fails", "xfail") or r.warnings]
        na = sorted({(r.check, r.message) for r in self.results if r.status == "n/a"})
        if na:
            lines += ["", "Not applicable:", ""] + [f"- `{c}`: {m}" for c, m in na]
        if details:
            lines += ["", "## Details", ""]
        for r in details:
            lines.append(f"### `{r.id}` on `{r.implementation}`: {verdict(r)}")
            lines.append("")
            if r.fact_only:
                note = fact_note(r.check)
                lines += [f"{note[0].upper()}{note[1:]}: reported as a fact, not required.", ""]
            if r.message:
                lines += [_cell(r.message), ""]
            if r.xfail_reason:
                lines += [f"Accepted by the xfails file: {r.xfail_reason}", ""]
            if r.example is not None:
                lines += [f"Shortest failing example: `{r.example}`", ""]
            if r.snippet:
                lines += ["```python", r.snippet, "```", ""]
            for w in r.warnings:
                lines += [f"- warning: {_cell(w)}"]
            if r.warnings:
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def verdict(r: CheckResult) -> str:
    """holds / FAILS / n/a / xfail, or for a fact about the undeclared form: fact."""
    return "fact" if r.fact_only else MARK[r.status]


def fact_note(check: str) -> str:
    """Why a fact is reported rather than required: what the author did not declare."""
    if check.startswith("optimizer.weight_decay"):
        return "not the declared weight-decay form"
    if check == "dropout.inplace":
        return "not declared in-place"
    if check.startswith("dropout.structure_"):
        return "not the declared mask structure"
    return "not declared"


def line(r: CheckResult) -> str:
    """One terminal line: verdict, id, implementation, and why."""
    why = f": {r.message}" if r.message and r.status != "holds" else ""
    if r.status == "xfail":
        why = f": accepted ({r.xfail_reason})"
    if r.fact_only:
        why = ": holds" if r.status == "holds" else f": does not hold{why}"
        why = f" ({fact_note(r.check)})" + why
    return f"{verdict(r):<6} {r.id}  {r.implementation}{why}"


def index(reports: list[tuple[str, dict[str, Any]]]) -> str:
    """One row per report (folder name, its conformance.json): verdicts and what fails."""
    rows = [
        "| report | implementation | declared | hold | FAIL | n/a | xfail | what fails |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for folder, data in reports:
        for impl in data["implementations"]:
            mine = [r for r in data["results"] if r["implementation"] == impl["name"]]
            counts = {s: sum(r["status"] == s and not r["fact_only"] for r in mine) for s in MARK}
            failing = sorted(
                {r["check"] for r in mine if r["status"] == "fails" and not r["fact_only"]}
            )
            declared = [f"rank {impl['rank']}"] if "rank" in impl else []
            if "weight_decay" in impl:
                declared.append(f"{impl['weight_decay']} decay")
            declared += ["bitwise"] if impl.get("bitwise") else []
            if impl.get("structure", "element") != "element":
                declared.append(f"{impl['structure']} mask")
            declared += ["in-place"] if impl.get("inplace") else []
            rows.append(
                f"| [{folder}]({folder}/conformance.md) | `{impl['name']}` | "
                f"{', '.join(declared)} | {counts['holds']} | {counts['fails']} | "
                f"{counts['n/a']} | {counts['xfail']} | "
                f"{', '.join(f'`{f}`' for f in failing) or '—'} |"
            )
    return "\n".join(rows) + "\n"
