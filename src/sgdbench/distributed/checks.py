"""Data-parallel SGD read against Algorithm 11, as conformance checks (kind ``ddp``).

The checks run through :mod:`sgdbench.conformance`'s runner (Hypothesis examples, a
:class:`~sgdbench.conformance.CheckResult` each, the same reports); the implementation under
test is a :class:`DDPUnderTest`: an optimizer (torch.optim.SGD unless you name yours: the seam
for a user's optimizer under DDP), a dropout layer, the DDP communication hook, and the k ranks
of a live :class:`~sgdbench.distributed.WorkerGroup` that run every example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from hypothesis import strategies as st
from torch import Tensor, nn

from sgdbench.conformance._impl import DropoutUnderTest, OptimizerUnderTest
from sgdbench.conformance._runner import Body, Check, Variant, register
from sgdbench.distributed._bound import U, chain_length, gamma, magnitudes
from sgdbench.distributed._group import WorkerGroup
from sgdbench.distributed._tasks import problem, rank_batches

__all__ = ["CHECKS", "DDPUnderTest"]

CHECKS: list[Check] = []
TASKS = "sgdbench.distributed._tasks"


@dataclass
class DDPUnderTest:
    """What runs under DDP, and the ranks it runs on (``group``, started by the caller)."""

    group: WorkerGroup
    optimizer: OptimizerUnderTest = field(
        default_factory=lambda: OptimizerUnderTest(torch.optim.SGD)
    )
    dropout: DropoutUnderTest = field(default_factory=lambda: DropoutUnderTest(nn.Dropout))
    hook: str | None = None  # module:function of a DDP communication hook; None: DDP's own
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            hook = f", hook={self.hook}" if self.hook else ""
            self.name = (
                f"DDP[{self.group.backend}×{self.group.world_size}]({self.optimizer.name}{hook})"
            )

    def spec(self) -> dict[str, Any]:
        return {"world_size": self.group.world_size, **self.optimizer.spec(), "hook": self.hook}

    def checks(self) -> list[Check]:
        return CHECKS


def _check(name: str, cites: str, **kw: Any) -> Callable[[Body], Check]:
    return register(CHECKS, "ddp", name, cites, **kw)


# ------------------------------------------------------------------- the training equivalence


@st.composite
def _cases(draw: st.DrawFn, steps: tuple[int, int] = (1, 4)) -> dict[str, Any]:
    momentum = draw(st.sampled_from([0.0, 0.9]) | st.floats(0.0, 0.99), label="momentum")
    hyper: dict[str, Any] = {
        "lr": draw(st.sampled_from([0.1, 0.5]) | st.floats(1e-3, 1.0), label="lr"),
        "momentum": momentum,
        "weight_decay": draw(st.sampled_from([0.0, 1e-3]) | st.floats(0.0, 0.1), label="wd"),
    }
    if momentum > 0:
        nesterov = draw(st.booleans(), label="nesterov")
        hyper["nesterov"] = nesterov
        hyper["dampening"] = 0.0 if nesterov else draw(st.floats(0.0, 1.0), label="dampening")
    return {
        "seed": draw(st.integers(0, 2**32 - 1), label="seed"),
        "batch": draw(st.integers(1, 8), label="batch"),
        "steps": draw(st.integers(*steps), label="steps"),
        "features": draw(st.integers(1, 4), label="features"),
        "hidden": draw(st.lists(st.integers(1, 8), min_size=1, max_size=2), label="hidden"),
        "classes": draw(st.integers(2, 4), label="classes"),
        "hyper": hyper,
    }


def _global_batch(case: dict[str, Any], k: int, t: int) -> list[int]:
    """Step t's samples over all ranks, in rank order: what single-process SGD takes."""
    return [i for r in range(k) for i in rank_batches(case, k, r)[t]]


def _assert_within(what: str, got: Tensor, want: Tensor, allowed: Tensor, where: str) -> None:
    __tracebackhide__ = True
    diff = (got - want).abs()
    bad = ~(diff <= allowed)
    if bad.any():
        j = tuple(bad.nonzero()[0].tolist())
        ratio = (diff / allowed).max().item()
        raise AssertionError(
            f"{what}{list(j)} {where} is {got[j].item()!r}, but single-process SGD with batch "
            f"k·b gives {want[j].item()!r} (|diff| {diff[j].item():.3g}, allowed "
            f"{allowed[j].item():.3g} from the summation-order bound; worst ratio {ratio:.3g})"
        )


