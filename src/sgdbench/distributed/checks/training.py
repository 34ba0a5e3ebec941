"""Algorithm 11 with k ranks × batch b ≡ batch k·b: the gradients, θ and the optimizer state."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from hypothesis import strategies as st
from torch import Tensor

from sgdbench.conformance._runner import Variant
from sgdbench.conformance.optimizer._harness import features, required
from sgdbench.conformance.optimizer._harness import hyper as hyper_for
from sgdbench.distributed._bound import chain_length, gamma, magnitudes
from sgdbench.distributed._tasks import problem, rank_batches
from sgdbench.distributed.checks._registry import TASKS, DDPUnderTest, _check


@st.composite
def _cases(draw: st.DrawFn, impl: DDPUnderTest, steps: tuple[int, int] = (1, 4)) -> dict[str, Any]:
    """A problem and hyper-parameters the optimizer under test takes (what it lacks stays
    unset; what it cannot switch off stays on), passed as the conformance harness passes them.
    """
    have, must = features(impl.optimizer), required(impl.optimizer)
    values: dict[str, Any] = {
        "lr": draw(st.sampled_from([0.1, 0.5]) | st.floats(1e-3, 1.0), label="lr")
    }
    if "momentum" in have:
        on = st.floats(0.01, 0.99) if "momentum" in must else st.floats(0.0, 0.99)
        values["momentum"] = draw(st.sampled_from([0.9]) | on, label="momentum")
    if "weight_decay" in have:
        decay = st.floats(1e-4, 0.1) if "weight_decay" in must else st.floats(0.0, 0.1)
        values["weight_decay"] = draw(st.sampled_from([1e-3]) | decay, label="wd")
    if values.get("momentum", 0) > 0:
        nesterov = "nesterov" in have and draw(st.booleans(), label="nesterov")
        if nesterov:
            values["nesterov"] = True
        elif "dampening" in have:
            values["dampening"] = draw(st.floats(0.0, 1.0), label="dampening")
    hyper = hyper_for(impl.optimizer, **values)
    return {
        "seed": draw(st.integers(0, 2**32 - 1), label="seed"),
        "batch": draw(st.integers(1, 8), label="batch"),
        "steps": draw(st.integers(*steps), label="steps"),
        "features": draw(st.integers(1, 4), label="features"),
        "hidden": draw(st.lists(st.integers(1, 8), min_size=1, max_size=2), label="hidden"),
        "classes": draw(st.integers(2, 4), label="classes"),
        "hyper": hyper,
    }


def _global_batch(case: dict[str, Any], k: int, t: int) -> list[int]:
    """Step t's samples over all ranks, in rank order: what single-process SGD takes."""
    return [i for r in range(k) for i in rank_batches(case, k, r)[t]]


def _assert_within(what: str, got: Tensor, want: Tensor, allowed: Tensor, where: str) -> None:
    __tracebackhide__ = True
    diff = (got - want).abs()
    bad = ~(diff <= allowed)
    if bad.any():
        j = tuple(bad.nonzero()[0].tolist())
        ratio = (diff / allowed).max().item()
        raise AssertionError(
            f"{what}{list(j)} {where} is {got[j].item()!r}, but single-process SGD with batch "
            f"k·b gives {want[j].item()!r} (|diff| {diff[j].item():.3g}, allowed "
            f"{allowed[j].item():.3g} from the summation-order bound; worst ratio {ratio:.3g})"
        )


