"""Reading callgrind's dumps: their totals, and self cost per function and per shared object.

The counting harness (``benchmarks/instructions.py``) writes one dump per counted epoch
(``cg.out.1``, ``cg.out.2``, …); these functions read them back. The format is callgrind's
(valgrind's manual, "Callgrind Format Specification").
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

__all__ = ["by_function", "by_object", "parts", "total"]


def parts(folder: Path) -> list[Path]:
    """callgrind's dumps in the order they were written (``cg.out.1``, ``cg.out.2``, …)."""
    numbered = [(p.name.rsplit(".", 1)[1], p) for p in folder.glob("cg.out.*")]
    return [p for _, p in sorted((int(n), p) for n, p in numbered if n.isdigit())]


def total(part: Path) -> int:
    """The Ir total of one dump (its ``summary:`` / ``totals:`` line)."""
    for line in part.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise ValueError(f"{part}: no summary line: an interrupted or foreign callgrind dump")


def by_function(part: Path) -> dict[str, int]:
    """Self instructions per function (``object:function``) in one dump.

    callgrind compresses names: ``ob=(n) name`` / ``fn=(n) name`` define an id, ``(n)`` alone
    reuses it, and ``cob=``/``cfn=`` (a call's callee) may define them too. A ``calls=`` line is
    followed by the inclusive cost of that call, which belongs to the callee and is skipped.
    """
    names: dict[str, dict[str, str]] = {"ob": {}, "fn": {}}
    current = {"ob": "?", "fn": "?"}
    skip_next = False
    out: dict[str, int] = defaultdict(int)
    for line in part.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r"(c?)(ob|fn)=(?:\((\d+)\))? ?(.*)$", line)
        if m:
            callee, kind, ident, name = m.groups()
            if ident is None:
                ident = name
            if name:
                names[kind][ident] = name
            if not callee:
                current[kind] = names[kind].get(ident, ident)
            continue
        if line.startswith("calls="):
            skip_next = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            if skip_next:
                skip_next = False
                continue
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                out[f"{Path(current['ob']).name}:{current['fn']}"] += int(fields[1])
    return dict(out)


def by_object(part: Path) -> dict[str, int]:
    """Self instructions per shared object in one dump."""
    out: dict[str, int] = defaultdict(int)
    for key, n in by_function(part).items():
        out[key.split(":", 1)[0]] += n
    return dict(out)
