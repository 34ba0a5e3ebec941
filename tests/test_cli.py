"""python -m sgdbench: reproduce writes byte-identical JSON; bad input is one line, exit ≠ 0,
and results already in --out stay as they were."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sgdbench import claims_report, cli


def _files(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(folder.iterdir())}


def test_reproduce_writes_json_and_figures_byte_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert cli.main(["reproduce", "--epochs", "3", "--seeds", "2", "--out", str(a)]) == 0
    out, err = capsys.readouterr()
    assert "SGD-32" in out and "GD" in out and "final test acc" in out  # the summary table
    assert "GD: 2 seed(s) stacked" in err  # progress
    # one seed after another: the same numbers, byte for byte (sgdbench.stacked's contract)
    args = ["reproduce", "--epochs", "3", "--seeds", "2", "--out", str(b), "--sequential"]
    assert cli.main(args) == 0
    assert "[4/4] seed 1 GD" in capsys.readouterr().err  # one line per sequential run
    files = _files(a)
    assert set(files) == {
        "reproduce.json",
        "reproduce_timings.json",
        "reproduce_sgd.png",
        "reproduce_sgd_vs_gd.png",
    }
    assert files["reproduce.json"] == _files(b)["reproduce.json"]
    data = json.loads(files["reproduce.json"])
    assert data["config"]["epochs"] == 3 and data["config"]["seeds"] == [0, 1]
    assert [r["seed"] for r in data["runs"]["SGD-32"]] == [0, 1]
    assert len(data["runs"]["GD"][1]["test_loss"]) == 3
    assert "epoch_seconds" not in files["reproduce.json"].decode()
    timings = json.loads(files["reproduce_timings.json"])
    assert len(timings["stacked_epoch_seconds"]["GD"]) == 3
    timings = json.loads(_files(b)["reproduce_timings.json"])
    assert len(timings["epoch_seconds"]["GD"]["0"]) == 3
    assert not [p for p in a.iterdir() if p.name.startswith(".staging")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "0"], "argument --epochs: must be ≥ 1 and ≤ 100000, but got 0"),
        (["--epochs", "ten"], "argument --epochs: must be an integer, but got 'ten'"),
        (["--seeds", "-2"], "argument --seeds: must be ≥ 1 and ≤ 100000, but got -2"),
        (["--hidden", "16,0"], "argument --hidden: every width must be ≥ 1, but got '16,0'"),
        (["--dropout", "1.5"], "argument --dropout: must be in [0, 1], but got 1.5"),
        (["--optimizer-kwargs", "[1]"], "argument --optimizer-kwargs: must be a JSON object"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_one_line_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["reproduce", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_out_not_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("keep me")
    assert cli.main(["reproduce", "--epochs", "1", "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists and is not a folder" in err
    assert target.read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only folder")
def test_out_not_writable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert cli.main(["reproduce", "--epochs", "1", "--out", str(ro)]) == 1
    finally:
        ro.chmod(0o700)
    assert "cannot write --out" in capsys.readouterr().err


def test_out_under_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert cli.main(["reproduce", "--epochs", "1", "--out", str(tmp_path / "file" / "sub")]) == 1
    assert "cannot write --out" in capsys.readouterr().err


def test_failed_run_leaves_existing_results_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "results"
    assert cli.main(["reproduce", "--epochs", "2", "--out", str(out)]) == 0
    before = _files(out)

    def broken_save(fig: object, path: Path) -> None:  # fails after the JSON is staged
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("sgdbench.plots.save", broken_save)
    assert cli.main(["reproduce", "--epochs", "3", "--out", str(out)]) == 1
    assert _files(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_module_entry_point_help() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "sgdbench", "--help"], capture_output=True, text=True, check=True
    )
    assert "reproduce" in res.stdout
    res = subprocess.run(
        [sys.executable, "-m", "sgdbench", "reproduce", "--epochs", "-1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2 and res.stderr.count("\n") == 1


def test_claims_writes_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "claims"
    threads = torch.get_num_threads()
    assert cli.main(["claims", "--seeds", "1", "--epochs", "2", "--out", str(out)]) == 0
    figures = {name for _, name in claims_report.FIGURES}
    digits = {name.replace(".png", "_digits.png") for name in figures}
    assert set(_files(out)) == {"CLAIMS.md", "claims.json"} | figures | digits
    data = json.loads((out / "claims.json").read_text())
    assert set(data["datasets"]) == {"two_moons", "digits"}  # keys sorted: byte-stable JSON
    assert data["datasets"]["digits"]["seeds"] == 1
    for dataset in data["datasets"].values():
        assert [c["key"] for c in dataset["claims"]] == KEYS
    text = (out / "CLAIMS.md").read_text()
    assert "| 14 |" in text and all(f"]({name})" in text for name in figures | digits)
    assert "## Where two moons and digits give different verdicts" in text
    assert "fair-per-second" in capsys.readouterr().out
    assert torch.get_num_threads() == threads  # the one-thread setting is undone


def test_claims_on_one_data_set(tmp_path: Path) -> None:
    out = tmp_path / "claims"
    args = ["claims", "--seeds", "1", "--epochs", "2", "--datasets", "digits", "--out", str(out)]
    assert cli.main(args) == 0
    data = json.loads((out / "claims.json").read_text())
    assert list(data["datasets"]) == ["digits"]
    assert (out / "claims_momentum_digits.png").exists()
    assert not (out / "claims_momentum.png").exists()


KEYS = [
    "sgd-faster",
    "test-above-train",
    "noisier",
    "weight-decay",
    "dropout-eval",
    "dropout-gap",
    "sharp-flat",
    "sgd-needs-decay",
    "gd-no-decay",
    "momentum",
    "momentum-matched",
    "dropout-low-rank",
    "fair-per-update",
    "fair-per-second",
]


def test_claims_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["claims", "--seeds", "0"])
    assert exc.value.code == 2
    assert "argument --seeds: must be ≥ 1 and ≤ 100000, but got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["claims", "--datasets", "mnist"])
    assert exc.value.code == 2
    assert "argument --datasets: must be two_moons, digits or both" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--optimizer", "Adam"],
            "--optimizer 'Adam' is not supported: the stacked trainer runs torch.optim.SGD only",
        ),
        (
            ["--optimizer-kwargs", '{"lr": 0.1, "foreach": true}'],
            "--optimizer-kwargs: `optimizer` has ['foreach'], which the stacked trainer does not "
            "implement",
        ),
        (
            ["--optimizer-kwargs", '{"lr": -1}'],
            "--optimizer-kwargs: `optimizer['lr']` must be in [0.0, inf], but got -1",
        ),
    ],
)
def test_reproduce_refuses_what_the_stacked_trainer_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """An optimizer or setting the stacked trainer does not implement: one line naming the
    argument and what is supported, exit 2, nothing written; never a silent fallback."""
    out = tmp_path / "out"
    assert cli.main(["reproduce", "--epochs", "1", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()
