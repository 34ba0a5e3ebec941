"""sgdbench.stacked's contract at its edges: bad input is refused by name, never run another way.
(Its equality with the single runs is a property: properties/test_stacked.py.)"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from sgdbench import stacked
from sgdbench.claims import _stats
from sgdbench.claims._core import Claim
from sgdbench.claims.report import Section, render
from sgdbench.data import Split, two_moons
from sgdbench.models import mlp

SPLIT = two_moons(n_samples=60)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"seeds": []}, ValueError, "`seeds` must hold at least one seed (S ≥ 1)"),
        ({"seeds": 3}, TypeError, "`seeds` must be a sequence of ints"),
        ({"seeds": [0, -1]}, ValueError, "`seeds[1]` must be ≥ 0"),
        ({"hidden": ()}, ValueError, "`hidden` must name at least one hidden width"),
        ({"hidden": (4, 0)}, ValueError, "`hidden[1]` must be ≥ 1"),
        ({"dropout": 1.5}, ValueError, "`dropout` must be in [0.0, 1.0]"),
        ({"batch_size": 0}, ValueError, "`batch_size` must be ≥ 1"),
        (
            {"batch_size": 100, "drop_last": True},
            ValueError,
            "`batch_size` 100 with drop_last leaves no batch of 48 samples",
        ),
        ({"epochs": 0}, ValueError, "`epochs` must be ≥ 1"),
        (
            {"optimizer": {"lr": 0.1, "betas": (0.9, 0.99)}},
            ValueError,
            "`optimizer` has ['betas'], which the stacked trainer does not implement; it runs "
            "torch.optim.SGD's single-tensor step with ['dampening', 'lr', 'maximize', "
            "'momentum', 'nesterov', 'weight_decay'] only",
        ),
        ({"optimizer": {"foreach": True}}, ValueError, "`optimizer` has ['foreach']"),
        ({"optimizer": {"lr": float("nan")}}, ValueError, "`optimizer['lr']` must be in"),
        ({"optimizer": {"nesterov": 1}}, TypeError, "`optimizer['nesterov']` must be a bool"),
        (
            {"optimizer": {"lr": 0.1, "nesterov": True}},
            ValueError,
            "Nesterov momentum requires a momentum and zero dampening",
        ),
        ({"optimizer": "SGD"}, TypeError, "`optimizer` must be a dict of torch.optim.SGD"),
        ({"schedule": "cosine"}, TypeError, "`schedule` must be a callable"),
        ({"chunk": 0}, ValueError, "`chunk` must be ≥ 1"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, Any], error: type, message: str) -> None:
    args: dict[str, Any] = {"seeds": [0], "epochs": 1, **kwargs}
    with pytest.raises(error) as exc:
        stacked.train_seeds(args.pop("seeds"), SPLIT, **args)
    assert message in str(exc.value)


def test_refuses_a_split_it_cannot_train_bitwise() -> None:
    """float64 data (or another device) is refused, not trained with other kernels."""
    double = Split(*(t.double() if t.is_floating_point() else t for t in vars(SPLIT).values()))
    with pytest.raises(ValueError, match="`split` must be float32 on the CPU"):
        stacked.train_seeds([0], double, epochs=1)
    with pytest.raises(TypeError, match=r"`split` must be a sgdbench\.data\.Split"):
        stacked.train_seeds([0], "two moons", epochs=1)  # type: ignore[arg-type]


def test_leaves_the_global_generator_alone() -> None:
    """Per-seed generators: the caller's global RNG state is as it was."""
    torch.manual_seed(123)
    before = torch.get_rng_state()
    stacked.train_seeds([0, 1], SPLIT, epochs=1, dropout=0.5)
    assert torch.equal(torch.get_rng_state(), before)


