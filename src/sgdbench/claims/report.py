"""results/CLAIMS.md and the claims' figures, from the Claim objects of sgdbench.claims."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sgdbench.claims._core import Claim
from sgdbench.claims._stats import share
from sgdbench.claims.figures import FIGURES, figures
from sgdbench.claims.why import why

__all__ = ["FIGURES", "Section", "figures", "render"]


def _share(c: Claim) -> str:
    if c.per_seed is None:
        return "— (no per-seed statement)"
    k, n = sum(c.per_seed), len(c.per_seed)
    return f"{c.statement}: {share(k, n)}"


def _outcome(c: Claim) -> object:
    """What a verdict decides, without its numbers: holds or not, or for a claim reported on
    rather than asserted, its wording up to the first colon or parenthesis."""
    if c.holds is not None:
        return c.holds
    return c.verdict.split(":")[0].split("(")[0].strip()


@dataclass
class Section:
    """One data set's claims (and, optionally, the same claims on its first seeds)."""

    key: str
    label: str
    describe: str
    seeds: int
    claims: list[Claim]
    few: list[Claim] | None = None


def render(sections: Sequence[Section], header: str) -> str:
    """CLAIMS.md: the verdicts side by side (a column per data set, and the first data set's
    verdict on its first seeds), where they differ, then per data set what was measured."""
    first = sections[0]
    n_few = len(first.few[0].per_seed or []) if first.few else 0
    cols = [f"{sec.label}, {sec.seeds} seeds" for sec in sections]
    if first.few:
        cols.insert(1, f"{first.label}, seeds 0–{n_few - 1}")
    lines = [
        "# The chapter's claims, checked",
        "",
        header,
        "",
        "## Verdicts",
        "",
        "| # | the chapter says | " + " | ".join(cols) + " | rule |",
        "|" + " --- |" * (len(cols) + 3),
    ]
    for i, c in enumerate(first.claims):
        verdicts = [f"**{sec.claims[i].verdict}**" for sec in sections]
        if first.few:
            verdicts.insert(1, first.few[i].verdict)
        lines.append(f"| {i + 1} | {c.sentence} | " + " | ".join(verdicts) + f" | {c.rule} |")
    if first.few:
        changed = [
            (i, f.verdict, c.verdict)
            for i, (c, f) in enumerate(zip(first.claims, first.few, strict=True), 1)
            if _outcome(c) != _outcome(f)
        ]
        lines += [
            "",
            f"## {first.label.capitalize()}: where seeds 0–{n_few - 1} and all {first.seeds} "
            "seeds give different verdicts",
            "",
        ]
        lines += [
            f"- Row {i}: on seeds 0–{n_few - 1} “{a}”; on all seeds “{b}”." for i, a, b in changed
        ] or ["- None: every verdict is the same on the first seeds and on all of them."]
    for other in sections[1:]:
        differ = [
            (i, a.verdict, b.verdict)
            for i, (a, b) in enumerate(zip(first.claims, other.claims, strict=True), 1)
            if _outcome(a) != _outcome(b)
        ]
        lines += ["", f"## Where {first.label} and {other.label} give different verdicts", ""]
        for i, a, b in differ:
            reason = why(first.claims[i - 1], other.claims[i - 1], first.label, other.label)
            lines.append(
                f"- Row {i}: {first.label} “{a}”; {other.label} “{b}”."
                + (f" Why: {reason}." if reason else "")
            )
        if not differ:
            lines.append("- None.")
        lines += ["", "More on each: [docs/claims.md](../docs/claims.md#two-data-sets)."]
    for sec in sections:
        suffix = "" if sec.key == "two_moons" else f"_{sec.key}"
        lines += [
            "",
            f"## {sec.label.capitalize()}: what was measured",
            "",
            "| # | measured | seeds where it holds: share [Wilson 95 % CI] |",
            "| --- | --- | --- |",
        ]
        lines += [f"| {i} | {c.measured} | {_share(c)} |" for i, c in enumerate(sec.claims, 1)]
        for alt, name in FIGURES:
            stem, ext = name.rsplit(".", 1)
            lines += ["", f"![{sec.label}: {alt}]({stem}{suffix}.{ext})"]
    return "\n".join(lines) + "\n"
