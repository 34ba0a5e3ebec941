"""Which implementations the property suite checks: the built-ins, or the one you name.

``pytest properties`` runs the conformance checks (:mod:`sgdbench.conformance`) on sgdbench's
reference and on torch's own SGD paths and dropouts; ``pytest properties --optimizer
MODULE:ATTR [--dropout MODULE:ATTR]`` runs them on yours instead (array-api-tests style), with
``--xfails FILE`` for accepted deviations. Each (implementation, check, device, dtype) is one
test id, so ``-k`` picks one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from properties._support import DEVICES
from sgdbench import conformance as c
from sgdbench import reference

XFAILS = Path(__file__).with_name("xfails.txt")


def builtin_optimizers() -> list[c.OptimizerUnderTest]:
    """The reference and every path of torch.optim.SGD this torch has on the CPU."""
    impls = [
        c.OptimizerUnderTest(reference.SGD, bitwise=True),
        c.OptimizerUnderTest(torch.optim.SGD, kwargs={"foreach": False}, bitwise=True),
        c.OptimizerUnderTest(torch.optim.SGD, kwargs={"foreach": True}, bitwise=True),
    ]
    fused = c.OptimizerUnderTest(torch.optim.SGD, kwargs={"fused": True})
    if fused.refuses(lr=0.1) is None:  # fused CPU SGD exists from torch 2.4 on
        impls.append(fused)  # not bitwise: it rounds dampened momentum in another order
    # the Adam family on every CPU path, each judged by its declared algorithm: bitwise on the
    # for-loop path (the same class), within the bound on foreach and fused
    adams = [(torch.optim.Adam, "adam"), (torch.optim.AdamW, "adamw"),
             (torch.optim.NAdam, "nadam"), (torch.optim.RAdam, "radam")]  # fmt: skip
    for cls, algorithm in adams:
        for flag in ("foreach", "fused"):
            for on in (False, True) if flag == "foreach" else (True,):
                impl = c.OptimizerUnderTest(
                    cls,
                    kwargs={flag: on},
                    algorithm=algorithm,
                    bitwise=flag == "foreach" and not on,
                )
                if impl.refuses(lr=0.1) is None:  # NAdam and RAdam have no fused path
                    impls.append(impl)
    return impls


def builtin_dropouts() -> list[c.DropoutUnderTest]:
    """The reference function and layer, torch's F.dropout and nn.Dropout: all exact."""
    return [
        c.DropoutUnderTest(reference.dropout, bitwise=True),
        c.DropoutUnderTest(reference.Dropout, bitwise=True),
        c.DropoutUnderTest(F.dropout, bitwise=True),
        c.DropoutUnderTest(nn.Dropout, bitwise=True),
    ]


def _under_test(config: pytest.Config) -> tuple[list[Any], list[Any], list[c.Xfail]]:
    opt, drop = config.getoption("--optimizer"), config.getoption("--dropout")
    try:
        if not opt and not drop:
            xfails = config.getoption("--xfails") or XFAILS
            return builtin_optimizers(), builtin_dropouts(), c.load_xfails(xfails)
        optimizers = (
            [
                c.OptimizerUnderTest(
                    c.load(opt, "--optimizer"),
                    kwargs=c.parse_kwargs(
                        config.getoption("--optimizer-kwargs"), "--optimizer-kwargs"
                    ),
                    weight_decay=config.getoption("--weight-decay"),
                    bitwise=config.getoption("--bitwise"),
                    algorithm=config.getoption("--optimizer-algorithm"),
                )
            ]
            if opt
            else []
        )
        dropouts = (
            [
                c.DropoutUnderTest(
                    c.load(drop, "--dropout"),
                    rank=config.getoption("--dropout-rank"),
                    bitwise=config.getoption("--dropout-bitwise"),
                    kwargs=c.parse_kwargs(config.getoption("--dropout-kwargs"), "--dropout-kwargs"),
                    inplace=config.getoption("--dropout-inplace"),
                    structure=config.getoption("--dropout-structure"),
                )
            ]
            if drop
            else []
        )
        xfile = config.getoption("--xfails")
        return optimizers, dropouts, c.load_xfails(xfile) if xfile else []
    except c.UsageError as e:
        raise pytest.UsageError(str(e)) from None


def named_under_test(config: pytest.Config) -> dict[str, Any]:
    """The optimizer and dropout named with --optimizer/--dropout (none: the defaults), for
    the data-parallel checks (``properties/test_distributed.py``)."""
    if not config.getoption("--optimizer") and not config.getoption("--dropout"):
        return {}
    optimizers, dropouts, _ = config.stash[_UNDER_TEST]
    named = {"optimizer": optimizers[:1], "dropout": dropouts[:1]}
    return {k: v[0] for k, v in named.items() if v}


_UNDER_TEST = pytest.StashKey[tuple[list[Any], list[Any], list[c.Xfail]]]()


def pytest_configure(config: pytest.Config) -> None:
    """Resolve the implementations once; a bad name is pytest's usage error (one line)."""
    config.stash[_UNDER_TEST] = _under_test(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``conformance`` with every (implementation, check, device, dtype)."""
    if "conformance" not in metafunc.fixturenames:
        return
    optimizers, dropouts, xfails = metafunc.config.stash[_UNDER_TEST]
    impls = optimizers if metafunc.function.__name__ == "test_optimizer" else dropouts
    params = []
    for impl in impls:
        for check in c.checks_for(impl):
            for device in DEVICES:
                for dtype in c.DTYPES:
                    cid = check.id(c.Variant(device.values[0], dtype))
                    marks = list(device.marks)
                    accepted = c.match_xfail(cid, impl.name, xfails)
                    if accepted:
                        strict = accepted.strict  # False: nondeterministic (xfails.txt says why)
                        marks.append(pytest.mark.xfail(strict=strict, reason=accepted.reason))
                    params.append(
                        pytest.param(
                            (impl, check, device.values[0], dtype),
                            id=f"{impl.name}-{check.name}-{device.values[0]}-{dtype}",
                            marks=marks,
                        )
                    )
    if not params:
        reason = (
            "no optimizer under test"
            if "optimizer" in metafunc.function.__name__
            else "no dropout under test"
        )
        params = [
            pytest.param(None, marks=pytest.mark.skip(reason=f"{reason} (--optimizer/--dropout)"))
        ]
    metafunc.parametrize("conformance", params)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """array-api-tests: an xfails entry that matches no test id is said, not silently passed.

    The ids are built here from the implementations and checks, as pytest_generate_tests builds
    them, not read off what this process collected: under pytest-xdist the workers collect, and
    a ``-k`` selection must not make a valid entry look stale.
    """
    optimizers, dropouts, xfails = config.stash.get(_UNDER_TEST, ([], [], []))
    matched = {
        accepted.line
        for impl in [*optimizers, *dropouts]
        for check in c.checks_for(impl)
        for device in DEVICES
        for dtype in c.DTYPES
        if (
            accepted := c.match_xfail(
                check.id(c.Variant(device.values[0], dtype)), impl.name, xfails
            )
        )
    }
    unused = [x for x in xfails if x.line not in matched]
    for x in unused:
        terminalreporter.write_line(
            f"xfails: line {x.line} {x.pattern!r} matched no test (remove it, or fix the id)"
        )
