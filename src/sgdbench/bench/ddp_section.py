"""BENCHMARKS.md's data-parallel section, from what ``ddp-bench`` measured.

:mod:`sgdbench.distributed.bench` measures (world sizes, epoch cost, all-reduce share) and
stores its JSON under ``OUT/benchmarks/`` (``STORE``); this module renders it, between markers
so that ``ddp-bench`` and ``bench-report`` each replace it in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["BEGIN", "END", "section", "update_benchmarks_md", "with_section"]

BEGIN, END = "<!-- data-parallel: begin -->", "<!-- data-parallel: end -->"


def _q(d: dict[str, float], fmt: str, scale: float = 1.0) -> str:
    return f"{d['median'] * scale:{fmt}} ({d['q1'] * scale:{fmt}}–{d['q3'] * scale:{fmt}})"


def section(data: dict[str, Any]) -> list[str]:
    """BENCHMARKS.md's data-parallel section (markdown lines, between the markers)."""
    m, st = data["machine"], data["settings"]
    base = data["rows"][0]["epoch_ms"]["median"]
    lines = [
        BEGIN,
        "## Data-parallel epochs (DDP on gloo)",
        "",
        f"`python -m sgdbench ddp-bench --world-sizes {','.join(map(str, st['world_sizes']))} "
        f"--epochs {st['epochs']}` on {m['cores']} cores ({m['cpu']}), torch {m['torch']}: "
        f"the chapter's 2-16-2 network, global batch {st['batch_size']} split over k ranks on one "
        "machine, loopback, one torch thread per rank (torchrun's default). Medians over epochs "
        "(first left out) with the interquartile range.",
        "",
        "| world size k | per-rank batch | steps/epoch | epoch (ms) | × no-DDP | all-reduce share "
        "| all-reduce per step (ms) | timing hook's overhead |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in data["rows"]:
        comm = (
            [
                _q(r["comm_share"], ".0%"),
                _q(r["comm_ms_per_step"], ".3f"),
                f"×{r['hook_overhead']:.2f}",
            ]
            if "comm_share" in r
            else ["–", "–", "–"]
        )
        lines.append(
            f"| {r['label']} | {r['per_rank_batch']} | {r['steps_per_epoch']} | "
            f"{_q(r['epoch_ms'], '.2f')} | ×{r['epoch_ms']['median'] / base:.2f} | "
            + " | ".join(comm)
            + " |"
        )
    lines += [
        "",
        "What two cores can show: k ranks on one 2-core machine share the same cores, so no "
        "world size computes faster; the table measures what data parallelism *adds* per epoch "
        "(DDP's bookkeeping and the all-reduce over loopback), not the speed-up across machines. "
        "The all-reduce share is timed by a DDP communication hook; k = 1 runs DDP with a "
        "one-rank group (its all-reduce is a no-op copy).",
        END,
    ]
    return lines


def update_benchmarks_md(path: Path, data: dict[str, Any]) -> str:
    """BENCHMARKS.md's text with the data-parallel section replaced (or appended)."""
    return with_section(
        path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n", data
    )


def with_section(text: str, data: dict[str, Any]) -> str:
    """``text`` with the data-parallel section replaced (or appended)."""
    block = "\n".join(section(data))
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        return head + block + tail
    return text.rstrip("\n") + "\n\n" + block + "\n"
