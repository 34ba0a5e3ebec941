"""Mask structures: which units share one draw, what a group is, and the shapes checks use.

A structure splits the input into *groups*, the units indexed by its first k dims:

- ``element`` (Algorithm 12, "sample u ~ U([0, 1])^d"): k = rank, every unit its own group;
- ``channel`` (torch's Dropout1d/2d/3d: "randomly zero out entire channels"): k = 2, one
  group per sample and channel, the trailing spatial dims inside it;
- ``sample`` (stochastic depth / DropPath): k = 1, one group per sample.

Under a structure, the units of one group share their fate exactly (all kept or all dropped)
and groups are dropped independently, each with probability p.
"""

from __future__ import annotations

import math

from torch import Tensor

from sgdbench.conformance._impl import DROPOUT_STRUCTURES, DropoutUnderTest
from sgdbench.conformance.dropout._harness import _KEEP_SHAPES, _PAIR_SHAPES

STRUCTURES: tuple[str, ...] = DROPOUT_STRUCTURES
# How a message names one group and the draws, per structure.
GROUP = {"element": "unit", "channel": "channel", "sample": "sample"}
DRAWS = {
    "element": "one draw per unit",
    "channel": "one draw per sample and channel",
    "sample": "one draw per sample",
}
# The rank a structure needs to differ from ``element``: channel needs spatial dims.
LEAST_RANK = {"element": 1, "channel": 3, "sample": 2}


def group_dims(structure: str, rank: int) -> int:
    """k: how many leading dims index a group."""
    return {"element": rank, "channel": 2, "sample": 1}[structure]


def groups(structure: str, shape: list[int]) -> int:
    """The number of groups (independent draws) in an input of ``shape``."""
    return math.prod(shape[: group_dims(structure, len(shape))])


def mixed_group(mask: Tensor, structure: str) -> tuple[int, ...] | None:
    """The index of the first group whose units do not share their fate, or None."""
    k = group_dims(structure, mask.dim())
    if k >= mask.dim():
        return None
    units = mask.flatten(k)
    mixed = units.any(-1) & ~units.all(-1)
    return tuple(mixed.nonzero()[0].tolist()) if mixed.any() else None


def per_group(mask: Tensor, structure: str) -> Tensor:
    """One entry per group (its first unit): the group's fate when its units share it."""
    k = group_dims(structure, mask.dim())
    return mask if k >= mask.dim() else mask.flatten(k)[..., 0]


def live_draws(h: Tensor, structure: str) -> int:
    """The groups with a non-zero unit: the draws that can show in a dropout's output."""
    live = h != 0
    k = group_dims(structure, h.dim())
    return int((live if k >= h.dim() else live.flatten(k).any(-1)).sum())


def keep_shape(structure: str, rank: int) -> list[int]:
    """An input with 20 000 groups (spatial dims of 2 inside a channel or sample)."""
    if structure == "channel":
        return [1000, 20] + [2] * (rank - 2)
    if structure == "sample":
        return [20_000] + [2] * (rank - 1)
    return _KEEP_SHAPES[rank]


def pair_shape(structure: str, rank: int) -> list[int]:
    """An input with 4096 groups, an even number along every group axis (2 units per group
    outside them, so that a group whose units differ can show)."""
    if structure == "channel":
        return [64, 64] + [2] * (rank - 2)
    if structure == "sample":
        return [4096] + [2] * (rank - 1)
    return _PAIR_SHAPES[rank]


def declared(impl: DropoutUnderTest) -> str:
    """``the declared channel mask (one draw per sample and channel)``, for messages."""
    return f"the declared {impl.structure} mask ({DRAWS[impl.structure]})"