def _replay(
    impl: DDPUnderTest, case: dict[str, Any], ranks: list[dict[str, Any]], reduction: str
) -> None:
    """Each step from rank 0's state, single-process, on the k·b samples; compare every rank."""
    k = impl.group.world_size
    model, X, y = problem(case, k)
    params = list(model.parameters())
    opt = impl.optimizer.make(params, **case["hyper"])
    dtype = X.dtype
    u, tiny = U[dtype], torch.finfo(dtype).tiny
    hyper = case["hyper"]
    lr, mu, wd = hyper["lr"], hyper.get("momentum", 0.0), hyper.get("weight_decay", 0.0)
    for t in range(case["steps"]):
        with torch.no_grad():
            for p, theta in zip(params, ranks[0]["theta"][t], strict=True):
                p.copy_(theta)
        opt.load_state_dict(ranks[0]["state"][t])
        idx = _global_batch(case, k, t)
        opt.zero_grad()
        F.cross_entropy(model(X[idx]), y[idx], reduction=reduction).backward()  # type: ignore[no-untyped-call]
        grads = [p.grad.detach().clone() for p in params]  # type: ignore[union-attr]
        theta_t = [p.detach().clone() for p in params]
        G = magnitudes(model, X[idx], y[idx], reduction=reduction)
        dg = [2 * gamma(chain_length(model, len(idx)), dtype) * m + 2 * tiny for m in G]
        opt.step()
        state = opt.state_dict()["state"]
        for r, rank in enumerate(ranks):
            at = f"on rank {r} at step {t + 1}"
            for i, (p, g, e) in enumerate(zip(params, grads, dg, strict=True)):
                _assert_within(f".grad of θ[{i}]", rank["grad"][t][i], g, e, at)
                v = state.get(i, {}).get("momentum_buffer")
                v_abs = v.abs() if v is not None else torch.zeros_like(g)
                mag = v_abs + g.abs() + wd * theta_t[i].abs()
                allowed = lr * (1 + mu) * e + 8 * u * (p.detach().abs() + lr * mag)
                _assert_within(f"θ[{i}]", rank["theta"][t + 1][i], p.detach(), allowed, at)
                for key, want in state.get(i, {}).items():
                    got = rank["state"][t + 1]["state"][i][key]
                    if isinstance(want, Tensor):
                        _assert_within(f"{key} of θ[{i}]", got, want, e + 8 * u * mag, at)
                    else:
                        assert got == want, f"{key} of θ[{i}] {at} is {got!r}, not {want!r}"


def _trajectory(impl: DDPUnderTest, case: dict[str, Any], reduction: str) -> list[Any]:
    payload = {"case": case, "optimizer": impl.optimizer, "reduction": reduction}
    return impl.group.run(f"{TASKS}:trajectory", {**payload, "hook": impl.hook})


