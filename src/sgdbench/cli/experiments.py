"""``reproduce`` and ``claims``: the chapter's experiment and its empirical claims over seeds."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Sequence

import torch

import sgdbench
from sgdbench._output import staged_output, write_json
from sgdbench.claims import Claim
from sgdbench.cli._common import progress
from sgdbench.data import Split, two_moons
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
        progress(f"reproduce: {len(seeds)} seed(s) × SGD-32, GD × {args.epochs} epochs")
        start = time.perf_counter()
        runs = run_many([SGD_32, GD], seeds, split, epochs=args.epochs, progress=progress)
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
        progress(f"reproduce: {time.perf_counter() - start:.1f} s; wrote {args.out}")
    return 0


def _all_claims(args: argparse.Namespace, split: Split, seeds: list[int]) -> list[Claim]:
    """Train what the claims read (each set once) and return the claims, in CLAIMS.md order."""
    from sgdbench import claims as c

    runs = c.sgd_gd_runs(split, seeds, args.epochs, progress=progress)
    at = [e for e in (5, 10, 100) if e <= args.epochs] or [args.epochs]
    wide = c.wide_runs(split, seeds, args.epochs, progress=progress)
    decayed = c.schedule_runs(split, seeds, args.epochs, progress=progress)
    plain = c.momentum_runs(split, seeds, args.epochs, progress=progress)
    return [
        c.claim_sgd_faster(runs, at),
        c.claim_test_above_train(runs),
        c.claim_noisier(runs),
        c.claim_weight_decay(split, seeds, args.epochs, progress=progress),
        c.claim_dropout_eval(seeds),
        c.claim_dropout_gap(wide, epochs=args.epochs, progress=progress),
        c.claim_sharp_flat(split, seeds, max_epochs=10 * args.epochs, progress=progress),
        c.claim_sgd_needs_decay(runs[SGD_32.name], decayed),
        c.claim_gd_no_decay(runs[SGD_32.name], runs[GD.name]),
        c.claim_momentum(runs[SGD_32.name], plain),
        c.claim_momentum_matched(runs[SGD_32.name], plain),
        c.claim_dropout_low_rank(wide, seeds, width=128, p=0.5),
        c.claim_fair_per_update(runs),
        c.claim_fair_per_second(runs),
    ]


def claims(args: argparse.Namespace) -> int:
    """Every claim over --seeds seeds → CLAIMS.md, claims.json and the figures.

    Runs on one torch thread (restored after): the networks are tiny, so one thread is faster,
    and on a machine shared with other jobs a two-thread pool's waits made single epochs up to
    40× slower, which the seconds-based claims (momentum, per second) would have measured.
    """
    from sgdbench.claims import report as claims_report

    seeds = list(range(args.seeds))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with staged_output(args.out) as stage:
            split = two_moons()
            start = time.perf_counter()
            progress(f"claims: {len(seeds)} seed(s), {args.epochs} epochs per run, 1 thread")
            results = _all_claims(args, split, seeds)
            header = (
                f"Written by `python -m sgdbench claims --seeds {args.seeds} --epochs "
                f"{args.epochs}` (torch {torch.__version__}, 1 thread, {os.cpu_count()} CPU "
                f"cores); seeds 0–{len(seeds) - 1}. Every number is a mean [min, max] over those "
                "seeds; each rule is fixed in src/sgdbench/claims/. Seconds are wall time of the "
                "training passes (History.epoch_seconds) on a machine that may be shared with "
                "other jobs: compare them within this run only."
            )
            text = claims_report.render(results, header)
            (stage / "CLAIMS.md").write_text(text, encoding="utf-8")
            write_json(
                stage / "claims.json",
                {
                    "torch": torch.__version__,
                    "threads": 1,
                    "cpu_count": os.cpu_count(),
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
            progress(f"claims: {time.perf_counter() - start:.1f} s; wrote {args.out}")
    finally:
        torch.set_num_threads(threads)
    return 0
