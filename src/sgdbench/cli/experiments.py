"""``reproduce`` and ``claims``: the chapter's experiment and its empirical claims over seeds."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch

import sgdbench
from sgdbench import stacked
from sgdbench._output import staged_output, write_json
from sgdbench.claims import Claim
from sgdbench.cli._common import progress
from sgdbench.data import two_moons
from sgdbench.experiments import GD, SGD_32, first_epoch_reaching, run_many
from sgdbench.training import SEED_LR, SEED_MOMENTUM, History

TARGET_ACC = 0.95


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
        secs = [s for h in hs for s in h.epoch_seconds]
        sec = f"{statistics.median(secs) * 1e3:.2f} ms" if secs else "stacked"
        rows.append(
            f"{name:<8} {span([h.test_acc[-1] for h in hs], '.3f'):<32} "
            f"{span([h.test_loss[-1] for h in hs], '.4f'):<34} {to_target:<22} {sec}"
        )
    return "\n".join(rows)


def _model_and_optimizer(args: argparse.Namespace) -> dict[str, Any]:
    """--hidden, --dropout, --optimizer, --optimizer-kwargs, checked before anything runs."""
    if args.optimizer not in ("SGD", "torch.optim.SGD"):
        raise ValueError(
            f"--optimizer {args.optimizer!r} is not supported: the stacked trainer runs "
            "torch.optim.SGD only (--optimizer SGD)"
        )
    kwargs = args.optimizer_kwargs
    opts = {"lr": SEED_LR, "momentum": SEED_MOMENTUM} if kwargs is None else dict(kwargs)
    try:
        stacked.check_optimizer(opts)
    except (TypeError, ValueError) as e:
        raise ValueError(f"--optimizer-kwargs: {e}") from None
    return {"hidden": tuple(args.hidden), "dropout": args.dropout, "optimizer": opts}


def reproduce(args: argparse.Namespace) -> int:
    """SGD-32 vs GD from ``--seeds`` seeds: JSON, timings and the chapter's two figures."""
    from sgdbench import plots

    try:
        model = _model_and_optimizer(args)
    except ValueError as e:
        progress(f"python -m sgdbench reproduce: error: {e}")
        return 2
    seeds = list(range(args.seeds))
    with staged_output(args.out) as stage:
        split = two_moons()
        how = "one after another" if args.sequential else "stacked"
        progress(f"reproduce: {len(seeds)} seed(s) × SGD-32, GD × {args.epochs} epochs, {how}")
        start = time.perf_counter()
        stacked_seconds: dict[str, list[float]] = {}
        if args.sequential:
            runs = run_many(
                [SGD_32, GD], seeds, split, epochs=args.epochs, progress=progress, **model
            )
        else:
            runs = {}
            for m in (SGD_32, GD):
                r = stacked.train_seeds(
                    seeds, split, batch_size=m.batch_size, shuffle=m.shuffle, epochs=args.epochs,
                    **model,
                )  # fmt: skip
                runs[m.name], stacked_seconds[m.name] = r.histories, r.epoch_seconds
                progress(f"reproduce: {m.name}: {len(seeds)} seed(s) stacked")
        config = {
            "data": "two_moons(n_samples=1000, noise=0.2, test_size=0.2, random_state=42)",
            "model": f"mlp(2, {model['hidden']}, 2, dropout={model['dropout']})",
            "optimizer": {"name": "torch.optim.SGD", **model["optimizer"]},
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
                **(
                    {
                        "epoch_seconds": {
                            name: {str(s): h.epoch_seconds for s, h in zip(seeds, hs, strict=True)}
                            for name, hs in runs.items()
                        }
                    }
                    if args.sequential
                    else {
                        "stacked": f"all {len(seeds)} seeds trained together: seconds per epoch "
                        "of the whole stack",
                        "stacked_epoch_seconds": stacked_seconds,
                    }
                ),
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
        progress(f"reproduce: {time.perf_counter() - start:.1f} s; wrote {args.out}")
    return 0


FEW = 10  # the seeds every verdict used before the stacked trainer: shown beside the full run


def _claims_json(results: list[Claim], few: list[Claim] | None) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "measured": r.measured,
            "verdict": r.verdict,
            "holds": r.holds,
            "statement": r.statement,
            "per_seed": r.per_seed,
            **({"verdict_first_10": few[i].verdict} if few else {}),
            "rule": r.rule,
            "data": r.data,
        }
        for i, r in enumerate(results)
    ]


