"""Claim 11: dropout and low-rank weights, section "Dropout".

"Theoretical works on the effect of dropout suggest that it results in learning weight matrices
of low rank. That is, the weight matrices after a dropout layer W = UΣVᵀ have an SVD where only
few singular values are nonzero."

The nets are those of the dropout-gap claim (2-128-128-2, SGD-32, the seed's optimizer, with
and without ``nn.Dropout(0.5)`` after each hidden ReLU), not trained again. W is the second
hidden ``Linear``'s weight (128 × 128), the first weight matrix after a dropout layer. Two
effective ranks of its singular values σ₁ ≥ … ≥ σ_r:

- entropy: exp(H(q)) with q_i = σ_i / Σσ_j (Roy & Vetterli, "The effective rank: a measure of
  effective dimensionality", 2007); r for equal σ's, 1 for rank one;
- count: the number of σ_i > 0.01·σ₁ (the chapter's "nonzero", with 1 % of σ₁ as zero).

Both are also taken of W − W₀, what training added to the initial weights W₀ (rebuilt from the
seed), since a random 128 × 128 initialisation is full rank and 100 epochs move it little.
"""

from __future__ import annotations

import math
import statistics

import torch
from torch import Tensor

from sgdbench.claims._core import Claim, bands, span
from sgdbench.claims._stats import share
from sgdbench.stacked import SeedRuns

__all__ = ["RELATIVE_ZERO", "claim_dropout_low_rank", "effective_rank", "rank_above"]

RELATIVE_ZERO = 0.01


def effective_rank(sv: Tensor) -> float:
    """exp of the Shannon entropy of σ / Σσ (Roy & Vetterli 2007); 0 for an all-zero matrix."""
    total = float(sv.sum())
    if total == 0:
        return 0.0
    q = sv[sv > 0].double() / total
    return math.exp(float(-(q * q.log()).sum()))


def rank_above(sv: Tensor, fraction: float = RELATIVE_ZERO) -> int:
    """How many singular values exceed ``fraction`` × the largest."""
    return int((sv > fraction * sv.max()).sum()) if sv.numel() else 0


def _measure(w: Tensor) -> dict[str, float]:
    if not bool(torch.isfinite(w).all()):  # a diverged run: no spectrum, counted apart
        return {"erank": math.nan, "count": math.nan}
    sv = torch.linalg.svdvals(w.double())
    return {"erank": effective_rank(sv), "count": float(rank_above(sv))}


def claim_dropout_low_rank(
    runs: dict[str, SeedRuns], width: int, p: float, n: int | None = None
) -> Claim:
    """Claim 11: effective ranks of W (and of W − W₀) with and without dropout, per seed.

    ``runs``: :func:`sgdbench.claims.wide_runs`'s nets; W is the second ``Linear``'s weight,
    W₀ its initial value (both kept by the stacked trainer); the first ``n`` seeds are read.
    """
    table: dict[str, dict[str, list[float]]] = {}
    spectra: dict[str, list[list[float]]] = {}
    delta_spectra: dict[str, list[list[float]]] = {}
    diverged: dict[str, int] = {}
    for label in ("no dropout", f"dropout {p}"):
        cols: dict[str, list[float]] = {k: [] for k in ("erank", "count", "d_erank", "d_count")}
        w_all, w0_all = runs[label].final[1][0][:n], runs[label].initial[1][0][:n]
        spectra[label], delta_spectra[label] = [], []
        for w, w0 in zip(w_all, w0_all, strict=True):
            m, d = _measure(w), _measure(w - w0)
            for k in ("erank", "count"):
                cols[k].append(m[k])
                cols[f"d_{k}"].append(d[k])
            if math.isnan(m["erank"]):
                diverged[label] = diverged.get(label, 0) + 1
                continue
            spectra[label].append(torch.linalg.svdvals(w.double()).tolist())
            delta_spectra[label].append(torch.linalg.svdvals((w - w0).double()).tolist())
        table[label] = cols
    a, b = table["no dropout"], table[f"dropout {p}"]
    lower = sum(y < x for x, y in zip(a["erank"], b["erank"], strict=True))
    n = len(a["erank"])
    few = statistics.fmean(b["count"]) <= width / 4
    ok = lower == n and few
    parts = [
        f"{label}: entropy rank of W {span(c['erank'], '.1f')}, σ_i > 1 % σ₁: "
        f"{span(c['count'], '.1f')}; of W − W₀: {span(c['d_erank'], '.1f')} and "
        f"{span(c['d_count'], '.1f')}"
        for label, c in table.items()
    ]
    if ok:
        verdict = "holds: dropout's W has a lower effective rank in every seed, and few σ's"
    else:
        verdict = (
            f"does not hold here: dropout's W has a lower entropy rank in {lower}/{n} seeds "
            f"({statistics.fmean(b['erank']):.1f} against {statistics.fmean(a['erank']):.1f}) but "
            f"{statistics.fmean(b['count']):.0f} of {width} singular values above 1 % of σ₁ "
            "on average"
        )
    d_a, d_b = statistics.fmean(a["d_erank"]), statistics.fmean(b["d_erank"])
    verdict += (
        f"; what training added, W − W₀, has a {'lower' if d_b < d_a else 'higher'} entropy "
        f"rank with dropout ({d_b:.1f} against {d_a:.1f})"
    )
    return Claim(
        "dropout-low-rank",
        "“Theoretical works on the effect of dropout suggest that it results in learning weight "
        "matrices of low rank. That is, the weight matrices after a dropout layer W=UΣVᵀ have "
        f"an SVD where only few singular values are nonzero.” ({runs[label].shape}, the second "
        "hidden layer's weight)",
        "; ".join(parts)
        + f"; dropout's entropy rank lower in {share(lower, n)} of seeds"
        + "".join(
            f"; {label}: diverged (non-finite W) in {k} seeds" for label, k in diverged.items()
        ),
        verdict,
        "entropy rank exp(H(σ/Σσ)) (Roy & Vetterli 2007) and the count of σ_i > 0.01·σ₁; holds "
        "if dropout's entropy rank of W is below the no-dropout net's in every seed (same "
        f"initial weights) and dropout's mean count is at most {width // 4} of {width} "
        "(“only few”); W − W₀ is reported, not judged",
        ok,
        {
            "ranks": table,
            "singular_values": {k: bands(v) for k, v in _normed(spectra).items()},
            "delta_singular_values": {k: bands(v) for k, v in _normed(delta_spectra).items()},
        },
        "dropout's entropy rank of W below the no-dropout net's (same initial weights)",
        [y < x for x, y in zip(a["erank"], b["erank"], strict=True)],
    )


def _normed(spectra: dict[str, list[list[float]]]) -> dict[str, list[list[float]]]:
    """Each spectrum divided by its largest value, σ_i / σ₁ (what the figure draws)."""
    return {k: [[v / s[0] if s[0] else 0.0 for v in s] for s in ss] for k, ss in spectra.items()}
