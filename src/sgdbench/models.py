"""The chapter's networks.

- :func:`mlp`: "a simple shallow network with a single hidden layer of 16 neurons and ReLU
  activation" (section "Training with SGD in Pytorch"), generalised to any widths, with an
  optional dropout layer after every hidden activation.
- :class:`SimpleNet`: the 10-10-1 network of section "Dropout", dropout 0.5 between the layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from sgdbench._checks import check_int, check_range
from sgdbench.reference.dropout import Dropout

__all__ = ["SimpleNet", "mlp"]


def mlp(
    in_features: int = 2,
    hidden: Sequence[int] = (16,),
    out_features: int = 2,
    *,
    dropout: float = 0.0,
    reference_dropout: bool = False,
) -> nn.Sequential:
    """Linear → ReLU [→ Dropout] per hidden width, then Linear; the default is the seed's 2-16-2.

    ``dropout`` > 0 adds a dropout layer after each ReLU: ``torch.nn.Dropout``, or
    :class:`sgdbench.reference.Dropout` when ``reference_dropout`` is true.
    """
    check_int("in_features", in_features, minimum=1)
    check_int("out_features", out_features, minimum=1)
    hidden = tuple(hidden)
    for i, width in enumerate(hidden):
        check_int(f"hidden[{i}]", width, minimum=1)
    check_range("dropout", dropout, low=0.0, high=1.0)
    layers: list[nn.Module] = []
    width_in = in_features
    for width in hidden:
        layers += [nn.Linear(width_in, width), nn.ReLU()]
        if dropout > 0:
            layers.append(Dropout(dropout) if reference_dropout else nn.Dropout(dropout))
        width_in = width
    layers.append(nn.Linear(width_in, out_features))
    return nn.Sequential(*layers)


class SimpleNet(nn.Module):
    """The chapter's dropout example, as printed: fc1 (10→10), ReLU, dropout(p), fc2 (10→1)."""

    def __init__(self, p: float = 0.5, *, reference_dropout: bool = False) -> None:
        super().__init__()
        self.fc1 = nn.Linear(10, 10)
        self.dropout: nn.Module = Dropout(p) if reference_dropout else nn.Dropout(p)
        self.fc2 = nn.Linear(10, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = torch.relu(self.fc1(x))
        x = self.dropout(x)
        out: Tensor = self.fc2(x)
        return out
