"""Why a cell of ``results/RELEASES.md`` differs from its left neighbour: hand-written, each
citing torch's source at the two releases (file:line at the tag), the pull request or release
note, or a minimal example that was run. :mod:`.render` refuses to finish while a differing
cell has none, and reports an explanation that covers no cell as stale."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXPLANATIONS", "Explanation"]


@dataclass(frozen=True)
class Explanation:
    """``rows`` and ``release`` are patterns (``*`` any text) over the differing cells' row and
    release label (the release where the cell changed); ``text`` says why."""

    title: str
    rows: str
    release: str
    text: str


EXPLANATIONS: tuple[Explanation, ...] = ()
