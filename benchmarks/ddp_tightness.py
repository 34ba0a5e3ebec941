"""How tight is the DDP summation-order bound? ``python -m benchmarks.ddp_tightness``.

Runs ``ddp.matches_single_process`` on 2 gloo ranks over EXAMPLES generated examples per dtype
and records, for every compared tensor, the largest |DDP − single process| / allowed; then
trains 25 free-running steps (per-rank batch 16, SGD lr 0.1, momentum 0.9, weight decay 1e-3,
the 2-16-2 network) from 10 seeds both ways and prints the largest parameter difference. The
figures in docs/distributed.md come from this script.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
import torch.nn.functional as F

from sgdbench.conformance import OptimizerUnderTest
from sgdbench.distributed import WorkerGroup, check_ddp
from sgdbench.distributed._tasks import problem
from sgdbench.distributed.checks import training


def bound_ratios(examples: int) -> dict[tuple[str, str], float]:
    worst: dict[tuple[str, str], float] = {}
    within = training._assert_within

    def record(what: str, got: Any, want: Any, allowed: Any, where: str) -> None:
        key = (str(got.dtype).removeprefix("torch."), what.split(" of")[0].split("[")[0])
        worst[key] = max(worst.get(key, 0.0), ((got - want).abs() / allowed).max().item())
        within(what, got, want, allowed, where)

    training._assert_within = record  # type: ignore[assignment]
    try:
        report = check_ddp(examples=examples, only="ddp.matches*", seed=1)
    finally:
        training._assert_within = within  # type: ignore[assignment]
    assert report.ok, report.summary()
    return worst


def free_running(seeds: int = 10, steps: int = 25) -> dict[str, float]:
    worst: dict[str, float] = {}
    sgd = OptimizerUnderTest(torch.optim.SGD)
    with WorkerGroup(2) as group:
        for seed in range(seeds):
            for dtype in ("float32", "float64"):
                hyper = {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3}
                case = {"seed": seed, "batch": 16, "steps": steps, "features": 2, "hidden": [16]}
                case |= {"classes": 2, "dtype": dtype, "hyper": hyper}
                payload = {"case": case, "optimizer": sgd, "reduction": "mean", "hook": None}
                ranks = group.run("sgdbench.distributed._tasks:trajectory", payload)
                model, X, y = problem(case, 2)
                opt = torch.optim.SGD(model.parameters(), **hyper)
                for t in range(steps):
                    idx = training._global_batch(case, 2, t)
                    opt.zero_grad()
                    F.cross_entropy(model(X[idx]), y[idx]).backward()  # type: ignore[no-untyped-call]
                    opt.step()
                for r in ranks:
                    d = max(
                        (a - p.detach()).abs().max().item()
                        for a, p in zip(r["theta"][steps], model.parameters(), strict=True)
                    )
                    worst[dtype] = max(worst.get(dtype, 0.0), d)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="per dtype (default: 300)")
    args = parser.parse_args()
    for (dtype, what), ratio in sorted(bound_ratios(args.examples).items()):
        print(f"{dtype:<8} {what:<16} worst |diff| / allowed = {ratio:.3g}")
    for dtype, d in free_running().items():
        print(f"{dtype:<8} free-running, 25 steps: max |θ_DDP − θ_single| = {d:.3g}")


if __name__ == "__main__":
    main()
