"""results/BENCHMARKS.md's text: the run's header, then its sections in reading order.

The regression gate (when compared), the targets, the instruction counts (when counted), the
epoch cost with the same-run ratios, the seeds in parallel, the cost against the batch size,
the cost model past the toy (both data sets), the time to accuracy.
The data-parallel section is kept from ``ddp-bench``'s last measurement by
:mod:`sgdbench.bench.publish`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sgdbench.bench import cost_section, seeds_section
from sgdbench.bench import sections as s
from sgdbench.bench.run import run_label

__all__ = ["render"]


def render(
    run: dict[str, Any],
    out_dir: Path | None = None,
    gate_rows: list[str] | None = None,
    instructions: list[str] | None = None,
    counts: dict[str, Any] | None = None,
) -> str:
    """The whole BENCHMARKS.md text; writes the batch-size plot into ``out_dir`` if given.

    ``gate_rows``: the wall-time gate's table (:func:`sgdbench.bench.gates.wall_time`), when
    compared; ``instructions``: the instruction-count section
    (:func:`sgdbench.bench.instructions_section.section`), when counted; ``counts``: the
    instruction counts themselves (the seed section reads its stacked cases).
    """
    mi = run["machine_info"]
    sb, cpu = mi["sgdbench"], mi.get("cpu", {})
    lines = [
        "# sgdbench benchmarks",
        "",
        f"Written by `nox -s bench` from pytest-benchmark's JSON "
        f"(`benchmarks/{run_label(run)}-latest.json`). Run of {run.get('datetime', '?')}.",
        "",
        f"- machine: {cpu.get('brand_raw', mi.get('processor', '?'))}, "
        f"{cpu.get('count', '?')} cores, Python {mi.get('python_version', '?')}",
        f"- torch {sb['torch']}, {sb['torch_threads']} thread(s), CUDA {sb['cuda_version']}, "
        f"device {sb['device_name']}",
        f"- injected slowdown: {sb['slowdown_us']} µs per batch (0 in a normal run)",
        "",
    ]
    if gate_rows:
        lines += ["## Regression gate (wall-time ratios)", "", *gate_rows, ""]
    lines += [*s.targets_met(run), ""]
    if instructions:
        lines += [*instructions, ""]
    lines += [*s.epoch(run), ""]
    lines += [*seeds_section.section(run, counts), ""]
    lines += [*s.batch_size(run, out_dir), ""]
    lines += [*cost_section.section(run, out_dir), ""]
    lines += s.time_to_accuracy(run)
    return "\n".join(lines).rstrip() + "\n"
