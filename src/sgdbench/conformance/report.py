"""A conformance run's results as one line per check, JSON and markdown."""

from __future__ import annotations

import platform
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

import sgdbench
from sgdbench.conformance._runner import CheckResult

__all__ = ["Report"]

MARK = {
    "holds": "holds",
    "fails": "FAILS",
    "n/a": "n/a",
    "xfail": "xfail",
    "xpass": "XPASS",
    "error": "ERROR",
}


@dataclass
class Report:
    """What a run found: every result, the implementations, and how it was run."""

    results: list[CheckResult] = field(default_factory=list)
    implementations: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    # xfails lines that matched no check id of this run ("line N: PATTERN"), as array-api-tests
    # reports them: a stale or misspelt entry is said, not silently passed.
    unmatched_xfails: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every applicable check holds (or fails as an accepted xfail)."""
        return not any(r.counts_as_failure for r in self.results)

    @property
    def errors(self) -> list[CheckResult]:
        """Checks without a verdict: the suite's arguments were refused (a harness error)."""
        return [r for r in self.results if r.status == "error"]

    def exit_status(self) -> int:
        """0 every applicable check holds, 1 a check fails (or an xfail holds now), 3 no
        failure but some checks reached no verdict (harness errors)."""
        if not self.ok:
            return 1
        return 3 if self.errors else 0

    def said(self) -> dict[str, int]:
        """Every distinct warning, log record and printed line, counted over the whole run."""
        total: dict[str, int] = {}
        for r in self.results:
            for text, n in r.warnings.items():
                total[text] = total.get(text, 0) + n
        return total

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.counts_as_failure]

    def counts(self) -> dict[str, int]:
        out = {"holds": 0, "fails": 0, "n/a": 0, "xfail": 0, "xpass": 0, "error": 0, "facts": 0}
        for r in self.results:
            out["facts" if r.fact_only and r.status in ("holds", "fails") else r.status] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        text = (
            f"{c['holds']} hold, {c['fails']} fail, {c['n/a']} not applicable, "
            f"{c['xfail']} accepted (xfail), {c['facts']} reported as facts"
        )
        if c["xpass"]:
            text += f", {c['xpass']} XPASS (listed as xfail, but hold)"
        if c["error"]:
            text += f", {c['error']} harness errors (no verdict)"
        return text

    def merge(self, other: Report) -> None:
        self.results += other.results
        self.implementations += other.implementations
        self.settings = {**other.settings, **self.settings}
        self.unmatched_xfails = other.unmatched_xfails

    # ----------------------------------------------------------------- renderings

    def to_json(self) -> dict[str, Any]:
        return {
            "sgdbench": sgdbench.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "ok": self.ok,
            "exit_status": self.exit_status(),
            "counts": self.counts(),
            "unmatched_xfails": self.unmatched_xfails,
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
            f"seed {s.get('seed')}, devices {', '.join(s.get('devices', []))}"
            + (f", a budget of {s['budget']:g} s a check" if s.get("budget") else "")
            + ".",
            "",
            f"**{'All applicable checks hold' if self.ok else 'Some checks FAIL'}**: "
            f"{self.summary()}.",
            "",
            "| check | where | verdict | examples run | what it checks |",
            "| --- | --- | --- | ---: | --- |",
        ]
        for r in self.results:
            lines.append(
                f"| `{r.check}` | {r.variant} | {shown(r)} | {r.examples}"
                f"{' (budget)' if r.stopped_at_budget else ''} | {_cell(r.cites)} |"
            )
        details = [
            r
            for r in self.results
            if r.status in ("fails", "xfail", "xpass", "error") or r.warnings
        ]
        na = sorted({(r.check, r.message) for r in self.results if r.status == "n/a"})
        if na:
            lines += ["", "Not applicable:", ""] + [f"- `{c}`: {_cell(m)}" for c, m in na]
        if self.unmatched_xfails:
            lines += ["", "xfails lines that matched no check (remove them, or fix the id):", ""]
            lines += [f"- {_cell(u)}" for u in self.unmatched_xfails]
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
            for w, n in r.warnings.items():
                lines += [f"- said{f' ×{n}' if n > 1 else ''}: {_cell(w)}"]
            if r.warnings:
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return re.sub(r"\s*[\r\n]\s*", " ", text).replace("|", "\\|")


