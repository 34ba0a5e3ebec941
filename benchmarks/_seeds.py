"""Cases of the seed-parallel benchmark: one epoch for S seeds, stacked, by torch.func, or one
seed's train_test epoch (what a sequential run of S seeds repeats S times); and peak memory.

``python -m benchmarks._seeds S`` trains one stacked epoch (training and evaluation) for S
seeds in a fresh process and prints how far its resident memory rose above where it stood
before the stack was built, in KiB (Linux: the peak ``VmHWM`` is reset through
``/proc/self/clear_refs`` first, then read against ``VmRSS``): the memory the seed benchmark
reports at each S, without the interpreter's, torch's and scikit-learn's own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

from sgdbench.data import Split
from sgdbench.models import mlp
from sgdbench.stacked import SeedStack
from sgdbench.training import SEED_LR, SEED_MOMENTUM, _evaluate, train_epoch

__all__ = ["sequential_epoch", "stacked_epoch", "torch_func_epoch"]


def sequential_epoch(split: Split, seed: int = 0) -> Callable[[], None]:
    """One epoch of one seed's run as train_test does it: training pass, then evaluation."""
    from sgdbench.experiments import SGD_32

    torch.manual_seed(seed)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=SEED_LR, momentum=SEED_MOMENTUM)
    criterion = nn.CrossEntropyLoss()
    data = SGD_32.batches(split)

    def epoch() -> None:
        train_epoch(model, data, opt, criterion)
        model.eval()
        with torch.no_grad():
            torch.stack(_evaluate(model, criterion, split)).tolist()

    return epoch


def stacked_epoch(split: Split, seeds: int, *, evaluate: bool = True) -> Callable[[], None]:
    """One epoch of ``seeds`` seeds through :class:`sgdbench.stacked.SeedStack`."""
    stack = SeedStack(range(seeds), split)

    def epoch() -> None:
        stack.train_epoch()
        if evaluate:
            stack.evaluate()

    return epoch


def torch_func_epoch(split: Split, seeds: int) -> Callable[[], None]:
    """One training epoch of ``seeds`` seeds by ``torch.func`` (the alternative the stacked
    trainer was chosen over): ``stack_module_state`` + ``vmap(grad(functional_call))``, the
    per-seed shuffles and a heavy-ball update with foreach ops. Its numbers are not checked
    against the single runs: it is timed, not trusted."""
    from torch.func import functional_call, grad, stack_module_state, vmap

    models = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        models.append(mlp())
    stacked_params, _ = stack_module_state(models)  # type: ignore[arg-type]
    params = {k: v.detach() for k, v in stacked_params.items()}
    base = mlp().to("meta")

    def loss(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(functional_call(base, p, (x,)), y)

    step_grad = vmap(grad(loss))
    names = list(params)
    bufs: list[torch.Tensor] | None = None
    n = split.y_train.shape[0]
    gens = [torch.Generator().manual_seed(s) for s in range(seeds)]

    def epoch() -> None:
        nonlocal bufs
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens])
        X, Y = split.X_train[perms], split.y_train[perms]
        for h in range(0, n, 32):
            grads = step_grad(params, X[:, h : h + 32], Y[:, h : h + 32])
            g = [grads[k] for k in names]
            if bufs is None:
                bufs = [t.clone() for t in g]
            else:
                torch._foreach_mul_(bufs, SEED_MOMENTUM)
                torch._foreach_add_(bufs, g)
            torch._foreach_add_([params[k] for k in names], bufs, alpha=-SEED_LR)

    return epoch


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


if __name__ == "__main__":
    from benchmarks._cases import moons

    torch.set_num_threads(1)
    split = moons(800, "cpu")
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")  # reset the peak (VmHWM) to the current resident set
    base = _status_kib("VmRSS")
    stacked_epoch(split, int(sys.argv[1]))()
    print(_status_kib("VmHWM") - base)
