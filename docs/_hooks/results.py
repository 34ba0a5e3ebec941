"""mkdocs hook: the documentation shows ``results/`` as it is in the repository.

The sessions write their reports and figures into ``results/`` (``nox -s bench``, ``claims``,
``conformance``, ``releases``, ``reproduce``); copying them into ``docs/`` would leave two
copies to drift apart. This hook adds every ``results/**/*.md`` and ``results/**/*.png`` to the
site as if it lay at ``docs/results/``, so a report is a page and a figure an image, in a fresh
clone and under ``mkdocs build --strict``.

A page in ``docs/`` links a result as ``../results/X`` (the path that works when the Markdown
is read on a forge, from ``docs/``); the hook rewrites such links to ``results/X`` for mkdocs,
so a link to a file that does not exist still fails the strict build.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

RESULTS = "results"
SUFFIXES = {".md", ".png"}
# a Markdown link or image target: ](target) or ](target "title") or ](target#anchor)
_LINK = re.compile(r"(\]\()([^)\s#]+)")


def _results_dir(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).parent / RESULTS


def on_files(files: Files, config: MkDocsConfig, **_: Any) -> Files:
    """Add results/**/*.md and *.png as documentation files under results/."""
    root = _results_dir(config)
    for path in sorted(root.rglob("*")):
        if path.suffix in SUFFIXES and path.is_file():
            uri = f"{RESULTS}/{path.relative_to(root).as_posix()}"
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
_PAIR = re.compile(r"\]( ?)\[")


def _escape_index_pairs(markdown: str) -> str:
    """``θ[0][0]`` in a report's prose reads, to mkdocs-autorefs, as a reference to an anchor
    ``0`` (and fails the strict build), and so does ``[1, 1] [impl(x) cpu]``: escape ``][`` and
    ``] [`` outside code, where Markdown shows them as written either way."""
    out, fenced = [], False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _PAIR.search(line):
            parts, last = [], 0
            for m in _CODE_SPAN.finditer(line):
                parts += [_PAIR.sub(r"]\1\\[", line[last : m.start()]), m.group(0)]
                last = m.end()
            line = "".join([*parts, _PAIR.sub(r"]\1\\[", line[last:])])
        out.append(line)
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Page, **_: Any) -> str:
    """Rewrite ``../results/X`` (relative to the page's place under docs/) to the site's path."""
    if page.file.src_uri.startswith(f"{RESULTS}/"):
        # a report: its links among results/ already work; one into docs/ (../docs/X, the path
        # on a forge) is a sibling page of results/ in the site (../X)
        markdown = markdown.replace("](../docs/", "](../")
        return _escape_index_pairs(markdown)
    here = posixpath.dirname(f"docs/{page.file.src_uri}")

    def fix(m: re.Match[str]) -> str:
        target = m.group(2)
        if "://" in target or target.startswith(("/", "mailto:")):
            return m.group(0)
        in_repo = posixpath.normpath(posixpath.join(here, target))
        if not in_repo.startswith(f"{RESULTS}/"):
            return m.group(0)
        site_dir = posixpath.dirname(page.file.src_uri) or "."
        return m.group(1) + posixpath.relpath(in_repo, site_dir)

    return _LINK.sub(fix, markdown)


def on_serve(server: Any, config: MkDocsConfig, **_: Any) -> Any:
    """``mkdocs serve`` rebuilds when a session rewrites results/."""
    server.watch(str(_results_dir(config)))
    return server


_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj):(<code>)")


def on_page_content(html: str, **_: Any) -> str:
    """The docstrings are written for Sphinx (``:func:`replay```): show the name, not the role."""
    return _ROLE.sub(r"\1", html)
