"""A test suite must catch bugs: the properties, run against deliberately broken code.

Each case plants one bug a real implementation could have and runs the property functions
that should notice it, under fixed settings (derandomized: the verdict is the same every run,
so this check cannot flake). The test passes when every property named for a bug fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from torch import Tensor, nn

from properties import test_dropout, test_eval_mode, test_minibatches, test_sgd, test_weight_decay
from sgdbench.data import Batches
from sgdbench.reference import SGD

# The settings every planted bug is hunted with. A property's settings are fixed when @given
# wraps it, so each case re-wraps the property's inner test (``test.hypothesis.inner_test``)
# with the property's own strategies and these settings; the property itself is untouched.
HUNT = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)


# --------------------------------------------------------------------------- broken dropouts


def _mask(x: Tensor, p: float) -> Tensor:
    return torch.rand(x.shape, dtype=x.dtype, device=x.device) > p


def no_scaling(x: Tensor, p: float) -> Tensor:
    """Forgets Algorithm 12's 1/(1 − p)."""
    return x * _mask(x, p)


def scale_by_one_over_p(x: Tensor, p: float) -> Tensor:
    """Scales kept units by 1/p instead of 1/(1 − p)."""
    return x if p == 0 else x * _mask(x, p) / p


class DropoutInEval(nn.Module):
    """Ignores ``self.training``: still drops in eval()."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return x * _mask(x, self.p) / (1 - self.p)


# --------------------------------------------------------------------------- broken SGD


class BrokenSGD(SGD):
    """The reference SGD with one of three bugs planted in its update."""

    bug = ""

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            mu, tau = group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                if wd != 0 and self.bug != "decay after momentum":
                    g = g.add(p, alpha=wd)
                if mu != 0:
                    state = self.state[p]
                    b = state.get("momentum_buffer")
                    if b is None:
                        first = 1 - tau if self.bug == "dampened first step" else 1.0
                        b = state["momentum_buffer"] = g.detach().clone().mul_(first)
                    else:
                        b.mul_(mu).add_(g, alpha=1 - tau)
                    sign = -1 if self.bug == "nesterov sign" else 1
                    g = g.add(b, alpha=sign * mu) if group["nesterov"] else b
                if wd != 0 and self.bug == "decay after momentum":
                    g = g.add(p, alpha=wd)
                p.add_(g, alpha=-lr)


def broken_sgd(bug: str) -> type[SGD]:
    return type(f"SGD_{bug.replace(' ', '_')}", (BrokenSGD,), {"bug": bug})


# --------------------------------------------------------------------------- broken Batches


class BatchesSkippingBaseSeed(Batches):
    """Skips the base-seed draw DataLoader makes at every iter()."""

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        return self._epoch()


class BatchesSkippingDiscardedPerm(Batches):
    """Skips the discarded randperm RandomSampler draws at the end of an epoch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._real_generator = self.generator

    def _epoch(self) -> Iterator[tuple[Tensor, Tensor]]:
        if self.generator is None:
            yield from super()._epoch()
            return
        state = None
        for batch in super()._epoch():
            yield batch
            state = self.generator.get_state()
        if state is not None:
            self.generator.set_state(state)  # undo the draw after the last batch


# --------------------------------------------------------------------------- the cases

Run = Callable[[pytest.MonkeyPatch], None]


def hunt(test: Any, given_kwargs: dict[str, Any], **kwargs: Any) -> None:
    """Run property ``test`` with ``kwargs`` for its parameters, under HUNT."""
    HUNT(given(**given_kwargs)(test.hypothesis.inner_test))(**kwargs)


def _prop(test: Any, given_kwargs: dict[str, Any], **kwargs: Any) -> Run:
    return lambda _mp: hunt(test, given_kwargs, **kwargs)


def _eval_with(layer: type[nn.Module]) -> Run:
    def run(mp: pytest.MonkeyPatch) -> None:
        mp.setattr(test_eval_mode, "DROPOUT_LAYERS", {"broken": layer})
        prop = test_eval_mode.test_eval_is_deterministic_and_drops_nothing
        hunt(prop, test_eval_mode.EVAL_GIVEN, device="cpu")

    return run


EXPECTATION = test_dropout.test_dropout_preserves_expectation
EXPECTATION_GIVEN = test_dropout.EXPECTATION_GIVEN
LAW, LAW_GIVEN = test_dropout.test_dropout_law, test_dropout.LAW_GIVEN
BATCHES = test_minibatches.test_batches_equal_dataloader
BATCHES_GIVEN = test_minibatches.BATCHES_GIVEN

CASES: dict[str, dict[str, Run]] = {
    "dropout without 1/(1-p)": {
        "expectation": _prop(EXPECTATION, EXPECTATION_GIVEN, impl=no_scaling, device="cpu"),
        "law": _prop(LAW, LAW_GIVEN, impl=no_scaling, device="cpu"),
    },
    "dropout scaled by 1/p": {
        "expectation": _prop(
            EXPECTATION, EXPECTATION_GIVEN, impl=scale_by_one_over_p, device="cpu"
        ),
        "law": _prop(LAW, LAW_GIVEN, impl=scale_by_one_over_p, device="cpu"),
    },
    "dropout active in eval": {"eval determinism": _eval_with(DropoutInEval)},
    **{
        f"SGD {bug}": {
            "reference ≡ torch": _prop(
                test_sgd.test_reference_sgd_equals_torch,
                test_sgd.SGD_GIVEN,
                ref_cls=broken_sgd(bug),
                device="cpu",
                torch_kwargs={"foreach": False},
            ),
        }
        for bug in ("decay after momentum", "dampened first step", "nesterov sign")
    },
    "Batches skips the base-seed draw": {
        "Batches ≡ DataLoader": _prop(BATCHES, BATCHES_GIVEN, batches_cls=BatchesSkippingBaseSeed),
    },
    "Batches skips the discarded randperm": {
        "Batches ≡ DataLoader": _prop(
            BATCHES, BATCHES_GIVEN, batches_cls=BatchesSkippingDiscardedPerm
        ),
    },
}
CASES["SGD decay after momentum"]["weight decay = L2"] = _prop(
    test_weight_decay.test_weight_decay_is_l2_penalty,
    test_weight_decay.WD_GIVEN,
    opt_cls=broken_sgd("decay after momentum"),
)


@pytest.mark.parametrize(
    ("bug", "prop"),
    [
        pytest.param(bug, prop, id=f"{bug} / {prop}")
        for bug, props in CASES.items()
        for prop in props
    ],
)
def test_property_catches_planted_bug(bug: str, prop: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The property ``prop`` must fail on code with ``bug``."""
    with pytest.raises(AssertionError):
        CASES[bug][prop](monkeypatch)
