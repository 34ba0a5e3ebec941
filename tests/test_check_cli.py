"""python -m sgdbench check: exit 0 when every applicable check holds, 1 when one fails, 2 on
bad usage (one line naming the problem, nothing written to --out); reports, n/a, xfails,
warnings, and exceptions inside a check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sgdbench import cli

PLANTED = "sgdbench.conformance.planted"


def _check(*args: str) -> int:
    return cli.main(["check", "--examples", "10", *args])


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module of the user's own implementations, importable as ``user_impls``."""
    (tmp_path / "user_impls.py").write_text(
        textwrap.dedent(
            """
            import warnings
            import torch

            class RaisingCtor(torch.optim.SGD):
                def __init__(self, params, lr=1e-3, **kw):
                    raise RuntimeError("no GPU found")

            class RaisingStep(torch.optim.SGD):
                def step(self, closure=None):
                    raise RuntimeError("kernel missing")

            class NoNesterovPlease(torch.optim.SGD):
                def step(self, closure=None):
                    if any(g["nesterov"] for g in self.param_groups):
                        raise NotImplementedError("nesterov is not supported yet")
                    return super().step(closure)

            class BrokenNesterov(torch.optim.SGD):
                def step(self, closure=None):
                    if any(g["nesterov"] for g in self.param_groups):
                        raise IndexError("list index out of range")
                    return super().step(closure)

            class AssertsInStep(torch.optim.SGD):
                def step(self, closure=None):
                    assert not any(g["nesterov"] for g in self.param_groups), "internal state"
                    return super().step(closure)

            class ClearsGrads(torch.optim.SGD):
                def step(self, closure=None):
                    out = super().step(closure)
                    for g in self.param_groups:
                        for p in g["params"]:
                            p.grad = None
                    return out

            class PickyMomentum(torch.optim.SGD):
                # takes momentum 0.9 (the probe's value) but refuses the checks' others
                def __init__(self, params, lr=1e-3, momentum=0.0, **kw):
                    if momentum not in (0.0, 0.9):
                        raise ValueError(f"momentum must be 0 or 0.9, got {momentum}")
                    super().__init__(params, lr=lr, momentum=momentum, **kw)

            class LogsAtConstruction(torch.optim.SGD):
                def __init__(self, *args, **kw):
                    import logging
                    logging.getLogger("thirdparty").warning("this optimizer is experimental")
                    print("loading kernels...")
                    super().__init__(*args, **kw)

            class Chatty(torch.optim.SGD):
                def step(self, closure=None):
                    warnings.warn("Chatty.step is experimental", UserWarning)
                    return super().step(closure)

            def wrong_shape(x, p, training=True):
                return x.sum()
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "user_impls"


def test_holds_exit_0_with_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    code = _check(
        "--optimizer", "torch.optim:SGD", "--dropout", "torch.nn:Dropout",
        "--only", "optimizer.m*", "--only", "dropout.k*", "--out", str(out),
    )  # fmt: skip
    assert code == 0
    stdout = capsys.readouterr().out
    assert "holds  optimizer.momentum[cpu-float32]  torch.optim.sgd:SGD" in stdout
    assert "holds  dropout.keep_rate[cpu-float64]  torch.nn.modules.dropout:Dropout" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["conformance.json", "conformance.md"]
    data = json.loads((out / "conformance.json").read_text())
    assert data["ok"] is True and data["counts"]["fails"] == 0
    assert {r["check"] for r in data["results"]} >= {"optimizer.momentum", "dropout.keep_rate"}
    assert [i["name"] for i in data["implementations"]] == [
        "torch.optim.sgd:SGD",
        "torch.nn.modules.dropout:Dropout",
    ]
    assert "**All applicable checks hold**" in (out / "conformance.md").read_text()


def test_fails_exit_1_with_example_and_a_snippet_that_replays(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _check("--optimizer", f"{PLANTED}:MomentumReset", "--only", "optimizer.momentum*") == 1
    stdout = capsys.readouterr().out
    assert "FAILS  optimizer.momentum[cpu-float32]" in stdout
    assert "shortest example {'seed'" in stdout
    snippet = stdout[stdout.index("from sgdbench.conformance import replay") :].split("\n\n")[0]
    with pytest.raises(AssertionError, match="momentum recursion"):
        exec(snippet, {})


def test_not_applicable_is_said_with_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert _check("--optimizer", "sgdbench.reference:SGD", "--only", "optimizer.foreach*") == 0
    assert "n/a    optimizer.foreach_agrees[cpu-float32]  sgdbench.reference.sgd:SGD: takes no " \
        "`foreach` argument" in capsys.readouterr().out  # fmt: skip


def test_declared_decoupled_checks_that_form_and_reports_the_other(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = _check("--optimizer", "torch.optim:SGD", "--weight-decay", "decoupled",
                  "--only", "optimizer.weight_decay*")  # fmt: skip
    assert code == 1  # torch's decay is coupled: declared decoupled, it fails
    out = capsys.readouterr().out
    assert "FAILS  optimizer.weight_decay_decoupled[cpu-float32]" in out
    assert "fact   optimizer.weight_decay_coupled[cpu-float32]" in out and ": holds" in out


def test_xfails_file_accepts_a_failure_and_refuses_a_line_without_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xfails = tmp_path / "xfails.txt"
    xfails.write_text("optimizer.momentum[*]  # planted on purpose\n")
    code = _check("--optimizer", f"{PLANTED}:MomentumReset", "--only", "optimizer.momentum*",
                  "--xfails", str(xfails))  # fmt: skip
    assert code == 0
    assert "xfail  optimizer.momentum[cpu-float32]" in capsys.readouterr().out
    xfails.write_text("optimizer.momentum[*]\n")
    assert _check("--optimizer", "torch.optim:SGD", "--xfails", str(xfails)) == 2
    assert "needs a reason after '#'" in capsys.readouterr().err


def test_exception_inside_a_check_fails_that_check_only(
    user_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _check("--optimizer", f"{user_module}:BrokenNesterov", "--only", "optimizer.nesterov*",
                  "--only", "optimizer.plain*")  # fmt: skip
    assert code == 1
    out = capsys.readouterr().out
    assert "FAILS  optimizer.nesterov[cpu-float32]" in out
    assert "raised IndexError: list index out of range" in out
    assert "holds  optimizer.plain_step[cpu-float32]" in out


def test_an_assert_inside_the_implementation_is_reported_as_raised(
    user_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """torch._dynamo asserts inside a compiled step: that is an exception the implementation
    raised, not the check's own statement being false."""
    code = _check("--optimizer", f"{user_module}:AssertsInStep", "--only", "optimizer.nesterov*")
    assert code == 1
    assert "raised AssertionError: internal state" in capsys.readouterr().out


def test_a_step_that_clears_the_gradients_is_said_so(
    user_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _check("--optimizer", f"{user_module}:ClearsGrads", "--only", "optimizer.grad_unch*")
    assert code == 1
    assert "step 1 set p.grad of parameter 0 to None" in capsys.readouterr().out


def test_not_implemented_in_step_is_not_applicable(
    user_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """NotImplementedError is the implementation saying it does not support the option."""
    code = _check("--optimizer", f"{user_module}:NoNesterovPlease", "--only", "optimizer.nesterov*")
    assert code == 0
    assert (
        "n/a    optimizer.nesterov[cpu-float32]  user_impls:NoNesterovPlease: cannot step with "
        "lr=0.1, momentum=0.9, nesterov=True: NotImplementedError: nesterov is not supported yet"
    ) in capsys.readouterr().out


def test_refused_suite_arguments_are_a_harness_error_not_a_failure(
    user_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The probe saw momentum=0.9 accepted; a check's own momentum=0.37 is refused: no verdict
    on the implementation (exit 3), and the line says it is the suite's doing."""
    code = _check("--optimizer", f"{user_module}:PickyMomentum", "--only", "optimizer.momentum*")
    out = capsys.readouterr().out
    assert code == 3, out
    assert "ERROR  optimizer.momentum[cpu-float32]  user_impls:PickyMomentum: harness error, no " \
        "verdict: the suite built" in out  # fmt: skip
    assert "which is the suite's fault, not the implementation's" in out
    assert "harness errors (no verdict)" in out


def test_warnings_logs_and_prints_are_counted_not_interleaved(
    user_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check("--optimizer", f"{user_module}:Chatty", "--only", "optimizer.plain*") == 0
    out = capsys.readouterr().out
    assert "UserWarning: Chatty.step is experimental" in out.split("\n\nThe implementation said")[1]
    assert _check("--optimizer", f"{user_module}:LogsAtConstruction", "--only", "optimizer.m*") == 0
    captured = capsys.readouterr()
    lines = captured.out.split("\n\n")[0].splitlines()
    assert len(lines) == 6 and all(ln.startswith("holds  optimizer.m") for ln in lines), lines
    assert "warnings/log records, see the end]" in lines[0]
    said = captured.out.split("The implementation said")[1]
    assert "log WARNING thirdparty: this optimizer is experimental" in said
    assert "printed to stdout: loading kernels..." in said
    assert "this optimizer is experimental" not in captured.err


# What an optimizer that takes lr alone (or whose other arguments are refused or ignored) has n/a.
ONLY_LR = {
    "momentum",
    "dampening",
    "nesterov",
    "weight_decay_coupled",
    "weight_decay_decoupled",
    "maximize",
    "foreach_agrees",
}


@pytest.mark.parametrize(
    ("target", "kwargs", "not_applicable"),
    [
        ("NarrowSGD", "{}", {"dampening", "nesterov", "maximize", "foreach_agrees"}),
        (
            "StrictKwargsSGD",
            "{}",
            ONLY_LR,
        ),
        (
            "SwallowsKwargsSGD",
            "{}",
            ONLY_LR,
        ),
        ("HeavyBallSGD", '{"momentum": 0.9}', {"plain_step"}),
        ("HeavyBallSGD", "{}", {"plain_step"}),
        (
            "PlainSGD",
            "{}",
            ONLY_LR,
        ),
    ],
)
def test_correct_but_unusual_optimizers_exit_0_with_the_right_checks_not_applicable(
    target: str, kwargs: str, not_applicable: set[str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code = _check("--optimizer", f"{PLANTED}:{target}", "--kwargs", kwargs, "--dtype", "float32",
                  "--out", str(out))  # fmt: skip
    data = json.loads((out / "conformance.json").read_text())
    assert code == 0, [(r["id"], r["message"]) for r in data["results"] if r["status"] != "holds"]
    na = {r["check"].split(".")[1] for r in data["results"] if r["status"] == "n/a"}
    assert na == not_applicable
    assert data["counts"]["error"] == 0


def test_a_correct_decoupled_sgdw_holds(tmp_path: Path) -> None:
    """Declared decoupled, its decay is checked in that form and compared with torch's coupled
    SGD only without decay (matches_torch, low_precision)."""
    out = tmp_path / "out"
    code = _check("--optimizer", f"{PLANTED}:DecoupledSGDW", "--weight-decay", "decoupled",
                  "--dtype", "float32", "--out", str(out))  # fmt: skip
    data = json.loads((out / "conformance.json").read_text())
    assert code == 0, [(r["id"], r["message"]) for r in data["results"] if r["status"] == "fails"]
    facts = {r["check"]: r["status"] for r in data["results"] if r["fact_only"]}
    assert facts == {"optimizer.weight_decay_coupled": "fails"}


def test_xpass_and_unmatched_xfails_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """array-api-tests: a listed check that holds now is XPASS (the run fails until the line
    goes), a line that matches nothing is said."""
    xfails = tmp_path / "xfails.txt"
    xfails.write_text(
        "optimizer.plain_step[*]  # thought broken\noptimizer.no_such_check[*]  # stale\n"
    )
    code = _check("--optimizer", "torch.optim:SGD", "--only", "optimizer.plain*",
                  "--xfails", str(xfails))  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert "XPASS  optimizer.plain_step[cpu-float32]" in out and "remove line 1" in out
    assert "xfails: line 2: optimizer.no_such_check[*] matched no check" in out
    assert "2 XPASS (listed as xfail, but hold)" in out


@pytest.mark.xdist_group("ranks")  # see tests/test_distributed.py
def test_a_users_optimizer_under_ddp(capsys: pytest.CaptureFixture[str]) -> None:
    """--ddp K: the ddp.* checks with the named optimizer on K gloo ranks; hyper-parameters
    it does not take are not drawn."""
    code = _check("--optimizer", f"{PLANTED}:PlainSGD", "--ddp", "2", "--dtype", "float32",
                  "--only", "ddp.matches*", "--examples", "3")  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "holds  ddp.matches_single_process[cpu-float32]  DDP[gloo×2](" in out
    assert "planted:PlainSGD)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --optimizer MODULE:ATTR, --dropout MODULE:ATTR, or both"),
        (["--optimizer", "SGD"], "--optimizer must be MODULE:ATTR (e.g. torch.optim:SGD)"),
        (["--optimizer", "no_such_module:SGD"], "cannot import 'no_such_module'"),
        (["--optimizer", "torch.optim:NoSuch"], "torch.optim has no 'NoSuch'"),
        (["--optimizer", "torch.nn:Linear"], "is a class but not a torch.optim.Optimizer"),
        (["--optimizer", "math:pi"], "is not callable"),
        (["--dropout", "torch.optim:SGD"], "is a class but not a torch.nn.Module"),
        (["--optimizer", "torch.optim:SGD", "--kwargs", "{bad"], "--kwargs must be a JSON object"),
        (
            ["--optimizer", "torch.optim:SGD", "--kwargs", "[1]"],
            "must be a JSON object, but got list",
        ),
        (["--optimizer", "torch.optim:SGD", "--kwargs", '{"lr": 1}'], "kwargs may not set ['lr']"),
        (["--dropout", "torch.nn:Dropout", "--kwargs", "{}"], None),  # the default: fine
        (
            ["--dropout", "torch.nn:Dropout", "--kwargs", '{"a": 1}'],
            "--kwargs goes with --optimizer",
        ),
        (["--optimizer", "torch.optim:SGD", "--device", "tpu"], "--device must be cpu, cuda"),
        (["--optimizer", "torch.optim:SGD", "--xfails", "/no/such/file"], "cannot read it"),
        (
            ["--optimizer", "torch.optim:Adam", "--algorithm", "adamax"],
            "algorithm must be one of ['sgd', 'adam', 'adamw', 'nadam', 'radam', 'lion'], but "
            "got 'adamax'",
        ),
        (
            ["--optimizer", "torch.optim:SGD", "--algorithm", "adam"],
            "neither takes nor shows in its param_groups betas, eps, which Adam needs",
        ),
        (
            [
                "--optimizer",
                "torch.optim:AdamW",
                "--algorithm",
                "adamw",
                "--weight-decay",
                "coupled",
            ],
            "weight_decay 'coupled' is not AdamW's: AdamW decays decoupled; declare algorithm "
            "'adam'",
        ),
        (["--dropout", "torch.nn:Dropout", "--algorithm", "adam"], "--algorithm goes with"),
        (
            ["--optimizer", "torch.optim:Adam", "--algorithm", "adam", "--ddp", "2"],
            "--ddp checks SGD's update only",
        ),
    ],
)
def test_bad_usage_one_line_exit_2_nothing_written(
    args: list[str], message: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "conformance.md").write_text("keep me")
    code = _check(*args, "--only", "nothing-matches", "--out", str(out))
    if message is None:
        assert code == 0
        return
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and message in err
    assert [p.name for p in out.iterdir()] == ["conformance.md"]
    assert (out / "conformance.md").read_text() == "keep me"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("RaisingCtor", "RaisingCtor(params, lr=0.01) raised RuntimeError: no GPU found"),
        ("RaisingStep", "step() raised RuntimeError: kernel missing"),
    ],
)
def test_constructor_or_step_that_raises_is_bad_usage(
    user_module: str, target: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check("--optimizer", f"{user_module}:{target}") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_dropout_that_returns_the_wrong_shape_is_bad_usage(
    user_module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check("--dropout", f"{user_module}:wrong_shape") == 2
    assert "not a tensor of the input's shape (4, 4)" in capsys.readouterr().err


def test_no_cuda_device_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    assert _check("--optimizer", "torch.optim:SGD", "--device", "cuda") == 2
    assert "--device cuda: no CUDA device on this machine" in capsys.readouterr().err


def test_the_module_entry_point_exit_codes(tmp_path: Path) -> None:
    """As a user runs it, from another folder: 1 on a planted bug, 0 on a correct one."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sgdbench", "check", "--examples", "10", *args],
            capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip

    bad = run("--dropout", f"{PLANTED}:no_scaling", "--only", "dropout.law*")
    assert bad.returncode == 1 and "FAILS  dropout.law[cpu-float32]" in bad.stdout
    good = run("--dropout", f"{PLANTED}:dropout_by_division", "--only", "dropout.law*")
    assert good.returncode == 0, good.stdout + good.stderr
    assert not list(tmp_path.iterdir())  # nothing written without --out (no .hypothesis/ either)


def test_check_index_summarises_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "conformance"
    assert _check("--optimizer", f"{PLANTED}:MomentumReset", "--only", "optimizer.m*",
                  "--out", str(reports / "reset")) == 1  # fmt: skip
    assert _check("--dropout", "torch.nn:Dropout", "--only", "dropout.law*",
                  "--out", str(reports / "dropout")) == 0  # fmt: skip
    assert cli.main(["check-index", str(reports)]) == 0
    index = (reports / "INDEX.md").read_text()
    assert (
        "| [reset](reset/conformance.md) | `sgdbench.conformance.planted:MomentumReset` |" in index
    )
    assert "`optimizer.matches_torch`, `optimizer.maximize`, `optimizer.momentum`" in index
    assert (
        "| [dropout](dropout/conformance.md) | `torch.nn.modules.dropout:Dropout` "
        "| rank 2 | 2 | 0 |" in index
    )
    capsys.readouterr()
    assert cli.main(["check-index", str(tmp_path / "empty")]) == 2
    assert "no */conformance.json under" in capsys.readouterr().err


def test_dropout_kwargs_reach_the_constructor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dropout that cannot be built without a constructor argument is checked with it."""
    (tmp_path / "user_dropouts.py").write_text(
        textwrap.dedent(
            """
            import torch.nn.functional as F
            from torch import nn

            class NeedsBlock(nn.Module):
                def __init__(self, p, *, block_size):
                    super().__init__()
                    if block_size != 1:
                        raise ValueError(f"only block_size=1 here, got {block_size}")
                    self.p = p

                def forward(self, x):
                    return F.dropout(x, self.p, self.training)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _check("--dropout", "user_dropouts:NeedsBlock", "--only", "dropout.law*") == 2
    assert "missing 1 required keyword-only argument: 'block_size'" in capsys.readouterr().err
    assert _check("--dropout", "user_dropouts:NeedsBlock", "--dropout-kwargs",
                  '{"block_size": 1}', "--only", "dropout.law*") == 0  # fmt: skip
    assert "holds  dropout.law[cpu-float32]  user_dropouts:NeedsBlock(block_size=1)" in (
        capsys.readouterr().out
    )


def test_channel_dropout_declared_channel_holds(capsys: pytest.CaptureFixture[str]) -> None:
    """torch's Dropout2d against what it documents: one draw per sample and channel."""
    assert _check("--dropout", "torch.nn:Dropout2d", "--dropout-rank", "4",
                  "--dropout-structure", "channel", "--dtype", "float32") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "holds  dropout.independent_units[cpu-float32]" in out
    assert "fact   dropout.structure_element[cpu-float32]" in out  # not Algorithm 12's mask
    assert "(not the declared mask structure): does not hold" in out


def test_inplace_dropout_declared_inplace_holds(capsys: pytest.CaptureFixture[str]) -> None:
    """nn.Dropout(p, inplace=True): every check on fresh inputs, the in-place write required."""
    assert _check("--dropout", "torch.nn:Dropout", "--dropout-kwargs", '{"inplace": true}',
                  "--dropout-inplace", "--dtype", "float32") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert (
        "holds  dropout.inplace[cpu-float32]  torch.nn.modules.dropout:Dropout(inplace=True)"
        in (out)
    )
    assert "holds  dropout.law[cpu-float32]" in out and "holds  dropout.seeded[cpu-float32]" in out


def test_bad_dropout_structure_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:  # argparse refuses it before check() runs
        _check("--dropout", "torch.nn:Dropout", "--dropout-structure", "block")
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--dropout-structure" in err and "'block'" in err


@pytest.mark.parametrize(
    "where",
    ["a file", "under a file", "read-only"],
)
def test_an_out_that_cannot_be_written_is_refused_before_any_check(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out is probed first: one line, exit 2, no check ran, nothing left behind."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    if where == "a file":
        out = blocker
    elif where == "under a file":
        out = blocker / "report"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only folder; the probe is exercised above")
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        out = locked / "report"
    before = sorted(p.name for p in tmp_path.iterdir())
    code = _check("--optimizer", "torch.optim:SGD", "--out", str(out))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1 and "--out" in captured.err
    assert "holds" not in captured.out  # refused before the first check
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_declared_adam_on_torch_adam_holds_and_reports_the_other_form(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Adam declared: its update checks run and hold, SGD's do not run, AdamW's decay form is
    a fact."""
    code = _check("--optimizer", "torch.optim:Adam", "--algorithm", "adam",
                  "--only", "optimizer.update*", "--only", "optimizer.weight_decay*",
                  "--only", "optimizer.momentum*", "--dtype", "float32")  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "holds  optimizer.update[cpu-float32]" in out
    assert "optimizer.momentum[" not in out  # SGD's momentum check is not Adam's
    assert "optimizer.weight_decay_decoupled[cpu-float32]" in out and "fact" in out


def test_a_budget_bounds_a_slow_step_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--budget: a step that takes 20 ms (a compiled step rebuilding, say) stops drawing new
    examples once a check has used its seconds, and the line and the report say how many ran."""
    (tmp_path / "slow_impls.py").write_text(
        "import time, torch\n"
        "class SlowSGD(torch.optim.SGD):\n"
        "    def step(self, closure=None):\n"
        "        time.sleep(0.02)\n"
        "        return super().step(closure)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "report"
    code = cli.main(["check", "--optimizer", "slow_impls:SlowSGD", "--examples", "50",
                     "--budget", "0.3", "--only", "optimizer.plain_step*", "--dtype", "float32",
                     "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "[budget: " in printed
    (result,) = json.loads((out / "conformance.json").read_text())["results"]
    assert 0 < result["stopped_at_budget"] == result["examples"] < 50
    assert "(budget)" in (out / "conformance.md").read_text()
