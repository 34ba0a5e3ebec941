"""A cost model of one training step, fitted to the width × batch-size sweep of a device.

Chapter, "Training with SGD in Pytorch": SGD "is not only more efficient in its computation of
the gradients"; per epoch SGD and GD process the same data, so what separates their epoch costs
is what a step costs besides its samples. The model is

    t(B, P, w) = c₀ + B · (c₁ + c₂ · P + c₃ · w)

for a step on a batch of B samples of a network with one hidden layer of width w and
P = in·w + w·out weights: a fixed cost per step c₀ (Python, dispatch, the optimizer's
per-tensor work), a per-sample cost c₁ that does not grow with the network (the loss, the
gather of the batch), and per-sample costs that grow with the width: c₂·P for the matrix
products and c₃·w for the elementwise work on each hidden unit (bias, ReLU and their
gradients), which dominates where in and out are small (two moons: P = 4w). The fit is
non-negative least squares on *relative* residuals (each row divided by its measured time),
since the times span orders of magnitude (``scipy.optimize.nnls``).

A step is mostly overhead while c₀ > B·(c₁ + c₂·P + c₃·w), i.e. below
``B* = c₀ / (c₁ + c₂·P + c₃·w)``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Fit", "Point", "fit", "held_out_errors", "weights"]


@dataclass(frozen=True)
class Point:
    """One measured case: batch size, weights of the network, median seconds per step."""

    dataset: str
    width: int
    batch: int
    params: int
    seconds: float


def weights(in_features: int, width: int, out_features: int) -> int:
    """P, the weights (biases excluded) of in-width-out: the multiply-adds per sample."""
    return in_features * width + width * out_features


@dataclass(frozen=True)
class Fit:
    c0: float  # seconds per step
    c1: float  # seconds per sample
    c2: float  # seconds per sample and weight
    c3: float  # seconds per sample and hidden unit

    def predict(self, batch: float, params: float, width: float) -> float:
        return self.c0 + batch * (self.c1 + self.c2 * params + self.c3 * width)

    def overhead_batch(self, params: float, width: float) -> float:
        """B*: below this batch size the fixed cost per step exceeds the batch's own."""
        per_sample = self.c1 + self.c2 * params + self.c3 * width
        return float("inf") if per_sample <= 0 else self.c0 / per_sample


def fit(points: Sequence[Point]) -> Fit:
    """The model's coefficients by non-negative least squares on relative residuals."""
    from scipy.optimize import nnls

    if len(points) < 4:
        raise ValueError(
            f"`points` must hold at least 4 cases to fit 4 coefficients, but got {len(points)}"
        )
    t = np.array([p.seconds for p in points], dtype=float)
    if (t <= 0).any():
        raise ValueError("`points` must have positive times")
    A = np.array(
        [[1.0, p.batch, p.batch * p.params, p.batch * p.width] for p in points], dtype=float
    )
    scale = A.max(axis=0)  # conditioning: columns of order 1
    coef, _ = nnls((A / scale) / t[:, None], np.ones_like(t))
    c0, c1, c2, c3 = (coef / scale).tolist()
    return Fit(c0, c1, c2, c3)


def held_out_errors(
    points: Sequence[Point], hold: Sequence[bool]
) -> tuple[Fit, list[tuple[Point, float]]]:
    """Fit on the points not held, then each held point with its relative error
    (predicted / measured − 1)."""
    if len(hold) != len(points):
        raise ValueError("`hold` must have one flag per point")
    model = fit([p for p, h in zip(points, hold, strict=True) if not h])
    errors = [
        (p, model.predict(p.batch, p.params, p.width) / p.seconds - 1)
        for p, h in zip(points, hold, strict=True)
        if h
    ]
    return model, errors


def median_abs(errors: Sequence[float]) -> float:
    return statistics.median(abs(e) for e in errors)
