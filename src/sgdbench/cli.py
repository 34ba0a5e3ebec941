"""``python -m sgdbench``: run the chapter's experiments and write their evidence to results/."""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

import torch

import sgdbench
from sgdbench._output import staged_output, write_json
from sgdbench.data import two_moons
from sgdbench.experiments import GD, SGD_32, first_epoch_reaching, run_many
from sgdbench.training import SEED_LR, SEED_MOMENTUM, History

TARGET_ACC = 0.95


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, but got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            hi = "" if maximum is None else f" and ≤ {maximum}"
            raise argparse.ArgumentTypeError(f"must be ≥ {minimum}{hi}, but got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _summary(runs: dict[str, list[History]], epochs: int) -> str:
    def span(xs: Sequence[float], fmt: str) -> str:
        return f"{statistics.fmean(xs):{fmt}} [{min(xs):{fmt}}, {max(xs):{fmt}}]"

    rows = [
        f"{'method':<8} {'final test acc mean [min, max]':<32} "
        f"{'final test loss mean [min, max]':<34} {'epoch to 95% test acc':<22} s/epoch"
    ]
    for name, hs in runs.items():
        reached = [first_epoch_reaching(h.test_acc, TARGET_ACC) for h in hs]
        hit = [e for e in reached if e is not None]
        to_target = (
            f"median {statistics.median(hit):g} ({len(hit)}/{len(hs)} runs)"
            if hit
            else f"not within {epochs}"
        )
        sec = statistics.median(s for h in hs for s in h.epoch_seconds)
        rows.append(
            f"{name:<8} {span([h.test_acc[-1] for h in hs], '.3f'):<32} "
            f"{span([h.test_loss[-1] for h in hs], '.4f'):<34} {to_target:<22} {sec * 1e3:.2f} ms"
        )
    return "\n".join(rows)


def reproduce(args: argparse.Namespace) -> int:
    """SGD-32 vs GD from ``--seeds`` seeds: JSON, timings and the chapter's two figures."""
    from sgdbench import plots

    seeds = list(range(args.seeds))
    with staged_output(args.out) as stage:
        split = two_moons()
        _progress(f"reproduce: {len(seeds)} seed(s) × SGD-32, GD × {args.epochs} epochs")
        start = time.perf_counter()
        runs = run_many([SGD_32, GD], seeds, split, epochs=args.epochs, progress=_progress)
        config = {
            "data": "two_moons(n_samples=1000, noise=0.2, test_size=0.2, random_state=42)",
            "model": "mlp(2, (16,), 2)",
            "optimizer": {"name": "torch.optim.SGD", "lr": SEED_LR, "momentum": SEED_MOMENTUM},
            "methods": {
                m.name: {"batch_size": m.batch_size or "n", "shuffle": m.shuffle}
                for m in (SGD_32, GD)
            },
            "epochs": args.epochs,
            "seeds": seeds,
        }
        write_json(
            stage / "reproduce.json",
            {
                "sgdbench": sgdbench.__version__,
                "torch": torch.__version__,
                "config": config,
                "runs": {
                    name: [{"seed": s, **h.metrics()} for s, h in zip(seeds, hs, strict=True)]
                    for name, hs in runs.items()
                },
            },
        )
        write_json(
            stage / "reproduce_timings.json",
            {
                "note": "wall seconds of each epoch's training pass; varies between runs",
                "machine": platform.platform(),
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "epoch_seconds": {
                    name: {str(s): h.epoch_seconds for s, h in zip(seeds, hs, strict=True)}
                    for name, hs in runs.items()
                },
            },
        )
        label = f"{len(seeds)} seeds" if len(seeds) > 1 else f"seed {seeds[0]}"
        plots.save(
            plots.plot_history(runs[SGD_32.name], f"SGD, batch 32, shuffled ({label})"),
            stage / "reproduce_sgd.png",
        )
        plots.save(
            plots.plot_comparison(runs, f"SGD-32 vs GD ({label})"),
            stage / "reproduce_sgd_vs_gd.png",
        )
        print(_summary(runs, args.epochs))
        _progress(f"reproduce: {time.perf_counter() - start:.1f} s; wrote {args.out}")
    return 0


def bench_report(args: argparse.Namespace) -> int:
    """pytest-benchmark JSON → BENCHMARKS.md, plot, stored JSON; with --compare, the gate."""
    import shutil

    from sgdbench import benchreport

    try:
        run = benchreport.load(args.run)
    except (OSError, ValueError) as e:
        print(f"python -m sgdbench bench-report: error: {e}", file=sys.stderr)
        return 2
    label = benchreport.run_label(run)
    store = Path(args.out) / "benchmarks"
    gate_rows = None
    if args.compare:
        baseline_path = args.baseline or store / f"{label}-baseline.json"
        try:
            passed, gate_rows = benchreport.gate(
                run, benchreport.load(baseline_path), args.threshold
            )
        except (OSError, ValueError) as e:
            print(f"python -m sgdbench bench-report: error: baseline: {e}", file=sys.stderr)
            return 2
        print("\n".join(gate_rows))
        if not passed:
            print(
                f"regression gate: a tracked ratio worsened beyond its threshold against "
                f"{baseline_path}; {args.out} left as it was",
                file=sys.stderr,
            )
            return 1
        print(f"regression gate: passed against {baseline_path}", file=sys.stderr)
    with staged_output(args.out) as stage:
        (stage / "BENCHMARKS.md").write_text(
            benchreport.render(run, stage, gate_rows), encoding="utf-8"
        )
    store.mkdir(exist_ok=True)
    with staged_output(store) as stage:
        shutil.copyfile(args.run, stage / f"{label}-latest.json")
        if args.save_baseline:
            shutil.copyfile(args.run, stage / f"{label}-baseline.json")
    print(f"bench-report: wrote {Path(args.out) / 'BENCHMARKS.md'}", file=sys.stderr)
    return 0


def claims(args: argparse.Namespace) -> int:
    """Every claim over --seeds seeds → CLAIMS.md, claims.json and three figures."""
    from sgdbench import claims as c
    from sgdbench import claims_report

    seeds = list(range(args.seeds))
    with staged_output(args.out) as stage:
        split = two_moons()
        start = time.perf_counter()
        _progress(f"claims: {len(seeds)} seed(s), {args.epochs} epochs per run")
        runs = c.sgd_gd_runs(split, seeds, args.epochs, progress=_progress)
        at = [e for e in (5, 10, 100) if e <= args.epochs] or [args.epochs]
        results = [
            c.claim_sgd_faster(runs, at),
            c.claim_test_above_train(runs),
            c.claim_noisier(runs),
            c.claim_weight_decay(split, seeds, args.epochs, progress=_progress),
            c.claim_dropout_eval(seeds),
            c.claim_dropout_gap(split, seeds, args.epochs, progress=_progress),
            c.claim_sharp_flat(split, seeds, args.epochs, progress=_progress),
        ]
        header = (
            f"Written by `python -m sgdbench claims --seeds {args.seeds} --epochs {args.epochs}` "
            f"(torch {torch.__version__}); seeds 0–{len(seeds) - 1}. Every number is a mean "
            "[min, max] over those seeds; each rule is fixed in src/sgdbench/claims.py."
        )
        (stage / "CLAIMS.md").write_text(claims_report.render(results, header), encoding="utf-8")
        write_json(
            stage / "claims.json",
            {
                "torch": torch.__version__,
                "seeds": seeds,
                "epochs": args.epochs,
                "claims": [
                    {
                        "key": r.key,
                        "measured": r.measured,
                        "verdict": r.verdict,
                        "holds": r.holds,
                        "rule": r.rule,
                        "data": r.data,
                    }
                    for r in results
                ],
            },
        )
        claims_report.figures({r.key: r for r in results}, stage)
        for r in results:
            print(f"{r.key:<17} {r.verdict}")
        _progress(f"claims: {time.perf_counter() - start:.1f} s; wrote {args.out}")
    return 0


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, but got {text!r}") from None
    if not 0 < value < 10:
        raise argparse.ArgumentTypeError(f"must be in (0, 10), but got {value}")
    return value


def _run_options(parser: argparse.ArgumentParser, default_seeds: int) -> None:
    """--epochs, --seeds, --out: what every experiment subcommand takes."""
    parser.add_argument(
        "--epochs",
        type=_int_at_least(1, 100_000),
        default=100,
        help="epochs per run, 1..100000 (default: 100, as the chapter)",
    )
    parser.add_argument(
        "--seeds",
        type=_int_at_least(1, 1000),
        default=default_seeds,
        help=f"number of seeds, 1..1000; seeds 0..N-1 are run (default: {default_seeds})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="folder to write into; created if missing (default: results/)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m sgdbench",
        description="sgdbench: the chapter's SGD, weight decay and dropout, run and measured.",
    )
    parser.add_argument("--version", action="version", version=sgdbench.__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rep = sub.add_parser(
        "reproduce",
        help="the chapter's SGD-32 vs GD experiment on two moons: JSON and figures",
        description=(
            "Train the chapter's 2-16-2 network with SGD (batch 32, shuffled) and with full-batch "
            "gradient descent from seeds 0..N-1, write reproduce.json (metrics, byte-identical "
            "across runs), reproduce_timings.json and two PNG figures into --out, and print a "
            "summary. Files already in --out are replaced only if the whole run succeeds."
        ),
    )
    _run_options(rep, default_seeds=1)
    rep.set_defaults(func=reproduce)

    cl = sub.add_parser(
        "claims",
        help="the chapter's empirical claims over many seeds: CLAIMS.md and figures",
        description=(
            "Check the chapter's empirical statements (SGD vs GD, test above train accuracy, "
            "noisy SGD, weight decay, dropout, sharp vs flat minima) over seeds 0..N-1 and write "
            "CLAIMS.md, claims.json and three PNG figures into --out. Files already in --out "
            "are replaced only if the whole run succeeds."
        ),
    )
    _run_options(cl, default_seeds=10)
    cl.set_defaults(func=claims)

    br = sub.add_parser(
        "bench-report",
        help="turn a benchmark run (pytest-benchmark JSON) into results/BENCHMARKS.md and a plot",
        description=(
            "Read RUN (written by `pytest benchmarks --benchmark-json RUN`, as `nox -s bench` "
            "does), write BENCHMARKS.md and bench_batch_size.png into --out and copy RUN to "
            "--out/benchmarks/LABEL-latest.json (LABEL: cpu, or the GPU's name). With --compare, "
            "first gate the run's tracked same-run ratios against the baseline: exit 1, and "
            "write nothing, if one worsened by more than its threshold."
        ),
    )
    br.add_argument("run", type=Path, help="pytest-benchmark JSON of sgdbench's benchmarks/")
    br.add_argument("--out", type=Path, default=Path("results"), help="(default: results/)")
    br.add_argument("--compare", action="store_true", help="gate against the baseline first")
    br.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="baseline JSON (default: OUT/benchmarks/LABEL-baseline.json)",
    )
    br.add_argument(
        "--threshold",
        type=_fraction,
        default=None,
        help="relative worsening that fails the gate, for every tracked ratio "
        "(default: each ratio's own, from its measured noise; see README)",
    )
    br.add_argument(
        "--save-baseline",
        action="store_true",
        help="also store RUN as OUT/benchmarks/LABEL-baseline.json",
    )
    br.set_defaults(func=bench_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except OSError as e:
        detail = f"{e.strerror}: {e.filename}" if e.strerror and e.filename else str(e)
        print(f"{parser.prog} {args.command}: error: cannot write --out: {detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted; --out left as it was", file=sys.stderr)
        return 130
    return code
