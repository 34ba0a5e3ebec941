"""sgdbench.benchreport and `python -m sgdbench bench-report`: paired ratios, the regression
gate, the report, and bad input. Synthetic runs, so the numbers are known exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sgdbench import benchreport, cli
from sgdbench.bench import run as benchrun


def _run(scale: dict[str, float] | None = None, gpu: str | None = None) -> dict[str, Any]:
    """A pytest-benchmark-shaped run with every benchmark the report reads; ``scale`` multiplies
    named cases' times (a planted slowdown)."""
    scale = scale or {}

    def bench(name: str, cases: dict[str, float], per: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
        times = {
            c: [t * scale.get(c, 1.0) * (1 + 0.01 * i) for i in range(5)] for c, t in cases.items()
        }
        return {
            "name": name,
            "extra_info": {
                "device": "cpu",
                "rounds": 5,
                "times_s": times,
                "per": {c: (per or {}).get(c, 1) for c in cases},
                "median_s": {c: sorted(v)[2] for c, v in times.items()},
            },
        }

    epoch = {
        "SGD-32 DataLoader": 0.027,
        "SGD-32 Batches": 0.018,
        "GD DataLoader": 0.008,
        "GD Batches": 0.001,
    }
    sizes = {f"b={b} {p}": 0.4 / b + 0.001 for b in (1, 8, 800) for p in ("DataLoader", "Batches")}
    return {
        "datetime": "2026-11-25T00:00:00",
        "machine_info": {
            "python_version": "3.11.7",
            "cpu": {"brand_raw": "Test CPU", "count": 2},
            "sgdbench": {
                "torch": "2.13.0",
                "torch_threads": 1,
                "cuda_version": None,
                "device_name": gpu or "cpu",
                "cuda_available": gpu is not None,
                "slowdown_us": "0",
            },
        },
        "benchmarks": [
            bench(
                "test_epoch_cost[cpu-n800]", epoch, {"SGD-32 DataLoader": 25, "SGD-32 Batches": 25}
            ),
            bench("test_iteration_cost[cpu-n800]", {"DataLoader": 0.008, "Batches": 0.0003}),
            bench("test_train_test_overhead", {"bare loop": 0.02, "train_test": 0.0201}),
            bench("test_reference_sgd_cost", {"torch.optim.SGD": 0.018, "reference.SGD": 0.019}),
            bench(
                "test_seed_epoch_cost",
                {"sequential": 0.006, "stacked S=1": 0.002, "stacked S=100": 0.02},
                {"stacked S=100": 100},
            ),
            bench(
                "test_stacked_against_torch_func",
                {"stacked S=10": 0.003, "torch.func S=10": 0.021},
                {"stacked S=10": 10, "torch.func S=10": 10},
            ),
            bench(
                "test_cost_against_batch_size[cpu]",
                sizes,
                {k: 800 // int(k.split()[0][2:]) for k in sizes},
            ),
            {
                "name": "test_time_to_accuracy[cpu]",
                "extra_info": {
                    "device": "cpu",
                    "target": 0.95,
                    "epochs": 100,
                    "time_to_accuracy": {
                        "SGD-32": [{"seed": 0, "epoch": 5, "seconds": 0.05}],
                        "GD": [{"seed": 0, "epoch": None, "seconds": None}],
                    },
                },
            },
        ],
    }


def test_paired_ratio_is_the_median_of_per_round_ratios() -> None:
    run = _run()
    med, iqr = benchreport.Ratio(
        "test_epoch_cost[cpu-n800]", "SGD-32 Batches", "GD Batches"
    ).measure(run)  # type: ignore[misc]
    assert med == pytest.approx(18.0) and iqr == pytest.approx(0.0)
    assert benchreport.Ratio("missing", "a", "b").measure(run) is None


def test_gate_passes_unchanged_and_flags_a_planted_slowdown() -> None:
    base = _run()
    passed, rows = benchreport.gate(_run(), base)
    assert passed and all("ok" in r for r in rows[2:])
    passed, rows = benchreport.gate(_run(scale={"SGD-32 Batches": 1.3}), base, threshold=0.15)
    assert not passed
    flagged = [r for r in rows if "REGRESSION" in r]
    assert len(flagged) == 2  # SGD-32 Batches / DataLoader and SGD-32 / GD
    passed, _ = benchreport.gate(_run(scale={"SGD-32 Batches": 1.1}), base, threshold=0.15)
    assert passed  # within the threshold


def test_gate_uses_each_ratios_own_threshold_by_default() -> None:
    # +18 %: beyond SGD-32 Batches / DataLoader's 15 %, within SGD-32 / GD's 22 %
    passed, rows = benchreport.gate(_run(scale={"SGD-32 Batches": 1.18}), _run())
    assert not passed
    flagged = [r for r in rows if "REGRESSION" in r]
    assert len(flagged) == 1 and "SGD-32 Batches / SGD-32 DataLoader" in flagged[0]


def test_gate_with_nothing_in_common_is_an_error() -> None:
    empty = _run()
    empty["benchmarks"] = []
    with pytest.raises(ValueError, match="share no tracked ratio"):
        benchreport.gate(_run(), empty)


def test_render_has_every_section_and_the_verdicts(tmp_path: Path) -> None:
    text = benchreport.render(_run(), tmp_path)
    for heading in (
        "## Targets",
        "## Epoch cost",
        "## Same-run ratios",
        "## Cost against batch size",
        "## Time to 95% test accuracy",
    ):
        assert heading in text
    assert "| Batches iteration speed-up over DataLoader, b = 32 | 26.67 | ≥ 20.0 | yes |" in text
    assert "| GD | not reached | not reached in 1/1 runs |" in text
    assert (tmp_path / "bench_batch_size.png").exists()
    assert "c₀" in text


def test_seed_section_per_seed_epoch_and_speed_ups() -> None:
    """The seed-parallel section: time per seed-epoch = epoch time / S, the speed-up over the
    sequential epoch paired by round, torch.func over stacked, and the ≥ 20× target at S=100."""
    from sgdbench.bench import seeds_section

    run = _run()
    lines = seeds_section.section(run)
    assert "| stacked S=100 | 100 | 20.400 | 0.400 | 0.2040 | 30.0× (0.0) |" in lines
    assert "| 10 | 0.3060 | 2.1420 | 7.00× (0.00) |" in lines
    assert ("seed-epoch speed-up, stacked S = 100 over sequential", 30.0, 20.0, "≥") in [
        (n, round(v, 6), t, o) for n, v, t, o in benchrun.targets(run) if v is not None
    ]
    counts = {
        "cases": {
            "SGD-32 Batches": {"instructions": [24e6, 24e6, 24e6], "steps": 25},
            "stacked S=100": {"instructions": [100e6, 100e6, 100e6], "steps": 25},
        }
    }
    text = "\n".join(seeds_section.section(run, counts))
    assert "| stacked S=100 | 100.000 M | 1.0000 M | 24.0× |" in text
    run["benchmarks"] = [b for b in run["benchmarks"] if b["name"] != "test_seed_epoch_cost"]
    assert seeds_section.section(run) == []  # not measured: no section


def test_run_label() -> None:
    assert benchreport.run_label(_run()) == "cpu"
    assert benchreport.run_label(_run(gpu="NVIDIA H100 80GB HBM3")) == "nvidia-h100-80gb-hbm3"


def _write(path: Path, run: dict[str, Any]) -> Path:
    path.write_text(json.dumps(run))
    return path


def test_cli_writes_report_and_baseline(tmp_path: Path) -> None:
    run = _write(tmp_path / "run.json", _run())
    out = tmp_path / "results"
    assert cli.main(["bench-report", str(run), "--out", str(out), "--save-baseline"]) == 0
    assert (out / "BENCHMARKS.md").exists() and (out / "bench_batch_size.png").exists()
    assert (out / "benchmarks" / "cpu-latest.json").read_bytes() == run.read_bytes()
    assert (out / "benchmarks" / "cpu-baseline.json").exists()
    assert cli.main(["bench-report", str(run), "--out", str(out), "--compare"]) == 0
    report = (out / "BENCHMARKS.md").read_text()
    assert "## Regression gate" in report
    assert "| +22% | ok |" in report and "| +15% | ok |" in report  # each ratio's own threshold


def test_cli_gate_failure_exits_1_and_leaves_results(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "results"
    base = _write(tmp_path / "base.json", _run())
    assert cli.main(["bench-report", str(base), "--out", str(out), "--save-baseline"]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    slow = _write(tmp_path / "slow.json", _run(scale={"Batches": 2.0}))
    assert cli.main(["bench-report", str(slow), "--out", str(out), "--compare"]) == 1
    assert "REGRESSION" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nope.json"], 2, "No such file"),
        (["{bad}"], 2, "is not a pytest-benchmark run of sgdbench"),
        (["{run}", "--compare", "--baseline", "missing.json"], 2, "baseline"),
        (["{run}", "--threshold", "0"], 2, "argument --threshold: must be in (0, 10), but got 0.0"),
    ],
)
def test_cli_bad_input(tmp_path: Path, capsys, args: list[str], code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    run = _write(tmp_path / "run.json", _run())
    bad = _write(tmp_path / "bad.json", {"benchmarks": []})
    argv = [
        "bench-report",
        *(a.format(run=run, bad=bad) for a in args),
        "--out",
        str(tmp_path / "r"),
    ]
    try:
        got = cli.main(argv)
    except SystemExit as e:
        got = e.code  # type: ignore[assignment]
    assert got == code
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_bench_report_keeps_the_data_parallel_section(tmp_path: Path) -> None:
    """ddp-bench's section (from OUT/benchmarks/ddp-cpu.json) survives a new bench report."""
    out = tmp_path / "results"
    (out / "benchmarks").mkdir(parents=True)
    row = {"median": 1.0, "q1": 0.9, "q3": 1.1}
    ddp = {
        "settings": {"world_sizes": [2], "epochs": 3, "batch_size": 32},
        "machine": {"cores": 2, "cpu": "x86_64", "torch": "2.13.0"},
        "rows": [
            {"label": "1 (no DDP)", "per_rank_batch": 32, "steps_per_epoch": 25, "epoch_ms": row},
            {"label": "2", "per_rank_batch": 16, "steps_per_epoch": 25, "epoch_ms": row,
             "comm_share": row, "comm_ms_per_step": row, "hook_overhead": 1.0},
        ],
    }  # fmt: skip
    (out / "benchmarks" / "ddp-cpu.json").write_text(json.dumps(ddp))
    run = _write(tmp_path / "run.json", _run())
    assert cli.main(["bench-report", str(run), "--out", str(out)]) == 0
    report = (out / "BENCHMARKS.md").read_text()
    assert report.count("## Data-parallel epochs (DDP on gloo)") == 1
    assert "| 2 | 16 | 25 | 1.00 (0.90–1.10) | ×1.00 | 100% (90%–110%)" in report
