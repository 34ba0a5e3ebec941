"""``releases`` and ``releases-report``: the conformance matrix and SGD's cost across torch.

``releases`` installs each named torch release into its own environment and measures it
(:mod:`sgdbench.releases.session`); both then merge the records into ``OUT/releases.json`` and
render ``OUT/RELEASES.md``. Nothing is written to OUT while a differing cell has no
explanation (exit 1, the merged records left in the work folder to render again once
explained) or when a run breaks; exit 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from sgdbench._output import staged_output, write_json
from sgdbench.cli._common import progress


def _usage(command: str, message: str) -> int:
    print(f"python -m sgdbench {command}: error: {message}", file=sys.stderr)
    return 2


def _load(path: Path) -> dict[str, Any]:
    from sgdbench.releases.matrix import FORMAT

    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: cannot read it as JSON ({e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a releases file ({FORMAT})")
    return data


def _machine(records: list[dict[str, Any]]) -> str:
    cpus = {(r.get("instructions") or {}).get("key", {}).get("cpu") for r in records} - {None}
    return f"`python` machine kind ({os.cpu_count()} cores, {', '.join(sorted(cpus)) or '?'})"


def _finish(data: dict[str, Any], out: Path, work: Path) -> int:
    """Render; write OUT/releases.json and RELEASES.md only when every difference is explained."""
    from sgdbench.releases.explanations import EXPLANATIONS
    from sgdbench.releases.matrix import differences
    from sgdbench.releases.render import render, stale

    text, missing = render(data["releases"], data)
    for e in stale(differences(data["releases"]), EXPLANATIONS):
        print(f"warning: explanation {e.title!r} covers no differing cell", file=sys.stderr)
    work.mkdir(parents=True, exist_ok=True)
    write_json(work / "releases.json", data)
    if missing:
        (work / "RELEASES.draft.md").write_text(text, encoding="utf-8")
        print(f"\n{len(missing)} differing cell(s) have no explanation:", file=sys.stderr)
        for d in missing:
            print(f"  {d}", file=sys.stderr)
        print(
            f"add them to src/sgdbench/releases/explanations.py, then: python -m sgdbench "
            f"releases-report {work / 'releases.json'} --out {out} ({out} left as it was; "
            f"draft: {work / 'RELEASES.draft.md'})",
            file=sys.stderr,
        )
        return 1
    with staged_output(out) as stage:
        write_json(stage / "releases.json", data)
        (stage / "RELEASES.md").write_text(text, encoding="utf-8")
    progress(f"releases: wrote {out / 'RELEASES.md'} and releases.json")
    return 0


def releases(args: argparse.Namespace) -> int:
    """Measure each release, then merge (with --merge, into OUT's releases) and render."""
    from sgdbench.releases.matrix import FORMAT, merge
    from sgdbench.releases.plan import DEFAULT_RELEASES, parse_releases
    from sgdbench.releases.session import run_release

    try:
        chosen = parse_releases(args.release or list(DEFAULT_RELEASES))
        subjects = json.loads(args.subjects.read_text(encoding="utf-8"))
        old = _load(args.out / "releases.json") if args.merge else {"sessions": [], "releases": []}
    except (OSError, ValueError) as e:
        return _usage("releases", str(e))
    start = time.perf_counter()
    work = args.work
    records = []
    for release in chosen:
        progress(f"releases: {release.label} …")
        rec = run_release(release, subjects, work, instructions=args.instructions, keep=args.keep)
        write_json(work / f"release-{release.label}.json", rec)
        progress(f"releases: {release.label}: {rec['error'] or 'measured'}")
        records.append(rec)
    merged = merge(old["releases"], records)
    wall = round(time.perf_counter() - start, 1)
    session: dict[str, Any] = {
        "command": args.command_line or "python -m sgdbench releases " + shlex.join(sys.argv[2:]),
        "wall_seconds": wall,
        "releases": [r.label for r in chosen],
    }
    data = {
        "format": FORMAT,
        "machine": _machine(merged),
        "sessions": [*old["sessions"], session],
        "releases": merged,
    }
    progress(f"releases: {len(chosen)} release(s) in {wall / 60:.1f} min")
    return _finish(data, args.out, work)


def releases_report(args: argparse.Namespace) -> int:
    """Render a releases.json (e.g. once the missing explanations are written)."""
    try:
        data = _load(args.releases)
    except ValueError as e:
        return _usage("releases-report", str(e))
    return _finish(data, args.out, args.work)


def add_parser(sub: Any) -> None:
    from sgdbench.releases.plan import DEFAULT_RELEASES

    rel = sub.add_parser(
        "releases",
        help="install torch releases one by one; conformance and instruction counts per release",
        description=(
            "For each RELEASE (default: "
            f"{' '.join(DEFAULT_RELEASES)}): a fresh virtual environment under --work, torch at "
            "exactly that release (MAJOR.MINOR.PATCH: PyPI's build; +cpu: the CPU wheel), the "
            "conformance checks on each subject in --subjects, optionally the SGD-32 and GD "
            "epochs' instructions; then OUT/RELEASES.md and OUT/releases.json. A release that "
            "fails is a column with its error. Needs several GB of disk per CUDA build."
        ),
    )
    rel.add_argument("release", nargs="*", help="e.g. 2.2.2 2.13.0+cpu (≥ 2.2)")
    rel.add_argument(
        "--subjects",
        type=Path,
        required=True,
        help="JSON {name: [check arguments]} (the noxfile writes it from its CONFORMANCE)",
    )
    rel.add_argument("--work", type=Path, default=Path(".nox/releases-work"), help="scratch")
    rel.add_argument("--out", type=Path, default=Path("results"), help="(default: results/)")
    rel.add_argument("--instructions", action="store_true", help="count instructions too")
    rel.add_argument("--keep", action="store_true", help="keep each release's environment")
    rel.add_argument(
        "--merge", action="store_true", help="add to OUT/releases.json instead of replacing it"
    )
    rel.add_argument("--command-line", default="", help=argparse.SUPPRESS)
    rel.set_defaults(func=releases)
    rep = sub.add_parser(
        "releases-report",
        help="render RELEASES.md from a releases.json (after adding explanations)",
        description="Render OUT/RELEASES.md from RELEASES_JSON; exit 1 and write nothing "
        "while a differing cell has no explanation.",
    )
    rep.add_argument("releases", type=Path, help="e.g. .nox/releases-work/releases.json")
    rep.add_argument("--out", type=Path, default=Path("results"), help="(default: results/)")
    rep.add_argument("--work", type=Path, default=Path(".nox/releases-work"), help="scratch")
    rep.set_defaults(func=releases_report)
