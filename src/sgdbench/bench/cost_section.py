"""BENCHMARKS.md's section on where an epoch stops being dispatch-bound: the digits epochs, the
width × batch-size sweep on both data sets, the fitted cost model and its held-out error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sgdbench.bench.costmodel import Fit, Point, fit, held_out_errors, median_abs, weights
from sgdbench.bench.run import Ratio, benchmark, quartiles

__all__ = ["HELD_OUT", "SWEEP", "held_out", "points", "section"]

SWEEP = "test_step_cost_sweep"
DIGITS = "test_digits_epoch_cost"
HELD_OUT = "every case of width 64 or batch 16 (interpolation in both directions)"


def held_out(p: Point) -> bool:
    """The points the model is tested on, never fitted to: :data:`HELD_OUT`."""
    return p.width == 64 or p.batch == 16


def points(run: dict[str, Any]) -> list[Point]:
    """The sweep's cases as (data set, width, batch, weights, median seconds per step)."""
    b = benchmark(run, SWEEP)
    if b is None:
        return []
    info = b["extra_info"]
    out = []
    for case, meta in info["cases"].items():
        per_step = info["median_s"][case] / info["per"][case]
        p = weights(meta["in"], meta["width"], meta["out"])
        out.append(Point(meta["dataset"], meta["width"], meta["batch"], p, per_step))
    return out


def _us(s: float) -> str:
    return f"{s * 1e6:.1f}"


def section(run: dict[str, Any], out_dir: Path | None = None) -> list[str]:
    pts = points(run)
    if not pts:
        return []
    hold = [held_out(p) for p in pts]
    tested, errors = held_out_errors(pts, hold)
    model = fit(pts)
    fitted = [model.predict(p.batch, p.params, p.width) / p.seconds - 1 for p in pts]
    lines = [
        "## Where an epoch stops being dispatch-bound (cost model)",
        "",
        "Seconds per training step (Batches, torch.optim.SGD, one hidden layer of width w, 20 "
        "steps per case and round, every case interleaved; median over rounds) on two moons "
        "(in 2, out 2, n = 800) and digits (in 64, out 10, n = 1437), fitted with "
        "t(B, P, w) = c₀ + B·(c₁ + c₂·P + c₃·w), P = in·w + w·out the weights "
        "(`sgdbench.bench.costmodel`: non-negative least squares on relative residuals).",
        "",
    ]
    for dataset in dict.fromkeys(p.dataset for p in pts):
        mine = [p for p in pts if p.dataset == dataset]
        batches = sorted({p.batch for p in mine})
        lines += [
            f"{dataset}: µs per step (measured)",
            "",
            "| width | P | " + " | ".join(f"b={b}" for b in batches) + " |",
            "| ---: | ---: |" + " ---: |" * len(batches),
        ]
        for w in sorted({p.width for p in mine}):
            row = {p.batch: p for p in mine if p.width == w}
            lines.append(
                f"| {w} | {row[batches[0]].params} | "
                + " | ".join(_us(row[b].seconds) for b in batches)
                + " |"
            )
        lines.append("")
    errs = [e for _, e in errors]
    lines += [
        f"Fit on all {len(pts)} cases: c₀ = {model.c0 * 1e6:.1f} µs per step, c₁ = "
        f"{model.c1 * 1e9:.1f} ns per sample, c₂ = {model.c2 * 1e12:.2f} ps per sample and "
        f"weight, c₃ = {model.c3 * 1e9:.2f} ns per sample and hidden unit; |relative error| "
        f"median {median_abs(fitted):.1%}, max "
        f"{max(abs(e) for e in fitted):.1%}.",
        "",
        f"Held out: {HELD_OUT}, {len(errs)} of {len(pts)} cases; the model fitted to the other "
        f"{len(pts) - len(errs)} (c₀ = {tested.c0 * 1e6:.1f} µs, c₁ = {tested.c1 * 1e9:.1f} ns, "
        f"c₂ = {tested.c2 * 1e12:.2f} ps, c₃ = {tested.c3 * 1e9:.2f} ns) predicts them with "
        "|relative error| median "
        f"{median_abs(errs):.1%}, max {max(abs(e) for e in errs):.1%} "
        f"(worst: {_worst(errors)}).",
        "",
        "A step is mostly overhead (c₀ above the batch's own cost) below "
        "B* = c₀ / (c₁ + c₂·P + c₃·w):",
        "",
        "| network | P | B* (this machine) |",
        "| --- | ---: | ---: |",
    ]
    for name, (i, w, o) in (
        ("2-16-2 (the chapter's)", (2, 16, 2)),
        ("64-16-10 (digits)", (64, 16, 10)),
        ("2-1024-2", (2, 1024, 2)),
        ("64-1024-10", (64, 1024, 10)),
    ):
        p = weights(i, w, o)
        lines.append(f"| {name} | {p} | {model.overhead_batch(p, w):.0f} |")
    lines += _digits_epochs(run, model)
    if out_dir is not None:
        _plot(pts, hold, tested, out_dir / "bench_cost_model.png")
        lines += ["", "![per-step cost against batch size, measured and modelled]"
                  "(bench_cost_model.png)"]  # fmt: skip
    return lines