def test_model_rebuilds_each_seeds_network() -> None:
    runs = stacked.train_seeds([4, 5], SPLIT, hidden=(6, 3), epochs=2)
    model = runs.model(1)
    assert [tuple(p.shape) for p in model.parameters()] == [
        (6, 2),
        (6,),
        (3, 6),
        (3,),
        (2, 3),
        (2,),
    ]
    assert torch.equal(model[0].weight, runs.final[0][0][1])
    torch.manual_seed(5)
    first = mlp(2, (6, 3), 2)
    assert torch.equal(runs.model(1, initial=True)[0].weight, first[0].weight)


def test_wilson_interval() -> None:
    """The Wilson score interval, against its closed form (z = 1.959964)."""
    z = 1.959963984540054
    for k, n in ((0, 10), (7, 10), (998, 1000), (1000, 1000)):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        lo, hi = _stats.wilson(k, n)
        assert lo == pytest.approx(max(0.0, centre - half), abs=1e-9)
        assert hi == pytest.approx(min(1.0, centre + half), abs=1e-9)
    assert _stats.share(998, 1000) == "998/1000 (99.8 %; 95 % CI 99.3–99.9 %)"
    with pytest.raises(ValueError, match="`k` must be in"):
        _stats.wilson(3, 2)


def test_bootstrap_interval_contains_the_mean_and_is_reproducible() -> None:
    xs = [float(i % 7) for i in range(200)]
    text = _stats.mean_ci(xs, ".3f")
    assert text == _stats.mean_ci(xs, ".3f")  # a fixed generator: CLAIMS.md is reproducible
    mean, lo, hi = (
        float(v) for v in text.replace("(95 % CI", "").rstrip(")").replace("–", " ").split()
    )
    assert lo < mean < hi
    assert _stats.mean_ci([2.0, 2.0]) == "2.0000 (95 % CI 2.0000–2.0000)"


def test_render_lists_the_rows_whose_verdict_changed() -> None:
    """CLAIMS.md says where the first seeds' verdict and all seeds' differ (the rule fixed)."""

    def claim(holds: bool, per_seed: list[bool]) -> Claim:
        verdict = "holds" if holds else "does not hold in every seed"
        return Claim("k", "“s”", "m", verdict, "every seed", holds, {}, "it held", per_seed)

    moons = Section(
        "two_moons", "two moons", "d", 11, [claim(False, [True] * 10 + [False])],
        few=[claim(True, [True] * 10)],
    )  # fmt: skip
    digits = Section("digits", "digits", "d", 3, [claim(True, [True] * 3)])
    text = render([moons, digits], "h")
    assert (
        "| # | the chapter says | two moons, 11 seeds | two moons, seeds 0–9 | digits, 3 seeds |"
        in text
    )
    assert "| 1 | “s” | **does not hold in every seed** | holds | **holds** | every seed |" in text
    assert "| 1 | m | it held: 10/11 (90.9 %; 95 % CI 62.3–98.4 %) |" in text
    assert "- Row 1: on seeds 0–9 “holds”; on all seeds “does not hold in every seed”." in text
    assert "- Row 1: two moons “does not hold in every seed”; digits “holds”." in text


def test_why_reads_the_cause_off_the_measurements() -> None:
    """A differing row gets a reason built from that run's numbers; an unknown claim none."""
    from sgdbench.claims.why import why

    def decay(fluct: float, loss: float) -> Claim:
        data = {"schedules": {"constant": {"fluctuation": [fluct], "final_train_loss": [loss]}}}
        return Claim("sgd-needs-decay", "s", "m", "v", "r", True, data)

    reason = why(decay(0.1, 0.07), decay(0.0, 4e-4), "two moons", "digits")
    assert "interpolates" in reason and "0.0004" in reason and "0.0e+00" in reason
    other = Claim("weight-decay", "s", "m", "v", "r", True, {})
    assert why(other, other, "a", "b") == ""
    broken = Claim("momentum", "s", "m", "v", "r", True, {"table": {"x": {}}})
    assert why(broken, broken, "a", "b") == ""  # data of another shape: no sentence, no crash
