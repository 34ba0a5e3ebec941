"""What every claim module shares: the :class:`Claim` row, ``span`` and the progress hook."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Claim", "Progress", "say", "span"]

Progress = Callable[[str], None] | None


@dataclass
class Claim:
    """One row of CLAIMS.md: the chapter's sentence, what was measured, the verdict."""

    key: str
    sentence: str
    measured: str
    verdict: str
    rule: str
    holds: bool | None  # None: the chapter's statement is reported on, not asserted
    data: dict[str, Any] = field(default_factory=dict)


def span(xs: Sequence[float], fmt: str = ".3f") -> str:
    """'mean [min, max]' of ``xs``."""
    return f"{statistics.fmean(xs):{fmt}} [{min(xs):{fmt}}, {max(xs):{fmt}}]"


def say(progress: Progress, line: str) -> None:
    if progress is not None:
        progress(line)