def verdict(r: CheckResult) -> str:
    """holds / FAILS / n/a / xfail / XPASS / ERROR; a fact that was judged: fact."""
    return "fact" if r.fact_only and r.status in ("holds", "fails") else MARK[r.status]


def shown(r: CheckResult) -> str:
    """The verdict as a report's table shows it (a judged fact says which way it went)."""
    if verdict(r) == "fact":
        return "fact: " + ("holds" if r.status == "holds" else "does not hold")
    return verdict(r)


def fact_note(check: str) -> str:
    """Why a fact is reported rather than required: what the author did not declare."""
    if check.startswith("optimizer.weight_decay"):
        return "not the declared weight-decay form"
    if check == "dropout.inplace":
        return "not declared in-place"
    if check == "optimizer.defaults":
        return "the defaults an Optim(params) call gets"
    if check.startswith("dropout.structure_"):
        return "not the declared mask structure"
    return "not declared"


SLOW = 5.0  # a check that took longer shows its time on its line (a compiled step, say)


def line(r: CheckResult) -> str:
    """One terminal line: verdict, id, implementation, and why (never more than one line)."""
    why = f": {r.message}" if r.message and r.status != "holds" else ""
    if r.status == "xfail":
        why = f": accepted ({r.xfail_reason})"
    if verdict(r) == "fact":
        why = ": holds" if r.status == "holds" else f": does not hold{why}"
        why = f" ({fact_note(r.check)})" + why
    said = sum(r.warnings.values())
    if said:
        why += f" [{said} warning{'s' if said > 1 else ''}/log records, see the end]"
    if r.stopped_at_budget:
        why += f" [budget: {r.stopped_at_budget} examples in {r.seconds:.0f} s]"
    elif r.seconds >= SLOW:
        why += f" [{r.seconds:.0f} s]"
    return re.sub(r"\s*[\r\n]\s*", " ", f"{verdict(r):<6} {r.id}  {r.implementation}{why}")


def index(reports: list[tuple[str, dict[str, Any]]]) -> str:
    """One row per report (folder name, its conformance.json): verdicts and what fails."""
    rows = [
        "| report | implementation | declared | hold | FAIL | n/a | xfail | error | what fails |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for folder, data in reports:
        for impl in data["implementations"]:
            mine = [r for r in data["results"] if r["implementation"] == impl["name"]]
            failing = sorted(
                {
                    r["check"]
                    for r in mine
                    if (r["status"] == "fails" and not r["fact_only"]) or r["status"] == "xpass"
                }
            )
            counts = {s: sum(r["status"] == s and not r["fact_only"] for r in mine) for s in MARK}
            counts["fails"] += counts["xpass"]
            declared = [f"rank {impl['rank']}"] if "rank" in impl else []
            if impl.get("structure", "element") != "element":
                declared.append(f"{impl['structure']} mask")
            if impl.get("inplace"):
                declared.append("in-place")
            if "weight_decay" in impl:
                declared.append(impl.get("algorithm", "sgd"))
                declared.append(f"{impl['weight_decay']} decay")
            declared += ["bitwise"] if impl.get("bitwise") else []
            rows.append(
                f"| [{folder}]({folder}/conformance.md) | `{impl['name']}` | "
                f"{', '.join(declared)} | {counts['holds']} | {counts['fails']} | "
                f"{counts['n/a']} | {counts['xfail']} | {counts['error']} | "
                f"{', '.join(f'`{f}`' for f in failing) or '—'} |"
            )
    return "\n".join(rows) + "\n"
