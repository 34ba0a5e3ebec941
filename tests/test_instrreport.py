"""Instruction counts: the file format, the gate on counts and ratios, fingerprints (what makes
two counts comparable), the A/A threshold, the report section, the callgrind dump parsing, and
a missing valgrind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from benchmarks import _callgrind, instructions

from sgdbench import cli, instrreport

KEY = {"cpu": "AMD EPYC", "torch": "2.13.0+cpu", "python": "3.11.7", "threads": 1,
       "valgrind": "valgrind-3.19.0"}  # fmt: skip
FINGERPRINT = {
    "cpu_capability": "AVX2", "cpu_brand": "Intel(R) Core(TM) i7-4910MQ CPU @ 2.90GHz",
    "cpu_flags": ["avx", "avx2", "sse2"], "torch_threads": 1, "torch_interop_threads": 1,
    "env": {"MALLOC_ARENA_MAX": "1", "OMP_NUM_THREADS": "1"}, "python": "3.11.7",
    "torch": "2.13.0+cpu", "numpy": "2.3.0", "glibc": "glibc 2.36", "valgrind": "valgrind-3.19.0",
}  # fmt: skip
CASES = {
    "SGD-32 DataLoader": 40e6, "SGD-32 Batches": 24e6, "GD DataLoader": 9e6, "GD Batches": 1.6e6,
    "iteration DataLoader": 15e6, "iteration Batches": 0.5e6, "torch.optim.SGD": 24e6,
    "reference.SGD": 26e6, "bare loop": 25e6, "train_test": 25.2e6,
}  # fmt: skip


def counts(
    scale: dict[str, float] | None = None, fingerprint: dict[str, Any] | None = None, **key: Any
) -> dict[str, Any]:
    scale = scale or {}
    return {
        "format": instrreport.FORMAT,
        "key": {**KEY, **key},
        "fingerprint": {**FINGERPRINT, **(fingerprint or {})},
        "repeats": 3,
        "cases": {
            k: {
                "instructions": [int(v * scale.get(k, 1) * f) for f in (1.0, 1.001, 0.999)],
                "steps": 1 if k.startswith("GD") else 25,
            }
            for k, v in CASES.items()
        },
        "objects": {"libtorch_cpu.so": 15_000_000, "libpython3.11.so.1.0": 9_000_000},
    }


def test_unchanged_passes_and_a_two_percent_regression_fails() -> None:
    base = counts()
    passed, rows = instrreport.gate(counts(), base)
    assert passed is True and any("| SGD-32 Batches (per epoch) |" in r for r in rows)
    slower = counts({"SGD-32 Batches": 1.02, "torch.optim.SGD": 1.02})
    passed, rows = instrreport.gate(slower, base)
    assert passed is False
    assert any("SGD-32 Batches (per epoch)" in r and "**REGRESSION**" in r for r in rows)


def test_a_slower_torch_everywhere_is_caught_though_ratios_hold() -> None:
    """Every case 3 % dearer: every ratio unchanged, every count flagged."""
    passed, rows = instrreport.gate(counts(dict.fromkeys(CASES, 1.03)), counts())
    assert passed is False
    assert not any(" / " in r and "REGRESSION" in r for r in rows)


def test_another_host_cpu_name_is_judged_another_fingerprint_fails() -> None:
    """The host's CPU name is shown, not compared: valgrind masks it. Another fingerprint
    (here torch) cannot be judged, and the gate then fails: it never passes unjudged."""
    passed, rows = instrreport.gate(counts(cpu="Intel(R) Xeon(R) Processor"), counts())
    assert passed is True and rows[0].startswith("Judged against the baseline")
    worse = counts({"SGD-32 Batches": 1.02}, cpu="Intel(R) Xeon(R) Processor")
    assert instrreport.gate(worse, counts())[0] is False
    other = counts(fingerprint={"torch": "2.14.0"})
    passed, rows = instrreport.gate(other, counts())
    assert passed is False
    assert rows[0].startswith("**Cannot judge** against the baseline: the fingerprints differ "
                              "(torch: '2.13.0+cpu' → '2.14.0')")  # fmt: skip
    assert not any("REGRESSION" in r for r in rows)
    flags = counts(fingerprint={"cpu_flags": ["avx", "avx2", "avx512f", "sse2"]})
    assert instrreport.comparable(flags, counts()) == ["cpu_flags: -[] +['avx512f']"]
    old = {k: v for k, v in counts().items() if k != "fingerprint"}
    assert instrreport.comparable(counts(), old) == [
        "the reference has no fingerprint (an sgdbench-instructions/1 file)"
    ]


def test_threshold_is_three_times_the_aa_spread_with_a_one_percent_floor() -> None:
    from sgdbench.bench import gates

    run = counts()
    assert gates.threshold(run) == (0.01, None)
    run["aa"] = {"cases": counts({"SGD-32 Batches": 1.002})["cases"]}
    limit, spread = gates.threshold(run)
    assert spread == pytest.approx(0.002, rel=1e-3) and limit == 0.01
    run["aa"] = {"cases": counts({"GD Batches": 1.005})["cases"]}
    limit, spread = gates.threshold(run)
    assert spread == pytest.approx(0.005, rel=1e-3) and limit == pytest.approx(0.015, rel=1e-3)
    # a 1.2 % regression: caught at the floor, let through at the wider threshold
    worse = counts({"SGD-32 Batches": 1.012, "torch.optim.SGD": 1.012})
    assert gates.instructions(worse, counts())[0] is False
    worse["aa"] = {"cases": counts({"SGD-32 Batches": 1.012, "torch.optim.SGD": 1.012,
                                    "GD Batches": 1.005})["cases"]}  # fmt: skip
    passed, rows = gates.instructions(worse, counts())
    assert passed is True
    assert rows[-1] == ("Threshold: +1.50% on every count and ratio = max(1 %, 3 × A/A spread "
                        "0.500% (two counts of this code)).")  # fmt: skip
    limit, _ = gates.threshold(worse)
    assert gates.instructions(worse, counts(), limit)[1][-1] == rows[-1]  # as bench-report calls
    assert gates.instructions(worse, counts(), 0.02)[1][-1].endswith("+2.00% on every count and "
                                                                     "ratio = given.")  # fmt: skip


def test_a_paired_reference_is_named() -> None:
    ref = {**counts(), "reference": {"kind": "paired", "label": "the paired base abc1234 x",
                                     "why": "no committed baseline"}}  # fmt: skip
    passed, rows = instrreport.gate(counts(), ref)
    assert passed is True
    assert rows[0] == "Judged against the paired base abc1234 x (no committed baseline)."
    nothing = {**counts(), "cases": {"other": {"instructions": [1], "steps": 1}}}
    passed, rows = instrreport.gate(nothing, ref)
    assert passed is False and "nothing judged; the gate fails" in "\n".join(rows)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"format": "other"}', "is not an sgdbench instruction-count file"),
        (json.dumps({**counts(), "cases": {"x": {"instructions": []}}}), "instruction-count"),
    ],
)
def test_corrupt_or_foreign_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "counts.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        instrreport.load(path)


def test_section_lists_cases_ratios_and_objects() -> None:
    text = "\n".join(instrreport.section(counts(), {"SGD-32 Batches / GD Batches": 16.8}))
    assert "| SGD-32 Batches | 24.000 M | 960.0 k |" in text
    assert "| SGD-32 Batches / GD Batches | 15.000 | 16.800 |" in text
    assert "| `libtorch_cpu.so` | 62.5% |" in text


DUMP = """version: 1
creator: callgrind-3.19.0
events: Ir
ob=(1) /usr/lib/libpython3.11.so.1.0
fl=(1) ???
fn=(1) _PyEval_EvalFrameDefault
0 700
cob=(2) /venv/torch/lib/libtorch_cpu.so
cfn=(2) at::add
calls=1 0
0 5000
fn=(3) other
0 100
ob=(2)
fl=(2) ???
fn=(2)
0 300
summary: 1100
totals: 1100
"""


def test_callgrind_dump_parsing(tmp_path: Path) -> None:
    part = tmp_path / "cg.out.1"
    part.write_text(DUMP)
    assert _callgrind.total(part) == 1100
    assert _callgrind.by_object(part) == {"libpython3.11.so.1.0": 800, "libtorch_cpu.so": 300}
    (tmp_path / "cg.out.2").write_text("events: Ir\n")
    with pytest.raises(ValueError, match="interrupted or foreign"):
        _callgrind.total(tmp_path / "cg.out.2")
    assert [p.name for p in _callgrind.parts(tmp_path)] == ["cg.out.1", "cg.out.2"]


def test_missing_valgrind_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(instructions.shutil, "which", lambda _name: None)
    assert instructions.main(["--out", str(tmp_path / "c.json")]) == 2
    assert "apt-get install valgrind" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_bench_report_gates_on_instructions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With counts, a wall-time regression only warns; an instruction regression fails and
    leaves results/ as it was; a corrupt baseline is one line, exit 2."""
    from tests.test_benchreport import _run  # the wall-time run the other tests build

    out = tmp_path / "results"
    store = out / "benchmarks"
    store.mkdir(parents=True)
    run, slow = tmp_path / "run.json", tmp_path / "slow.json"
    run.write_text(json.dumps(_run()))
    slow.write_text(json.dumps(_run(scale={"SGD-32 Batches": 1.5})))
    (store / "cpu-baseline.json").write_text(json.dumps(_run()))
    (store / "cpu-instructions-baseline.json").write_text(json.dumps(counts()))
    same, worse = tmp_path / "same.json", tmp_path / "worse.json"
    same.write_text(json.dumps(counts()))
    worse.write_text(json.dumps(counts({"GD Batches": 1.05})))

    args = ["bench-report", str(slow), "--out", str(out), "--compare"]
    assert cli.main([*args, "--instructions", str(same)]) == 0
    printed = capsys.readouterr().out
    assert "wall-time ratios WORSENED (a warning" in printed
    assert "instructions held against the baseline" in printed
    assert "──── sgdbench bench: the headline" in printed
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert cli.main([*args, "--instructions", str(worse)]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    (store / "cpu-instructions-baseline.json").write_text("{broken")
    capsys.readouterr()
    assert cli.main([*args, "--instructions", str(same)]) == 2
    assert "instruction reference:" in capsys.readouterr().err
