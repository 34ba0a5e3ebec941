"""README.md starts a newcomer and points into docs/: at most 200 lines, the two commands CI
runs, and links that resolve. (The documentation itself is checked by ``nox -s docs``:
``mkdocs build --strict`` fails on a broken link or anchor there; it does not read the README.)
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_LINES = 200
TWO_COMMANDS = (
    "nox -s bench   # the main job: what an SGD epoch costs against a GD epoch → results/",
    "nox -s tests   # unit tests, quick claims, and the property suite",
)
# [text](target) outside code; images too. Targets with a scheme are not checked (no network).
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _text() -> str:
    return README.read_text(encoding="utf-8")


def _slug(heading: str) -> str:
    """Python-Markdown's toc slug (what mkdocs and, for these headings, GitHub produce)."""
    value = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _anchors(markdown: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", markdown.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"^#+\s+(.+?)\s*$", text, flags=re.M)}


def _links() -> list[str]:
    text = re.sub(r"```.*?```", "", _text(), flags=re.S)  # code blocks hold no links
    return [t for t in _LINK.findall(text) if "://" not in t]


def test_readme_is_at_most_200_lines() -> None:
    n = len(_text().splitlines())
    assert n <= MAX_LINES, f"README.md has {n} lines (at most {MAX_LINES}): move detail to docs/"


def test_readme_shows_the_two_commands_ci_runs() -> None:
    text = _text()
    for command in TWO_COMMANDS:
        assert command in text, f"README.md lost its command {command.split('#')[0].strip()!r}"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"nox .*-s [^\n]*\btests\b", ci), ".ci/run no longer runs nox -s tests"
    assert re.search(r"nox .*-s bench\b", ci), ".ci/run no longer runs nox -s bench"


@pytest.mark.parametrize("target", _links())
def test_readme_link_resolves(target: str) -> None:
    path, _, anchor = target.partition("#")
    file = (README.parent / path) if path else README
    assert file.exists(), f"README.md links to {path}, which does not exist"
    if anchor and file.suffix == ".md":
        assert anchor in _anchors(file), f"README.md links to {target}: no heading {anchor!r}"


def test_readme_links_into_the_documentation() -> None:
    linked = {t.partition("#")[0] for t in _links() if t.startswith("docs/")}
    nav = re.findall(r":\s*([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text("utf-8"), re.M)
    pages = {f"docs/{p}" for p in nav if not p.startswith(("results/", "reference/"))}
    assert pages - {"docs/index.md"} <= linked, f"README.md does not link {sorted(pages - linked)}"
