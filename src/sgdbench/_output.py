"""Writing into results/ so that a failed run leaves what was there untouched."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["staged_output", "write_json"]


@contextlib.contextmanager
def staged_output(out: str | Path) -> Iterator[Path]:
    """A scratch folder inside ``out``; its files replace those in ``out`` only on success.

    ``out`` is created if missing. An ``OSError`` here (not a folder, not writable) surfaces
    before any work is done. Each file is moved with ``os.replace``, atomic per file.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {str(out)!r} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        yield stage
        for f in sorted(stage.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    """Deterministic JSON: sorted keys, fixed indentation, newline at the end."""
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
