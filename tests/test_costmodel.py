"""The cost model of a training step (sgdbench.bench.costmodel) and its BENCHMARKS.md section:
the fit recovers known coefficients, held-out errors are what they say, bad input is named."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from sgdbench.bench import cost_section
from sgdbench.bench.costmodel import Fit, Point, fit, held_out_errors, weights

TRUE = Fit(c0=100e-6, c1=2e-6, c2=1e-9, c3=3e-9)


def _sweep(noise: float = 0.0) -> list[Point]:
    """Both data sets' shapes: with in = out = 2 alone P = 4w, and c₂, c₃ could not be told
    apart; digits' 64 → 10 separates them, as in the benchmark."""
    out = []
    grid = itertools.product(
        (("two moons", 2, 2), ("digits", 64, 10)), (16, 64, 256, 1024), (1, 4, 16, 64, 256, 800)
    )
    for i, ((name, n_in, n_out), w, b) in enumerate(grid):
        p = weights(n_in, w, n_out)
        wobble = 1 + noise * (1 if i % 2 else -1)
        out.append(Point(name, w, b, p, TRUE.predict(b, p, w) * wobble))
    return out


def test_fit_recovers_the_coefficients() -> None:
    got = fit(_sweep())
    assert got.c0 == pytest.approx(TRUE.c0, rel=1e-6)
    assert got.c1 == pytest.approx(TRUE.c1, rel=1e-6)
    assert got.c2 == pytest.approx(TRUE.c2, rel=1e-6)
    assert got.c3 == pytest.approx(TRUE.c3, rel=1e-6)
    assert got.overhead_batch(64, 16) == pytest.approx(100e-6 / (2e-6 + 64e-9 + 48e-9))


def test_held_out_errors_are_relative_errors_of_unseen_points() -> None:
    pts = _sweep(noise=0.05)  # ±5 % on alternate points
    hold = [cost_section.held_out(p) for p in pts]
    model, errors = held_out_errors(pts, hold)
    assert len(errors) == sum(hold) == 2 * (6 + 4 - 1)  # per data set: w = 64 (6), b = 16 (4)
    for p, e in errors:
        assert e == pytest.approx(model.predict(p.batch, p.params, p.width) / p.seconds - 1)
    assert max(abs(e) for _, e in errors) < 0.15  # a fit through ±5 % noise stays near it


def test_fit_is_non_negative_and_refuses_bad_input() -> None:
    flat = [Point("d", 16, b, 64, 1e-3) for b in (1, 8, 64, 512)]  # independent of the batch
    got = fit(flat)
    assert min(got.c0, got.c1, got.c2, got.c3) >= 0 and got.c0 == pytest.approx(1e-3, rel=1e-6)
    with pytest.raises(ValueError, match="at least 4 cases"):
        fit(flat[:3])
    with pytest.raises(ValueError, match="positive times"):
        fit([*flat, Point("d", 16, 2, 64, 0.0)])
    with pytest.raises(ValueError, match="one flag per point"):
        held_out_errors(flat, [True])


def test_section_reports_fit_held_out_error_and_overhead_batch(tmp_path: Path) -> None:
    pts = _sweep(noise=0.02)
    cases: dict[str, Any] = {}
    median: dict[str, float] = {}
    per: dict[str, int] = {}
    for p in pts:
        name = f"{p.dataset} w={p.width} b={p.batch}"
        n_in, n_out = (2, 2) if p.dataset == "two moons" else (64, 10)
        cases[name] = {
            "dataset": p.dataset, "width": p.width, "batch": p.batch, "in": n_in, "out": n_out
        }  # fmt: skip
        median[name], per[name] = p.seconds * 20, 20
    run = {
        "benchmarks": [
            {
                "name": cost_section.SWEEP,
                "extra_info": {"cases": cases, "median_s": median, "per": per, "times_s": {}},
            }
        ]
    }
    text = "\n".join(cost_section.section(run, tmp_path))
    assert "| 2-16-2 (the chapter's) | 64 |" in text
    assert "Held out: every case of width 64 or batch 16" in text
    assert (tmp_path / "bench_cost_model.png").exists()
    assert cost_section.section({"benchmarks": []}) == []