@_check(
    "matches_single_process",
    "Algorithm 11 with k ranks × batch b ≡ batch k·b when DDP averages the gradients of a "
    "mean loss (torch DistributedDataParallel docs): .grad, θ and the optimizer state after "
    "every step, within the summation-order bound (distributed/_bound.py)",
    cases=lambda impl, v: _cases(),
)
def matches_single_process(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    case = {**case, "dtype": variant.dtype}
    _replay(impl, case, _trajectory(impl, case, "mean"), "mean")


@_check(
    "summed_loss_is_k_times_smaller",
    "the pitfall (DistributedDataParallel docs): with a *summed* loss the gradient is k times "
    "smaller than single-process training with batch k·b and the same summed loss, which is "
    "b times the mean-loss gradient: the learning rate no longer means what it did",
    cases=lambda impl, v: _cases(steps=(1, 1)),
)
def summed_loss(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    case = {**case, "dtype": variant.dtype}
    k = impl.group.world_size
    ranks = _trajectory(impl, case, "sum")
    model, X, y = problem(case, k)
    idx = _global_batch(case, k, 0)
    F.cross_entropy(model(X[idx]), y[idx], reduction="sum").backward()  # type: ignore[no-untyped-call]
    G = magnitudes(model, X[idx], y[idx], reduction="sum")
    e = [2 * gamma(chain_length(model, len(idx)), X.dtype) * m / k for m in G]
    for r, rank in enumerate(ranks):
        for i, (p, allowed) in enumerate(zip(model.parameters(), e, strict=True)):
            want: Tensor = p.grad / k  # type: ignore[operator,assignment]
            _assert_within(f".grad of θ[{i}] ÷k", rank["grad"][0][i], want, allowed, f"rank {r}")


# ------------------------------------------------------------------- the epoch's samples


@st.composite
def _sampler_cases(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "n": draw(st.integers(13, 200), label="n"),
        "seed": draw(st.integers(0, 2**31 - 1), label="seed"),
        "drop_last": draw(st.booleans(), label="drop_last"),
        "epochs": 2,
    }


@_check(
    "epoch_covers_data_once",
    "Algorithm 11: every epoch divides the data into mini-batches, each sample once. Over the "
    "ranks' DistributedSamplers: a partition of the n indices when k divides n; else, as its "
    "docs say, drop_last=False pads with the epoch's first k⌈n/k⌉−n indices, drop_last=True "
    "drops its last n mod k",
    cases=lambda impl, v: _sampler_cases(),
)
def epoch_covers(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    k, n = impl.group.world_size, case["n"]
    per_rank = impl.group.run(f"{TASKS}:shards", case)
    for epoch in range(case["epochs"]):
        parts = [ranks[epoch] for ranks in per_rank]
        sizes = {len(p) for p in parts}
        assert len(sizes) == 1, f"epoch {epoch}: ranks got {sorted(sizes)} samples (unequal)"
        # rank r takes positions r, r+k, …: interleaving the shards rebuilds the epoch's order
        order = [parts[r][j] for j in range(len(parts[0])) for r in range(k)]
        seen = sorted(set(order))
        if case["drop_last"]:
            assert len(order) == n - n % k and len(seen) == len(order), (
                f"epoch {epoch}, drop_last: {len(order)} samples, {len(seen)} distinct; "
                f"expected {n - n % k} distinct of {n}"
            )
        else:
            pad = -n % k
            assert seen == list(range(n)), f"epoch {epoch}: {n - len(seen)} samples never seen"
            assert order[n:] == order[:pad], (
                f"epoch {epoch}: the {pad} padding samples are {order[n:]}, not the epoch's "
                f"first {pad} ({order[:pad]})"
            )


@_check(
    "set_epoch_reshuffles",
    "set_epoch(e) before each epoch (DistributedSampler docs): a new order each epoch, the "
    "same on every rank. A repeat by chance has probability ≤ 1/13! < 2e-10 (n ≥ 13)",
    cases=lambda impl, v: _sampler_cases(),
)
def set_epoch(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    per_rank = impl.group.run(f"{TASKS}:shards", {**case, "drop_last": False})
    k = impl.group.world_size
    orders = [
        [shard[e][j] for j in range(len(per_rank[0][e])) for shard in per_rank][: case["n"]]
        for e in range(case["epochs"])
    ]
    for e, order in enumerate(orders):
        assert sorted(order) == list(range(case["n"])), (
            f"epoch {e}: the {k} ranks' shards are not one permutation: the ranks disagree "
            "on the order"
        )
    assert orders[0] != orders[1], "epoch 1 repeats epoch 0's order: set_epoch had no effect"


# ------------------------------------------------------------------- dropout on k ranks

MASK_ROWS, MASK_WIDTH = 16, 16  # 256 units: independent masks agree everywhere w.p. < 1e-22


@st.composite
def _dropout_cases(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "seed": draw(st.integers(0, 2**31 - 1), label="seed"),
        "p": draw(st.sampled_from([0.5]) | st.floats(0.1, 0.9), label="p"),
        "rows": MASK_ROWS,
        "width": MASK_WIDTH,
    }


def _masks(impl: DDPUnderTest, case: dict[str, Any], seeding: str) -> list[Tensor]:
    payload = {**case, "seeding": seeding, "dropout": impl.dropout}
    return impl.group.run(f"{TASKS}:dropout_masks", payload)


@_check(
    "dropout_masks_differ_across_ranks",
    "Algorithm 12 draws a mask per sample; under DDP each rank draws from its own RNG, so with "
    "per-rank seeds the ranks' masks on the same input differ. Two independent masks of 256 "
    "units agree everywhere with probability (p²+(1−p)²)^256 < 1e-22 for p in [0.1, 0.9]",
    cases=lambda impl, v: _dropout_cases(),
)
def masks_differ(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    masks = _masks(impl, case, "per-rank")
    for r in range(1, len(masks)):
        assert not torch.equal(masks[0], masks[r]), (
            f"ranks 0 and {r}, seeded differently, dropped exactly the same units"
        )


@_check(
    "dropout_masks_shared_when_seeded_alike",
    "the pitfall: a script that calls torch.manual_seed(s) on every rank gives every rank the "
    "same RNG stream, so every rank drops the same units: sample j of each rank's batch gets "
    "the same mask, and the k·b masks of a global batch are not independent",
    cases=lambda impl, v: _dropout_cases(),
)
def masks_shared(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    masks = _masks(impl, case, "same")
    for r in range(1, len(masks)):
        assert torch.equal(masks[0], masks[r]), (
            f"ranks 0 and {r}, seeded alike, dropped different units: {impl.dropout.name} "
            "does not draw its mask from torch's global RNG"
        )