def claims(args: argparse.Namespace) -> int:
    """Every claim on each data set of --datasets → CLAIMS.md, claims.json and the figures.

    Runs on one torch thread (restored after): the networks are tiny, so one thread is faster,
    and on a machine shared with other jobs a two-thread pool's waits made single epochs up to
    40× slower, which the seconds-based claims (momentum, per second) would have measured.
    """
    from sgdbench.claims import report as claims_report
    from sgdbench.claims import run as claims_run

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with staged_output(args.out) as stage:
            start = time.perf_counter()
            sections: list[claims_report.Section] = []
            for key in args.datasets:
                data = claims_run.DATASETS[key]
                split = data.load()
                n = args.seeds if key == "two_moons" else args.digits_seeds or min(args.seeds, 100)
                seeds = list(range(n))
                slow = min(args.slow_seeds or 10, n)
                wide = min(args.wide_seeds or 100, n)
                progress(f"claims: {data.label}, {n} seed(s), {args.epochs} epochs per run")
                trained = claims_run.train(
                    split,
                    seeds,
                    args.epochs,
                    slow_seeds=slow,
                    wide_seeds=wide,
                    wide_lr=data.wide_lr,
                    progress=progress,
                )
                sections.append(
                    claims_report.Section(
                        key=key,
                        label=data.label,
                        describe=claims_run.describe(data, split, n, slow, wide),
                        seeds=n,
                        claims=claims_run.judge(trained, n, args.epochs),
                        few=(
                            claims_run.judge(trained, FEW, args.epochs)
                            if not sections and n > FEW
                            else None
                        ),
                    )
                )
            elapsed = time.perf_counter() - start
            command = (
                f"python -m sgdbench claims --seeds {args.seeds} --epochs {args.epochs}"
                + (f" --digits-seeds {args.digits_seeds}" if args.digits_seeds else "")
                + (f" --slow-seeds {args.slow_seeds}" if args.slow_seeds else "")
                + (f" --wide-seeds {args.wide_seeds}" if args.wide_seeds else "")
                + (
                    f" --datasets {','.join(args.datasets)}"
                    if list(args.datasets) != list(claims_run.DATASETS)
                    else ""
                )
            )
            header = (
                f"Written by `{command}` in {elapsed:.0f} s (torch {torch.__version__}, 1 thread, "
                f"{os.cpu_count()} CPU cores). Every run is trained stacked (sgdbench.stacked: "
                "each seed bitwise its single run), except the per-seed work: row 7 (the Hessian's "
                "top eigenvalue per trained net, early stopping per seed) and row 14 (training "
                "seconds, which only a run of its own can time), one run each on fewer seeds; "
                "rows 6 and 12 (the wide nets, whose cost is arithmetic that stacking does not "
                "share) also run on fewer seeds.\n\n"
                + "\n".join(f"- {sec.describe}" for sec in sections)
                + "\n\nNumbers are mean [min, max] over the seeds unless marked; a share of seeds "
                "comes with its Wilson 95 % interval, a mean or median with a percentile-bootstrap "
                "95 % interval (9,999 resamples of the seeds; src/sgdbench/claims/_stats.py). "
                "Each rule is fixed in src/sgdbench/claims/ and was not changed for this run"
                + (
                    f"; the column “seeds 0–{FEW - 1}” gives the verdict the same rule gives on "
                    f"the first {FEW} seeds, what CLAIMS.md reported before the stacked trainer"
                    if sections and sections[0].few
                    else ""
                )
                + ". Seconds are wall time of training passes on a machine that may be shared "
                "with other jobs: compare them within this run only."
            )
            (stage / "CLAIMS.md").write_text(
                claims_report.render(sections, header), encoding="utf-8"
            )
            write_json(
                stage / "claims.json",
                {
                    "torch": torch.__version__,
                    "threads": 1,
                    "cpu_count": os.cpu_count(),
                    "seconds": round(elapsed, 1),
                    "epochs": args.epochs,
                    "datasets": {
                        sec.key: {
                            "label": sec.label,
                            "seeds": sec.seeds,
                            "describe": sec.describe,
                            "claims": _claims_json(sec.claims, sec.few),
                        }
                        for sec in sections
                    },
                },
            )
            for sec in sections:
                claims_report.figures(
                    {r.key: r for r in sec.claims},
                    stage,
                    suffix="" if sec.key == "two_moons" else f"_{sec.key}",
                )
                for r in sec.claims:
                    print(f"{sec.label:<10} {r.key:<17} {r.verdict}")
            progress(f"claims: {time.perf_counter() - start:.1f} s; wrote {args.out}")
    finally:
        torch.set_num_threads(threads)
    return 0