def _worst(errors: list[tuple[Point, float]]) -> str:
    p, e = max(errors, key=lambda pe: abs(pe[1]))
    return f"{p.dataset} w={p.width} b={p.batch}, {e:+.1%}"


def _digits_epochs(run: dict[str, Any], model: Fit) -> list[str]:
    b = benchmark(run, DIGITS)
    if b is None:
        return []
    med = b["extra_info"]["median_s"]
    r = Ratio(DIGITS, "SGD-32", "GD").measure(run)
    n, p = 1437, weights(64, 16, 10)
    predicted = -(-n // 32) * model.predict(32, p, 16) / model.predict(n, p, 16)
    q = {k: quartiles(v) for k, v in b["extra_info"]["times_s"].items()}
    return [
        "",
        f"Digits (64-16-10, n = {n}): an SGD-32 epoch {med['SGD-32'] * 1e3:.2f} ms (IQR "
        f"{(q['SGD-32'][2] - q['SGD-32'][0]) * 1e3:.2f}), a GD epoch {med['GD'] * 1e3:.2f} ms "
        f"(IQR {(q['GD'][2] - q['GD'][0]) * 1e3:.2f}): SGD-32 / GD "
        + (f"{r[0]:.1f}× (paired, IQR {r[1]:.1f})" if r else "—")
        + f"; the cost model predicts {predicted:.1f}× (45 steps of 32 against one of {n}).",
    ]


def _plot(pts: list[Point], hold: list[bool], model: Fit, path: Path) -> None:
    import matplotlib.pyplot as plt

    from sgdbench._figures import save  # first: it selects matplotlib's Agg backend

    datasets = list(dict.fromkeys(p.dataset for p in pts))
    fig, axes = plt.subplots(1, len(datasets), figsize=(7 * len(datasets), 5), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        for w in sorted({p.width for p in pts if p.dataset == dataset}):
            mine = sorted(
                (
                    (p, h)
                    for p, h in zip(pts, hold, strict=True)
                    if p.dataset == dataset and p.width == w
                ),
                key=lambda ph: ph[0].batch,
            )
            xs = [p.batch for p, _ in mine]
            (line,) = ax.plot(xs, [p.seconds * 1e6 for p, _ in mine], "o", label=f"w = {w}")
            ax.plot(
                [p.batch for p, h in mine if h],
                [p.seconds * 1e6 for p, h in mine if h],
                "o",
                mfc="white",
                color=line.get_color(),
            )
            grid = sorted({*xs, *[round(x) for x in _logspace(min(xs), max(xs))]})
            ax.plot(
                grid,
                [model.predict(x, mine[0][0].params, w) * 1e6 for x in grid],
                "--",
                color=line.get_color(),
                lw=1,
            )
        ax.axhline(model.c0 * 1e6, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size B")
        ax.set_ylabel("µs per step")
        ax.set_title(
            f"{dataset}: dots measured (hollow: held out), dashed: the model\nfitted "
            "without the hollow ones, dotted: its c₀",
            fontsize=10,
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save(fig, path)


def _logspace(lo: float, hi: float, n: int = 30) -> list[float]:
    import numpy as np

    return [float(x) for x in np.geomspace(lo, hi, n)]
