"""sgdbench.models: the seed's networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sgdbench.models import SimpleNet, mlp
from sgdbench.reference import Dropout


def test_default_mlp_is_the_seed_network() -> None:
    torch.manual_seed(0)
    ours = mlp()
    torch.manual_seed(0)
    seed = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))  # the chapter's code
    assert str(ours) == str(seed)
    for a, b in zip(ours.parameters(), seed.parameters(), strict=True):
        assert torch.equal(a, b)  # same layers, same init order → same weights


@pytest.mark.parametrize("reference", [False, True])
def test_mlp_widths_and_dropout(reference: bool) -> None:
    m = mlp(3, (8, 4), 5, dropout=0.25, reference_dropout=reference)
    kinds = [type(layer) for layer in m]
    drop = Dropout if reference else nn.Dropout
    assert kinds == [nn.Linear, nn.ReLU, drop, nn.Linear, nn.ReLU, drop, nn.Linear]
    assert m(torch.zeros(7, 3)).shape == (7, 5)
    assert all(layer.p == 0.25 for layer in m if isinstance(layer, drop))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"in_features": 0}, ValueError, "`in_features` must be ≥ 1"),
        ({"hidden": (4, 0)}, ValueError, r"`hidden\[1\]` must be ≥ 1"),
        ({"dropout": 1.5}, ValueError, r"`dropout` must be in \[0.0, 1.0\]"),
        ({"out_features": 2.0}, TypeError, "`out_features` must be an int"),
    ],
)
def test_mlp_bad_input(kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        mlp(**kwargs)  # type: ignore[arg-type]


def test_simplenet_as_printed_in_the_chapter() -> None:
    model = SimpleNet()
    assert isinstance(model.dropout, nn.Dropout) and model.dropout.p == 0.5
    assert (model.fc1.in_features, model.fc1.out_features, model.fc2.out_features) == (10, 10, 1)
    x = torch.ones(1, 10)
    with torch.no_grad():
        model.eval()
        assert torch.equal(model(x), model(x))  # "consistent in eval mode"
        model.train()
        outs = {model(x).item() for _ in range(20)}
    assert len(outs) > 1  # "but not in train mode" (20 draws all equal: chance < 2**-190)
    assert isinstance(SimpleNet(0.2, reference_dropout=True).dropout, Dropout)
