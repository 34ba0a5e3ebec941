"""Claim 6: sharp against flat minima, section "Properties of SGD"."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import torch
from torch import nn

from sgdbench.claims._core import Claim, Progress, say, span
from sgdbench.data import Batches, Split
from sgdbench.models import mlp
from sgdbench.training import train_test

__all__ = ["BATCH_SIZES", "claim_sharp_flat", "sharpness"]

BATCH_SIZES = (8, 32, 128, 512, 800)


def sharpness(
    model: nn.Module, split: Split, sigma: float = 0.05, draws: int = 20, seed: int = 0
) -> float:
    """Mean rise of the training loss when each weight tensor is moved by a random direction of
    norm ``sigma``·‖tensor‖ (a filter-free version of the usual relative perturbation proxy)."""
    crit = nn.CrossEntropyLoss()
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    params = list(model.parameters())
    with torch.no_grad():
        base = float(crit(model(split.X_train), split.y_train))
        saved = [p.clone() for p in params]
        rises = []
        for _ in range(draws):
            for p, s in zip(params, saved, strict=True):
                d = torch.randn(p.shape, generator=gen, dtype=p.dtype)
                p.copy_(s + d * (sigma * s.norm() / d.norm()))
            rises.append(float(crit(model(split.X_train), split.y_train)) - base)
        for p, s in zip(params, saved, strict=True):
            p.copy_(s)
    return statistics.fmean(rises)


def _spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    def ranks(v: Sequence[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        for rank, i in enumerate(order):
            r[i] = float(rank)
        return r

    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var if var else 0.0


def claim_sharp_flat(
    split: Split,
    seeds: Sequence[int],
    epochs: int,
    batch_sizes: Sequence[int] = BATCH_SIZES,
    progress: Progress = None,
) -> Claim:
    """Claim 6: final test accuracy and sharpness against batch size."""
    n = split.y_train.shape[0]
    rows: dict[int, dict[str, list[float]]] = {}
    for b in batch_sizes:
        acc, sharp = [], []
        for seed in seeds:
            torch.manual_seed(seed)
            model = mlp()
            batches = Batches(split.X_train, split.y_train, min(b, n), shuffle=b < n)
            h = train_test(model, batches, split, epochs=epochs)
            acc.append(h.test_acc[-1])
            sharp.append(sharpness(model, split, seed=seed))
        rows[b] = {"test_acc": acc, "sharpness": sharp}
        say(progress, f"claims: batch {b}: test acc {span(acc)}, sharpness {span(sharp, '.4f')}")
    xs = [float(b) for b in batch_sizes for _ in seeds]
    rho_sharp = _spearman(xs, [s for b in batch_sizes for s in rows[b]["sharpness"]])
    rho_acc = _spearman(xs, [a for b in batch_sizes for a in rows[b]["test_acc"]])
    if rho_sharp > 0.5:
        verdict = "consistent with it here: larger batches ended sharper"
    elif rho_sharp < -0.5:
        verdict = "not supported here: larger batches ended flatter"
    else:
        verdict = "no clear trend here"
    return Claim(
        "sharp-flat",
        "“Flat minima often generalize better and there are some works that support that these "
        "are found with smaller batch sizes.”",
        "; ".join(
            f"b={b}: test acc {span(r['test_acc'])}, sharpness {span(r['sharpness'], '.4f')}"
            for b, r in rows.items()
        )
        + f"; Spearman ρ(batch size, sharpness) = {rho_sharp:+.2f}, "
        f"ρ(batch size, test acc) = {rho_acc:+.2f}",
        verdict,
        "sharpness: mean rise of the training loss under 20 random perturbations of relative "
        "size 0.05 per weight tensor; the verdict reads only the sign and size of ρ (|ρ| > 0.5), "
        "and larger batches also took fewer steps, so they are not at comparable minima",
        None,
        {
            "rows": {str(k): v for k, v in rows.items()},
            "rho_sharpness": rho_sharp,
            "rho_test_acc": rho_acc,
        },
    )
