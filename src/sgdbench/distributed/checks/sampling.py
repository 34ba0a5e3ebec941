"""The epoch's samples over the ranks: DistributedSampler and set_epoch."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sgdbench.conformance._runner import Variant
from sgdbench.distributed.checks._registry import TASKS, DDPUnderTest, _check


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