def _replay(
    impl: DDPUnderTest, case: dict[str, Any], variant: Variant, ranks: list[dict[str, Any]]
) -> None:
    """Each step from rank 0's state, single-process, on the k·b samples; compare every rank."""
    k = impl.group.world_size
    model, X, y = problem(case, k)
    params = list(model.parameters())
    opt = impl.optimizer.make(params, **case["hyper"])
    u, tiny = variant.unit_roundoff, torch.finfo(variant.torch_dtype).tiny
    hyper = case["hyper"]
    lr, mu, wd = hyper["lr"], hyper.get("momentum", 0.0), hyper.get("weight_decay", 0.0)
    for t in range(case["steps"]):
        with torch.no_grad():
            for p, theta in zip(params, ranks[0]["theta"][t], strict=True):
                p.copy_(theta)
        opt.load_state_dict(ranks[0]["state"][t])
        idx = _global_batch(case, k, t)
        opt.zero_grad()
        F.cross_entropy(model(X[idx]), y[idx]).backward()  # type: ignore[no-untyped-call]
        grads = [p.grad.detach().clone() for p in params]  # type: ignore[union-attr]
        theta_t = [p.detach().clone() for p in params]
        G = magnitudes(model, X[idx], y[idx], reduction="mean")
        dg = [2 * gamma(chain_length(model, len(idx)), u) * m + 2 * tiny for m in G]
        opt.step()
        state = opt.state_dict()["state"]
        for r, rank in enumerate(ranks):
            at = f"on rank {r} at step {t + 1}"
            for i, (p, g, e) in enumerate(zip(params, grads, dg, strict=True)):
                _assert_within(f".grad of θ[{i}]", rank["grad"][t][i], g, e, at)
                v = state.get(i, {}).get("momentum_buffer")
                v_abs = v.abs() if v is not None else torch.zeros_like(g)
                mag = v_abs + g.abs() + wd * theta_t[i].abs()
                allowed = lr * (1 + mu) * e + 8 * u * (p.detach().abs() + lr * mag)
                _assert_within(f"θ[{i}]", rank["theta"][t + 1][i], p.detach(), allowed, at)
                for key, want in state.get(i, {}).items():
                    got = rank["state"][t + 1]["state"][i][key]
                    if isinstance(want, Tensor):
                        _assert_within(f"{key} of θ[{i}]", got, want, e + 8 * u * mag, at)
                    else:
                        assert got == want, f"{key} of θ[{i}] {at} is {got!r}, not {want!r}"


def _trajectory(impl: DDPUnderTest, case: dict[str, Any], reduction: str) -> list[Any]:
    payload = {"case": case, "optimizer": impl.optimizer, "reduction": reduction}
    return impl.group.run(f"{TASKS}:trajectory", {**payload, "hook": impl.hook})


@_check(
    "matches_single_process",
    "Algorithm 11 with k ranks × batch b ≡ batch k·b when DDP averages the gradients of a "
    "mean loss (torch DistributedDataParallel docs): .grad, θ and the optimizer state after "
    "every step, within the summation-order bound (distributed/_bound.py)",
    cases=lambda impl, v: _cases(impl),
)
def matches_single_process(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    case = {**case, "dtype": variant.dtype}
    _replay(impl, case, variant, _trajectory(impl, case, "mean"))


@_check(
    "summed_loss_is_k_times_smaller",
    "the pitfall (DistributedDataParallel docs): with a *summed* loss the gradient is k times "
    "smaller than single-process training with batch k·b and the same summed loss, which is "
    "b times the mean-loss gradient: the learning rate no longer means what it did",
    cases=lambda impl, v: _cases(impl, steps=(1, 1)),
)
def summed_loss(impl: DDPUnderTest, case: dict[str, Any], variant: Variant) -> None:
    case = {**case, "dtype": variant.dtype}
    k = impl.group.world_size
    ranks = _trajectory(impl, case, "sum")
    model, X, y = problem(case, k)
    idx = _global_batch(case, k, 0)
    F.cross_entropy(model(X[idx]), y[idx], reduction="sum").backward()  # type: ignore[no-untyped-call]
    G = magnitudes(model, X[idx], y[idx], reduction="sum")
    e = [2 * gamma(chain_length(model, len(idx)), variant.unit_roundoff) * m / k for m in G]
    for r, rank in enumerate(ranks):
        for i, (p, allowed) in enumerate(zip(model.parameters(), e, strict=True)):
            want: Tensor = p.grad / k  # type: ignore[operator,assignment]
            _assert_within(f".grad of θ[{i}] ÷k", rank["grad"][0][i], want, allowed, f"rank {r}")
