"""The modules that moved keep their old import paths: each old name is the new object."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

MOVED = {
    "sgdbench.benchreport": {
        "GATE": "sgdbench.bench.gates:GATE",
        "Ratio": "sgdbench.bench.run:Ratio",
        "gate": "sgdbench.bench.gates:wall_time",
        "load": "sgdbench.bench.run:load",
        "met": "sgdbench.bench.run:met",
        "render": "sgdbench.bench.report:render",
        "run_label": "sgdbench.bench.run:run_label",
        "targets": "sgdbench.bench.run:targets",
    },
    "sgdbench.instrreport": {
        "FORMAT": "sgdbench.bench.counts:FORMAT",
        "RATIOS": "sgdbench.bench.counts:RATIOS",
        "THRESHOLD": "sgdbench.bench.gates:INSTRUCTION_THRESHOLD",
        "comparable": "sgdbench.bench.counts:comparable",
        "gate": "sgdbench.bench.gates:instructions",
        "load": "sgdbench.bench.counts:load",
        "section": "sgdbench.bench.instructions_section:section",
    },
    "sgdbench.benchheadline": {"headline": "sgdbench.bench.headline:headline"},
    "sgdbench.claims_report": {
        "FIGURES": "sgdbench.claims.report:FIGURES",
        "figures": "sgdbench.claims.report:figures",
        "render": "sgdbench.claims.report:render",
    },
    "sgdbench.distributed.bench": {
        "section": "sgdbench.bench.ddp_section:section",
        "with_section": "sgdbench.bench.ddp_section:with_section",
        "update_benchmarks_md": "sgdbench.bench.ddp_section:update_benchmarks_md",
    },
}


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [(old, name, new) for old, names in MOVED.items() for name, new in names.items()],
)
def test_old_path_is_the_new_object(old: str, name: str, new: str) -> None:
    module, attr = new.split(":")
    assert getattr(importlib.import_module(old), name) is getattr(
        importlib.import_module(module), attr
    )


def test_architecture_page_quotes_the_contracts() -> None:
    """docs/architecture.md quotes pyproject.toml's import-linter contracts word for word."""
    tomllib = pytest.importorskip("tomllib")  # Python ≥ 3.11
    root = Path(__file__).parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    page = (root / "docs" / "architecture.md").read_text(encoding="utf-8")
    quoted = tomllib.loads(page.split("```toml\n", 1)[1].split("```", 1)[0])
    contracts = config["tool"]["importlinter"]["contracts"]
    assert quoted["tool"]["importlinter"]["contracts"] == contracts
