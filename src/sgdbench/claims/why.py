"""Why a claim's verdict differs between two data sets, from what each run measured.

CLAIMS.md lists the rows whose verdict differs between two moons and digits; for the claims
where the cause can be read off the measurements, :func:`why` says it with those numbers. The
mechanisms were found by reading the digits run (docs/claims.md, "Two data sets"); the numbers
come from the run being reported, so a later run that differs for another reason reads so.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from sgdbench.claims._core import Claim

__all__ = ["why"]


def _mean(xs: Any) -> float:
    finite = [x for x in xs if x == x]
    return statistics.fmean(finite) if finite else float("nan")


def _test_above_train(a: Claim, b: Claim, la: str, lb: str) -> str:
    acc = b.data.get("final_acc", {}).get("SGD-32")
    if not acc:
        return ""
    return (
        f"on {lb} SGD-32 fits its training set (final train accuracy {acc['train']:.3f} against "
        f"test {acc['test']:.3f}), so test accuracy cannot lie above it; on {la} the 200 test "
        "points happen to be the easier ones"
    )


def _noisier(a: Claim, b: Claim, la: str, lb: str) -> str:
    turned = b.data.get("turned")
    if not turned:
        return ""
    n = len(b.data["gd"])
    return (
        f"on {lb} GD's test loss falls to a minimum and rises again (overfitting) in "
        f"{turned['GD']}/{n} seeds, SGD-32's in {turned['SGD-32']}/{n}: the variation measure "
        "counts that one turn as back-and-forth, and SGD-32, which fits the training set within "
        "a few epochs, moves little after epoch 10"
    )


def _dropout_gap(a: Claim, b: Claim, la: str, lb: str) -> str:
    g = b.data["gaps"]
    no, dr = g["no dropout"], next(v for k, v in g.items() if k != "no dropout")
    return (
        f"on {lb} there is overfitting to prevent (test − train loss gap "
        f"{_mean(no['loss_gap']):+.3f} without dropout), and dropout raises test accuracy "
        f"({_mean(dr['test_acc']):.3f} against {_mean(no['test_acc']):.3f}) and narrows the "
        f"accuracy gap ({_mean(dr['acc_gap']):.4f} against {_mean(no['acc_gap']):.4f}), but its "
        "test loss is higher, so the loss gap the rule reads grows; on "
        f"{la} both gaps are ≤ 0"
    )


def _no_floor(a: Claim, b: Claim, la: str, lb: str) -> str:
    sched = b.data.get("schedules", {}).get("constant")
    sgd = b.data.get("sgd")
    fl = _mean(sched["fluctuation"]) if sched else _mean(sgd or [])
    loss = _mean(sched["final_train_loss"]) if sched else float("nan")
    tail = f" (final training loss {loss:.4f})" if loss == loss else ""
    return (
        f"on {lb} SGD-32 at the constant step interpolates its 200 training images{tail}: every "
        f"per-sample gradient vanishes at the fit, so the minibatch noise does too and its "
        f"fluctuation over the last epochs is {fl:.1e}; there is no noise floor for a decay to "
        f"lower (on {la}, where the classes overlap, there is)"
    )


def _momentum(a: Claim, b: Claim, la: str, lb: str) -> str:
    rows = b.data.get("table", {})
    reached = {k: sum(e <= 100 for e in r["epochs"]) for k, r in rows.items()}
    loss = {k: _mean(r["final_train_loss"]) for k, r in rows.items()}
    parts = ", ".join(f"{k} {reached[k]}/{len(rows[k]['epochs'])}" for k in rows)
    return (
        f"the rule reads epochs to 95 % test accuracy, which {lb} with 200 training images never "
        f"reaches ({parts}); by final training loss momentum is ahead "
        + ", ".join(f"{k} {v:.4f}" for k, v in loss.items())
    )


def _per_second(a: Claim, b: Claim, la: str, lb: str) -> str:
    pairs = [(s, g) for s, g in zip(b.data["sgd"], b.data["gd"], strict=True) if s == s]
    behind = sum(g <= s for s, g in pairs)
    return (
        f"an SGD-32 epoch pays the fixed cost of ⌈n/32⌉ steps against GD's one; within GD's "
        f"training seconds on {lb} SGD-32 reached epoch {_mean(b.data['sgd_epoch']):.1f} on "
        f"average, and GD's test loss was at or below SGD-32's there in {behind}/"
        f"{len(b.data['gd'])} seeds: per second, the fixed cost of a step decides on a training "
        "set this small (the cost model in results/BENCHMARKS.md)"
    )


_WHY: dict[str, Callable[[Claim, Claim, str, str], str]] = {
    "test-above-train": _test_above_train,
    "noisier": _noisier,
    "dropout-gap": _dropout_gap,
    "sgd-needs-decay": _no_floor,
    "gd-no-decay": _no_floor,
    "momentum": _momentum,
    "fair-per-second": _per_second,
}


def why(a: Claim, b: Claim, label_a: str, label_b: str) -> str:
    """One sentence on why claim ``b`` (on ``label_b``) reads otherwise than ``a``, or ''."""
    explain = _WHY.get(a.key)
    try:
        return explain(a, b, label_a, label_b) if explain else ""
    except (KeyError, TypeError, ValueError, StopIteration):
        return ""  # data of another shape (an older claims.json): no sentence, never a crash
