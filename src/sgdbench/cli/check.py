"""``check``: the conformance suite on an optimizer and/or a dropout named on the command line.

Exit status: 0 when every applicable check holds, 1 when any fails (or an xfails entry holds
now), 2 on bad usage (a name that does not import, an attribute that is not an optimizer or a
dropout, a constructor or step() that raises on plain arguments, kwargs that are not a JSON
object), 3 when nothing fails but some checks reached no verdict (a harness error: the suite's
own arguments were refused; please report it).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from hypothesis.configuration import set_hypothesis_home_dir
from torch import nn

from sgdbench._args import seconds
from sgdbench._output import staged_output, write_json
from sgdbench.cli._common import int_at_least, progress


def _usage(message: str) -> int:
    print(f"python -m sgdbench check: error: {message}", file=sys.stderr)
    return 2


def _devices(names: list[str] | None) -> list[str]:
    from sgdbench.conformance import UsageError, devices_present

    if not names:
        return devices_present()
    for name in names:
        try:
            device = torch.device(name)
        except RuntimeError:
            raise UsageError(f"--device must be cpu, cuda or cuda:N, but got {name!r}") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise UsageError(f"--device {name}: no CUDA device on this machine")
        if device.type not in ("cpu", "cuda"):
            raise UsageError(f"--device must be cpu, cuda or cuda:N, but got {name!r}")
    return names


def _writable(out: Path) -> None:
    """Refuse an ``--out`` that cannot be written, before any check runs: a file in its
    place, or a folder (its own or the nearest one above it that exists) where a file cannot
    be created. Probed by creating and removing a scratch folder, so that it is right for
    root too (os.access says yes to root on any writable file system). Nothing is left."""
    from sgdbench.conformance import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} exists and is not a folder")
    where = out
    while not where.exists():
        where = where.parent
    if not where.is_dir():
        raise UsageError(f"--out {str(out)!r}: {str(where)!r} is not a folder")
    try:
        shutil.rmtree(tempfile.mkdtemp(prefix=".sgdbench-probe-", dir=where))
    except OSError as e:
        raise UsageError(
            f"--out {str(out)!r} cannot be written ({str(where)!r}: {e.strerror or e})"
        ) from None


def _smoke_optimizer(impl: Any) -> None:
    """Build it on one parameter and take one step: what every check needs to work at all."""
    from sgdbench.conformance import UsageError

    param = nn.Parameter(torch.ones(2))
    try:
        opt = impl.make([param], lr=0.01)
    except Exception as e:
        raise UsageError(f"{impl.name}(params, lr=0.01) raised {type(e).__name__}: {e}") from None
    if not isinstance(opt, torch.optim.Optimizer):
        raise UsageError(
            f"{impl.name}(params, lr=0.01) returned {type(opt).__name__}, not an Optimizer"
        )
    param.grad = torch.ones(2)
    try:
        opt.step()
    except Exception as e:
        raise UsageError(f"{impl.name}: step() raised {type(e).__name__}: {e}") from None


def _smoke_dropout(impl: Any) -> None:
    from sgdbench.conformance import UsageError

    x = torch.ones([4] * impl.rank)
    try:
        out = impl.apply(x, 0.5)
    except Exception as e:
        kind = "ATTR(p)(x)" if impl.is_module else "f(x, p, training)"
        raise UsageError(f"{impl.name} as {kind} raised {type(e).__name__}: {e}") from None
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        raise UsageError(
            f"{impl.name} returned {type(out).__name__} {getattr(out, 'shape', '')}, not a "
            f"tensor of the input's shape {tuple(x.shape)}"
        )


def _smoke(test: Any, impl: Any) -> None:
    """A smoke test's warnings, log records and prints are the checks' to report, not a
    reason to stop here or to print between the verdicts."""
    from sgdbench.conformance._runner import _recorded_output

    with _recorded_output({}):
        test(impl)


def check(args: argparse.Namespace) -> int:
    """Run the conformance checks, one line each; reports into --out; exit 0, 1 or 2."""
    from sgdbench import conformance as c
    from sgdbench.conformance.report import Report, line

    if not args.optimizer and not args.dropout:
        return _usage("give --optimizer MODULE:ATTR, --dropout MODULE:ATTR, or both")
    try:
        impls: list[Any] = []
        if args.optimizer:
            impls.append(
                c.OptimizerUnderTest(
                    c.load(args.optimizer, "--optimizer"),
                    kwargs=c.parse_kwargs(args.kwargs),
                    weight_decay=args.weight_decay,
                    bitwise=args.bitwise,
                    algorithm=args.algorithm,
                )
            )
            missing: list[str] = []
            _smoke(lambda impl: missing.extend(impl.missing()), impls[-1])
            if missing:
                algo = impls[-1].algo
                raise c.UsageError(
                    f"--algorithm {algo.name}: {impls[-1].name} neither takes nor shows in its "
                    f"param_groups {', '.join(missing)}, which {algo.title} needs: it is not "
                    f"{algo.title}"
                )
            _smoke(_smoke_optimizer, impls[-1])
        elif args.kwargs != "{}":
            raise c.UsageError("--kwargs goes with --optimizer")
        elif args.algorithm != "sgd" or args.weight_decay is not None:
            flag = "--algorithm" if args.algorithm != "sgd" else "--weight-decay"
            raise c.UsageError(f"{flag} goes with --optimizer")
        if args.dropout:
            impls.append(
                c.DropoutUnderTest(
                    c.load(args.dropout, "--dropout"),
                    rank=args.dropout_rank,
                    bitwise=args.dropout_bitwise,
                    kwargs=c.parse_kwargs(args.dropout_kwargs, "--dropout-kwargs"),
                    inplace=args.dropout_inplace,
                    structure=args.dropout_structure,
                )
            )
            _smoke(_smoke_dropout, impls[-1])
        elif args.dropout_kwargs != "{}":
            raise c.UsageError("--dropout-kwargs goes with --dropout")
        devices = _devices(args.device)
        xfails = c.load_xfails(args.xfails) if args.xfails else []
        if args.ddp is not None and args.device and set(args.device) != {"cpu"}:
            raise c.UsageError("--ddp runs on gloo ranks on the CPU: give no --device with it")
        if args.ddp is not None and args.optimizer and args.algorithm != "sgd":
            raise c.UsageError(
                f"--ddp checks SGD's update only (its bound is linear in the gradient), but "
                f"--algorithm is {args.algorithm!r}: run without --ddp"
            )
        if args.out:
            _writable(Path(args.out))
    except c.UsageError as e:
        return _usage(str(e))

    def show(r: c.CheckResult) -> None:
        print(line(r), flush=True)

    start = time.perf_counter()
    report = Report()
    runs: list[list[str]] = []  # each run's unmatched xfails: unmatched overall if in all
    # Hypothesis keeps caches in ./.hypothesis; a user's check run leaves their folder alone.
    with tempfile.TemporaryDirectory(prefix="sgdbench-hypothesis-") as home:
        set_hypothesis_home_dir(home)
        try:
            for impl in impls:
                one = c.run_checks(
                    impl,
                    devices=devices,
                    dtypes=args.dtype or c.DTYPES,
                    examples=args.examples,
                    seed=args.seed,
                    xfails=xfails,
                    only=args.only,
                    progress=show,
                    budget=args.budget,
                )
                runs.append(one.unmatched_xfails)
                report.merge(one)
            if args.ddp is not None:
                one = _ddp(args, impls, xfails, show)
                runs.append(one.unmatched_xfails)
                report.merge(one)
        finally:
            set_hypothesis_home_dir(None)
    seconds = time.perf_counter() - start
    report.settings["seconds"] = round(seconds, 1)
    unmatched = [set(r) for r in runs]
    report.unmatched_xfails = [u for u in runs[0] if all(u in s for s in unmatched)] if runs else []
    for r in report.failures:
        print(f"\n{r.id} on {r.implementation}: shortest example {r.example}\n{r.snippet}")
    _said(report.said(), bool(args.out))
    for u in report.unmatched_xfails:
        print(f"\nxfails: {u} matched no check (remove it, or fix the id)")
    print(f"\n{report.summary()} ({seconds:.1f} s)")
    if args.out:
        with staged_output(args.out) as stage:
            write_json(stage / "conformance.json", report.to_json())
            (stage / "conformance.md").write_text(report.to_markdown(), encoding="utf-8")
        progress(f"check: wrote {Path(args.out) / 'conformance.md'} and conformance.json")
    return report.exit_status()


def _ddp(args: argparse.Namespace, impls: list[Any], xfails: list[Any], show: Any) -> Any:
    """The ``ddp.*`` checks with the named optimizer and dropout under DDP on gloo ranks."""
    from sgdbench import conformance as c
    from sgdbench.distributed import check_ddp

    named: dict[str, Any] = {
        "optimizer": next((i for i in impls if isinstance(i, c.OptimizerUnderTest)), None),
        "dropout": next((i for i in impls if isinstance(i, c.DropoutUnderTest)), None),
    }
    return check_ddp(
        world_size=args.ddp,
        **{k: v for k, v in named.items() if v is not None},
        dtypes=args.dtype or c.DTYPES,
        examples=args.examples,
        seed=args.seed,
        xfails=xfails,
        only=args.only,
        progress=show,
    )


SAID_SHOWN = 10


def _said(said: dict[str, int], written: bool) -> None:
    """What the implementations said (warnings, log records, prints), counted, once."""
    if not said:
        return
    total = sum(said.values())
    print(f"\nThe implementation said {total} things while the checks ran ({len(said)} distinct):")
    for text, n in sorted(said.items(), key=lambda kv: -kv[1])[:SAID_SHOWN]:
        print(f"  ×{n:<6} {text[:200]}")
    if len(said) > SAID_SHOWN:
        where = "conformance.md lists them all" if written else "--out writes them all"
        print(f"  … and {len(said) - SAID_SHOWN} more distinct ({where})")


def check_index(args: argparse.Namespace) -> int:
    """Every DIR/*/conformance.json → DIR/INDEX.md, one row per implementation."""
    import json

    from sgdbench.conformance.report import index

    folder = Path(args.folder)
    found = sorted(folder.glob("*/conformance.json"))
    if not found:
        return _usage(f"no */conformance.json under {str(folder)!r} (write them with check --out)")
    reports = []
    for path in found:
        try:
            reports.append((path.parent.name, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as e:
            return _usage(f"{path}: not a conformance report ({e})")
    torch_versions = sorted({r["torch"] for _, r in reports})
    text = (
        "# Conformance reports\n\nWritten by `python -m sgdbench check-index` from the "
        f"reports below (torch {', '.join(torch_versions)}). `FAIL` counts failing checks "
        "(per device and dtype), XPASS included; `error` counts harness errors (no verdict); facts "
        "about what the author did not declare (the other weight-decay form, an undeclared "
        "in-place write, another mask structure) are not counted.\n\n" + index(reports)
    )
    with staged_output(folder) as stage:
        (stage / "INDEX.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


def add_parser(sub: Any) -> None:
    ch = sub.add_parser(
        "check",
        help="the conformance suite on YOUR optimizer and/or dropout (exit 0 holds, 1 fails)",
        description=(
            "Check an optimizer and/or a dropout against the chapter (Algorithm 11 and 12, "
            "momentum, weight decay as L2) and torch's documented SGD/dropout contract. "
            "One line per check and device/dtype: holds, FAILS (with the shortest example "
            "and a snippet that replays it) or n/a (with the reason). Exit 0 when every "
            "applicable check holds, 1 when one fails, 2 on bad usage."
        ),
    )
    ch.add_argument(
        "--optimizer",
        metavar="MODULE:ATTR",
        help="a torch.optim.Optimizer subclass (or factory) built as ATTR(params, lr=…, …)",
    )
    ch.add_argument(
        "--kwargs",
        default="{}",
        metavar="JSON",
        help="the base configuration every check starts from, as a JSON object: a path flag "
        '(\'{"fused": true}\') or a hyper-parameter the optimizer needs (\'{"momentum": '
        "0.9}'; the checks that need it off are then not applicable); not lr",
    )
    ch.add_argument(
        "--algorithm",
        default="sgd",
        metavar="NAME",
        help="the update it implements, judged by that algorithm's float64 oracle: sgd "
        "(Algorithm 11 with torch's momentum, default), adam, adamw, nadam, radam, lion",
    )
    ch.add_argument(
        "--weight-decay",
        choices=["coupled", "decoupled"],
        default=None,
        help="the weight-decay form it implements: coupled (torch.optim.SGD and Adam, ≡ L2) "
        "or decoupled (SGDW, AdamW, Lion); the other is reported as a fact (default: the "
        "algorithm's own: coupled for sgd, adam, nadam, radam; decoupled for adamw, lion)",
    )
    ch.add_argument(
        "--bitwise",
        action="store_true",
        help="declare bit-for-bit equality with the algorithm's torch.optim class (SGD, Adam, "
        "…) on its for-loop path (default: the derived bound)",
    )
    ch.add_argument(
        "--dropout",
        metavar="MODULE:ATTR",
        help="a function f(x, p, training) or an nn.Module class built as ATTR(p)",
    )
    ch.add_argument(
        "--dropout-rank",
        type=int_at_least(1, 5),
        default=2,
        help="dimensions of the inputs it takes: 2 (batch × units, default), 4 for "
        "Dropout2d, 5 for Dropout3d",
    )
    ch.add_argument(
        "--dropout-bitwise",
        action="store_true",
        help="declare kept units exactly x·fl(1/(1 − p)) or x/fl(1 − p), as torch's kernels",
    )
    ch.add_argument(
        "--dropout-kwargs",
        default="{}",
        metavar="JSON",
        help="constant arguments as a JSON object: to the constructor of a class, ATTR(p, **kw), "
        "or to every call of a function, f(x, p, training, **kw); e.g. '{\"block_size\": 3}'",
    )
    ch.add_argument(
        "--dropout-inplace",
        action="store_true",
        help="declare that it writes its output into its input (torch's inplace=True); "
        "otherwise a changed input is reported as a fact",
    )
    ch.add_argument(
        "--dropout-structure",
        choices=["element", "channel", "sample"],
        default="element",
        help="which units share one draw: element (Algorithm 12, default), channel (one per "
        "sample and channel, dim 1: Dropout1d/2d/3d), sample (one per sample: stochastic "
        "depth); the others are reported as facts",
    )
    ch.add_argument(
        "--device",
        action="append",
        metavar="DEV",
        help="cpu, cuda or cuda:N; repeat for several (default: every device present)",
    )
    ch.add_argument(
        "--dtype",
        action="append",
        choices=["float32", "float64"],
        help="repeat for several (default: float32 and float64)",
    )
    ch.add_argument(
        "--examples",
        type=int_at_least(1, 100_000),
        default=50,
        help="Hypothesis examples per check and device/dtype (default: 50)",
    )
    ch.add_argument(
        "--budget",
        type=seconds,
        metavar="SECONDS",
        help="per check and device/dtype: start no new example after this many seconds, and "
        "say on its line how many ran (a torch.compile'd step rebuilds for every drawn shape: "
        "heavyball's SGD took 845 s at the defaults); default: no budget, every example",
    )
    ch.add_argument(
        "--seed",
        type=int_at_least(0),
        default=0,
        help="Hypothesis seed: the same seed gives the same examples (default: 0)",
    )
    ch.add_argument(
        "--xfails",
        type=Path,
        metavar="FILE",
        help="accepted deviations: one check-id pattern per line, '# reason' after it",
    )
    ch.add_argument(
        "--only",
        action="append",
        metavar="PATTERN",
        help="run only the check ids matching, * a wildcard (e.g. 'optimizer.momentum*'); "
        "repeat for several",
    )
    ch.add_argument(
        "--ddp",
        type=int_at_least(2, 8),
        metavar="K",
        help="also run the ddp.* checks: the optimizer (default torch.optim.SGD) and dropout "
        "(default nn.Dropout) under DistributedDataParallel on K gloo ranks on this machine",
    )
    ch.add_argument(
        "--out",
        type=Path,
        help="write conformance.json and conformance.md here (nothing is written without it)",
    )
    ch.set_defaults(func=check)
    ix = sub.add_parser(
        "check-index",
        help="summarise the conformance reports under a folder into FOLDER/INDEX.md",
        description="Read FOLDER/*/conformance.json (written by check --out) and write one "
        "table row per implementation into FOLDER/INDEX.md.",
    )
    ix.add_argument("folder", type=Path, help="e.g. results/conformance")
    ix.set_defaults(func=check_index)
