"""Data-parallel runs fail fast and clearly, never hang, and leave results/ as it was.

A rank that raises, exits or is killed mid-epoch, or hangs, ends the whole run within the
process group's timeout with one line naming the rank; a taken port is replaced by a free one;
the torchrun entry point and ``ddp-bench`` run end to end. (The statements about DDP's
arithmetic are properties: ``properties/test_distributed.py``.)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from sgdbench import cli
from sgdbench.distributed import RankFailed, WorkerGroup, free_port, run_on_ranks
from sgdbench.distributed._train import Config, Fault
from sgdbench.distributed.bench import update_benchmarks_md

# Under pytest-xdist every rank-spawning test runs in one worker (--dist loadgroup): two
# groups of ranks on the same loopback ports at once would race for them.
pytestmark = pytest.mark.xdist_group("ranks")

TASK = "sgdbench.distributed._train:train_task"
TIMEOUT = 3.0  # the process group's timeout in these tests, seconds


def _train(fault: str, timeout: float = TIMEOUT) -> tuple[RankFailed, float]:
    config = asdict(Config(epochs=2, evaluate=False, fault=fault))
    start = time.monotonic()
    with pytest.raises(RankFailed) as info:
        run_on_ranks(TASK, config, world_size=2, timeout=timeout)
    return info.value, time.monotonic() - start


@pytest.mark.parametrize(
    ("fault", "rank", "says"),
    [
        ("raise:1:30", 1, "RuntimeError: injected fault at step 30"),
        ("exit:1:30", 1, "died with exit code 3"),
        ("kill:1:30", 1, "died with signal SIGKILL"),
        # rank 1 never reaches its all-reduce: rank 0's gloo timeout fires and rank 0 reports it
        ("hang:1:30", 0, "Timed out"),
    ],
)
def test_a_failing_rank_ends_the_run_in_one_line(fault: str, rank: int, says: str) -> None:
    error, seconds = _train(fault)
    line = str(error)
    assert line.startswith(f"rank {rank} failed: "), line
    assert says in line and "\n" not in line, line
    assert error.rank == rank
    assert seconds < TIMEOUT + 10 + 10, f"took {seconds:.1f} s"  # timeout + grace + spawning


def test_a_failed_group_refuses_more_work() -> None:
    with WorkerGroup(2, timeout=TIMEOUT) as group:
        with pytest.raises(RankFailed):
            group.run(TASK, asdict(Config(epochs=1, evaluate=False, fault="raise:0:1")))
        with pytest.raises(RankFailed, match="group already failed"):
            group.run(TASK, asdict(Config(epochs=1, evaluate=False)))


def test_a_taken_port_is_replaced_by_a_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.warns(UserWarning, match=f"port {port} is in use"):
            assert free_port(port) != port
        with pytest.warns(UserWarning, match="in use"):
            out = run_on_ranks(TASK, asdict(Config(epochs=1)), world_size=2, port=port)
    assert [r["rank"] for r in out] == [0, 1]
    assert len(out[0]["history"]["train_loss"]) == 1 and out[1]["history"] == {}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"world_size": 0}, "`world_size` must be an integer ≥ 1, but got 0"),
        ({"world_size": 2, "backend": "mpi"}, "`backend` must be one of gloo, nccl, but got 'mpi'"),
        ({"world_size": 2, "timeout": 0}, "`timeout` must be > 0 seconds, but got 0"),
    ],
)
def test_bad_group_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        WorkerGroup(**kwargs)


def test_bad_fault_spec() -> None:
    with pytest.raises(ValueError, match="KIND one of raise, exit, kill, hang"):
        Fault.parse("explode:1:2")


# --------------------------------------------------------------------------- torchrun


def _torchrun(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    return subprocess.run(
        [*cmd, "-m", "sgdbench.distributed", *args],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )  # fmt: skip


def test_torchrun_entry_point_trains(tmp_path: Path) -> None:
    res = _torchrun(tmp_path, "--epochs", "2", "--out", "run.json")
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["world_size"] == 2 and data["steps_per_epoch"] == 25  # 800 samples / 32
    assert len(data["history"]["test_acc"]) == 2
    assert "epoch    2: train loss" in res.stdout


def test_torchrun_rank_failure_is_one_line_and_fast(tmp_path: Path) -> None:
    start = time.monotonic()
    res = _torchrun(tmp_path, "--epochs", "3", "--timeout", "3", "--fault", "raise:1:30")
    assert res.returncode != 0
    assert time.monotonic() - start < 60
    lines = [x for x in res.stderr.splitlines() if x.startswith("sgdbench.distributed: rank 1")]
    assert lines == ["sgdbench.distributed: rank 1 failed: RuntimeError: injected fault at step 30"]


def test_without_torchrun_says_how_to_start_it() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"RANK", "WORLD_SIZE", "MASTER_ADDR"}}
    res = subprocess.run(
        [sys.executable, "-m", "sgdbench.distributed", "--epochs", "1"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert res.returncode == 2
    assert "start it with torchrun" in res.stderr


# --------------------------------------------------------------------------- ddp-bench


def test_ddp_bench_writes_its_section(tmp_path: Path) -> None:
    (tmp_path / "BENCHMARKS.md").write_text("# Benchmarks\n\nearlier sections\n")
    code = cli.main(["ddp-bench", "--world-sizes", "1,2", "--epochs", "3", "--out", str(tmp_path)])
    assert code == 0
    data = json.loads((tmp_path / "benchmarks" / "ddp-cpu.json").read_text())
    assert [r["label"] for r in data["rows"]] == ["1 (no DDP)", "1", "2"]
    assert [r["per_rank_batch"] for r in data["rows"]] == [32, 32, 16]
    assert all(0 < r["comm_share"]["median"] < 1 for r in data["rows"][1:])
    md = (tmp_path / "BENCHMARKS.md").read_text()
    assert md.startswith("# Benchmarks\n\nearlier sections\n")
    assert md.count("## Data-parallel epochs") == 1
    # written again, the section is replaced in place, not appended
    (tmp_path / "BENCHMARKS.md").write_text(md + "\n## A later section\n")
    again = update_benchmarks_md(tmp_path / "BENCHMARKS.md", data)
    assert again.count("## Data-parallel epochs") == 1 and again.endswith("## A later section\n")


def test_ddp_bench_failure_leaves_out_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "BENCHMARKS.md").write_text("before\n")
    args = ["ddp-bench", "--world-sizes", "2", "--epochs", "2", "--timeout", "3"]
    assert cli.main([*args, "--fault", "raise:1:3", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("python -m sgdbench ddp-bench: rank 1 failed: RuntimeError: inj")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BENCHMARKS.md"]
    assert (tmp_path / "BENCHMARKS.md").read_text() == "before\n"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--world-sizes", "1,x"], "--world-sizes: must be comma-separated integers ≥ 1"),
        (["--world-sizes", "0,2"], "--world-sizes: each must be in 1..64"),
        (["--world-sizes", "3"], "--batch-size 32 must be divisible by every world size"),
        (["--epochs", "1"], "--epochs: must be ≥ 2"),
        (["--timeout", "0"], "--timeout: must be in (0, 86400] seconds, but got 0.0"),
    ],
)
def test_ddp_bench_bad_arguments(
    args: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = cli.main(["ddp-bench", *args, "--out", str(tmp_path / "out")])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_a_users_optimizer_under_ddp() -> None:
    """The seam for a user's optimizer: check_ddp takes any OptimizerUnderTest (here sgdbench's
    reference SGD, written apart from torch's) and runs it on the ranks."""
    from sgdbench import reference
    from sgdbench.conformance import OptimizerUnderTest
    from sgdbench.distributed import check_ddp

    report = check_ddp(
        optimizer=OptimizerUnderTest(reference.SGD),
        only="ddp.matches*",
        dtypes=["float32"],
        examples=5,
    )
    assert [r.status for r in report.results] == ["holds"]
    assert report.results[0].implementation == "DDP[gloo×2](sgdbench.reference.sgd:SGD)"
