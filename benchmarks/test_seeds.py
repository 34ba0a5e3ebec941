"""Seeds in parallel: what one seed-epoch of the chapter's run costs, stacked S at a time,
against the sequential run it replaces (chapter, "Training with SGD in Pytorch": ``train_test``
once per seed).

All cases of a size run interleaved: the sequential epoch (one seed's training pass and
evaluation, what a sequential run of S seeds does S times) and the stacked epoch at each S.
The cost per seed-epoch is a case's time over S; the speed-up at S is the sequential epoch's
time over it, paired by round. torch.func (``vmap(grad(functional_call))``) is timed beside the
hand-stacked trainer on the training pass alone, the choice the trainer rests on.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks._cases import moons
from benchmarks._seeds import sequential_epoch, stacked_epoch, torch_func_epoch
from benchmarks.conftest import interleaved

SIZES = (1, 10, 100, 1000)
FULL_SIZES = (10_000,)


def test_seed_epoch_cost(benchmark, full: bool) -> None:  # type: ignore[no-untyped-def]
    """Sequential against stacked at S = 1, 10, 100, 1000 (and 10,000 with --full)."""
    split = moons(800, "cpu")
    sizes = SIZES + (FULL_SIZES if full else ())
    cases = {"sequential": sequential_epoch(split)}
    per = {"sequential": 1}
    for s in sizes:
        cases[f"stacked S={s}"] = stacked_epoch(split, s)
        per[f"stacked S={s}"] = s
    interleaved(benchmark, cases, device="cpu", rounds=10 if full else 12, per=per)
    benchmark.extra_info["peak_rss_kib"] = {str(s): _peak_rss(s) for s in (1, max(sizes))}


def test_stacked_against_torch_func(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The training pass of 10 and 100 seeds: hand-stacked kernels against torch.func."""
    split = moons(800, "cpu")
    cases, per = {}, {}
    for s in (10, 100):
        cases[f"stacked S={s}"] = stacked_epoch(split, s, evaluate=False)
        cases[f"torch.func S={s}"] = torch_func_epoch(split, s)
        per[f"stacked S={s}"] = per[f"torch.func S={s}"] = s
    interleaved(benchmark, cases, device="cpu", rounds=12, per=per)


def _peak_rss(seeds: int) -> int:
    """Peak resident memory (KiB) of a fresh process that trains one stacked epoch of S."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks._seeds", str(seeds)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return int(out.stdout.split()[-1])


@pytest.mark.parametrize("seeds", [3])
def test_the_benchmarked_cases_train(seeds: int) -> None:
    """The timed cases are runnable end to end (a tiny S, once): not a benchmark."""
    split = moons(800, "cpu")
    for case in (stacked_epoch(split, seeds), torch_func_epoch(split, seeds)):
        case()
