"""Many seeds of the chapter's training run in one stacked pass, each bit for bit its single run.

The chapter trains its 2-16-2 network once ("Training with SGD in Pytorch"); a claim about SGD
needs the run over many seeds. A sequential run of that network is almost all per-step
dispatch, so :func:`train_seeds` stacks S copies of the network (weights ``[S, out, in]``) and
trains them with one batched kernel per operation: the seeds share the dispatch and keep their
arithmetic apart.

**Each seed's trajectory is the one** ``torch.manual_seed(seed)`` **then**
``train_test(mlp(...), Batches(..., shuffle=...), split, optimizer=SGD(...))`` **produces.**
That is what makes a claim over 1,000 stacked seeds a claim about the chapter's loop:

- initialisation: ``mlp`` itself builds each seed's network after ``torch.manual_seed(seed)``;
  the generator state it leaves becomes that seed's own ``torch.Generator``;
- every later draw comes from that generator in the single run's order: per epoch the
  DataLoader base seed and the shuffle seed (:class:`sgdbench.data.Batches`, draws 1–3), then
  per step and dropout layer one ``bernoulli_`` mask of the batch's shape (torch's CPU dropout:
  ``noise.bernoulli_(1 − p)``, ``noise.div_(1 − p)``, ``input * noise``);
- the forward and backward are written out with the kernels autograd runs for the single
  network, on the same operand layouts: ``addmm`` becomes ``baddbmm``, whose CPU kernel calls
  the same GEMM per seed (aten/src/ATen/native/LinearAlgebra.cpp, ``bmm_out_or_baddbmm_``,
  "split along batch dimension"), the weight gradient is ``gradᵀ·x`` as ``mm_mat2_backward``
  forms it for ``W.t()``, cross-entropy's gradient is ``nll_loss_backward``'s −1/B at the target
  through ``_log_softmax_backward_data``, ReLU's is ``threshold_backward``;
- the update is ``torch.optim.SGD``'s single-tensor step (torch/optim/sgd.py,
  ``_single_tensor_sgd``), op for op, with its first-step momentum buffer ``clone(grad)``.

Where torch's batched GEMM is not the per-matrix GEMM (a product with ``k·m·n < 400``, which
bmm computes with its own loop, or with a dimension of 1, where MKL's single GEMM takes another
route than its batched one), the stacked trainer calls ``torch.mm`` per seed instead, so the
result stays the single run's. Bitwise equality is checked, for generated widths, batch sizes,
hyper-parameters, schedules, dropout rates and chunkings, by properties/test_stacked.py, on the
CPU at the thread count both run with (:data:`BITWISE_ON`). The stacked trainer runs on the CPU
only: another device's batched kernels and random streams (CUDA's Philox dropout masks) are not
those of its single runs, and no GPU has been available to derive a bound on the difference.

Supported: the :func:`sgdbench.models.mlp` family with ``torch.nn.Dropout`` (any widths, any
p), ``torch.optim.SGD`` with every option of its update (lr, momentum, dampening, Nesterov,
weight decay, maximize), an epoch-wise ``torch.optim.lr_scheduler`` (also one that cycles
momentum), cross-entropy, :class:`~sgdbench.data.Batches` with or without shuffling and with
``drop_last``. Anything else is refused with the argument named, never approximated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from sgdbench._checks import check_int, check_range
from sgdbench.data import Split
from sgdbench.models import mlp
from sgdbench.training import SEED_LR, SEED_MOMENTUM, History

__all__ = ["BITWISE_ON", "SGD_OPTIONS", "SeedRuns", "train_seeds"]

#: The options of torch.optim.SGD's update the stacked trainer implements, and their defaults.
SGD_OPTIONS: dict[str, Any] = {
    "lr": SEED_LR,
    "momentum": SEED_MOMENTUM,
    "dampening": 0.0,
    "weight_decay": 0.0,
    "nesterov": False,
    "maximize": False,
}
#: Where the stacked run is bitwise the single runs (properties/test_stacked.py checks it).
BITWISE_ON = "CPU, float32, the same torch thread count as the single runs"
# bmm_out_or_baddbmm_ computes products with contraction·rows·cols below this with its own
# loop instead of the per-matrix GEMM (aten/src/ATen/native/LinearAlgebra.cpp); above it, MKL's
# strided batched GEMM, which differs from the single GEMM when a dimension is 1 (a
# matrix-vector product; measured: every mismatch of a sweep of shapes had k = 1 or n = 1).
_BMM_OWN_LOOP_BELOW = 400


def _batched_is_single(m: int, k: int, n: int) -> bool:
    """Whether torch.bmm of ``[S, m, k] @ [S, k, n]`` is bitwise S calls of torch.mm."""
    return min(m, k, n) > 1 and m * k * n >= _BMM_OWN_LOOP_BELOW


_CHUNK_BYTES = 256 * 2**20  # activations held per chunk of seeds

Schedule = Callable[[torch.optim.Optimizer], Any]


@dataclass
class SeedRuns:
    """What :func:`train_seeds` returns: per seed its History and its first and last weights.

    ``initial`` and ``final`` hold, per ``Linear`` of the network in order, ``(weight, bias)``
    stacked over seeds: ``final[l][0][i]`` is seed ``seeds[i]``'s l-th weight after training.
    """

    seeds: list[int]
    histories: list[History]
    initial: list[tuple[Tensor, Tensor]]
    final: list[tuple[Tensor, Tensor]]
    hidden: tuple[int, ...]
    dropout: float
    epoch_seconds: list[float]  # wall time of each stacked epoch, all seeds together

    def model(self, i: int, *, initial: bool = False) -> nn.Sequential:
        """Seed ``seeds[i]``'s network (after training, or as initialised) as a ``mlp``."""
        layers = self.initial if initial else self.final
        in_f, out_f = layers[0][0].shape[2], layers[-1][0].shape[1]
        model = mlp(in_f, self.hidden, out_f, dropout=self.dropout)
        linears = [m for m in model if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for lin, (w, b) in zip(linears, layers, strict=True):
                lin.weight.copy_(w[i])
                lin.bias.copy_(b[i])
        return model


def _check_seeds(seeds: object) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(f"`seeds` must be a sequence of ints, but got {type(seeds).__name__}")
    if len(seeds) < 1:
        raise ValueError("`seeds` must hold at least one seed (S ≥ 1), but it is empty")
    return [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)]


def _check_optimizer(optimizer: dict[str, Any] | None) -> dict[str, Any]:
    if optimizer is None:
        return dict(SGD_OPTIONS)
    if not isinstance(optimizer, dict):
        raise TypeError(
            "`optimizer` must be a dict of torch.optim.SGD arguments or None, but got "
            f"{type(optimizer).__name__}"
        )
    unknown = sorted(set(optimizer) - set(SGD_OPTIONS))
    if unknown:
        raise ValueError(
            f"`optimizer` has {unknown}, which the stacked trainer does not implement; it runs "
            f"torch.optim.SGD's single-tensor step with {sorted(SGD_OPTIONS)} only"
        )
    opts = {**SGD_OPTIONS, "momentum": 0.0, **optimizer}
    for name in ("lr", "momentum", "dampening", "weight_decay"):
        check_range(f"optimizer[{name!r}]", opts[name], low=None if name == "dampening" else 0.0)
    for name in ("nesterov", "maximize"):
        if not isinstance(opts[name], bool):
            raise TypeError(f"`optimizer[{name!r}]` must be a bool, but got {opts[name]!r}")
    if opts["nesterov"] and (opts["momentum"] <= 0 or opts["dampening"] != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")  # as SGD
    return opts


def _mm(a: Tensor, b: Tensor) -> Tensor:
    """Per seed ``a[s] @ b[s]`` with the GEMM ``torch.mm`` would call (see the module doc)."""
    if _batched_is_single(a.shape[1], a.shape[2], b.shape[2]):
        return torch.bmm(a, b)
    return torch.stack([torch.mm(x, y) for x, y in zip(a, b, strict=True)])


def _linear(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """Per seed ``F.linear(x[s], w[s], b[s])``, i.e. ``addmm(b, x, w.t())``."""
    wt = w.transpose(1, 2)
    if _batched_is_single(x.shape[1], x.shape[2], w.shape[1]):
        return torch.baddbmm(b.unsqueeze(1), x, wt)
    return torch.stack([torch.addmm(c, m, n) for c, m, n in zip(b, x, wt, strict=True)])


class _Net:
    """The stacked network of one chunk of seeds: parameters, momentum buffers, generators."""

    def __init__(
        self, seeds: list[int], in_f: int, hidden: tuple[int, ...], out_f: int, dropout: float
    ) -> None:
        params: list[list[Tensor]] = []
        self.generators: list[torch.Generator] = []
        outer = torch.get_rng_state()
        try:
            for seed in seeds:
                torch.manual_seed(seed)  # as the single run: the seed, then the model
                model = mlp(in_f, hidden, out_f, dropout=dropout)
                params.append([p.detach() for p in model.parameters()])
                gen = torch.Generator()
                gen.set_state(torch.get_rng_state())
                self.generators.append(gen)
        finally:
            torch.set_rng_state(outer)
        self.params = [torch.stack(ps) for ps in zip(*params, strict=True)]  # W1, b1, W2, ...
        self.initial = [p.clone() for p in self.params]
        self.buffers: list[Tensor | None] = [None] * len(self.params)
        self.dropout = dropout
        self.shuffler = torch.Generator()

    def layers(self) -> Iterator[tuple[Tensor, Tensor]]:
        return zip(self.params[0::2], self.params[1::2], strict=True)

    # ------------------------------------------------------------------ the data of an epoch
    def epoch_order(self, n: int, shuffle: bool) -> Tensor | None:
        """Each seed's draws at ``iter(Batches)`` and its first batch (Batches, draws 1–3)."""
        perms = []
        for gen in self.generators:
            torch.empty((), dtype=torch.int64).random_(generator=gen)  # (1) base seed
            if shuffle:
                seed = int(torch.empty((), dtype=torch.int64).random_(generator=gen).item())
                perms.append(torch.randperm(n, generator=self.shuffler.manual_seed(seed)))
        return torch.stack(perms) if shuffle else None

    # ------------------------------------------------------------------ one step
    def forward(self, x: Tensor, *, train: bool) -> tuple[Tensor, list[tuple[Tensor, ...]]]:
        """Logits ``[S, B, C]`` and what the backward needs per hidden layer."""
        saved: list[tuple[Tensor, ...]] = []
        p = self.dropout
        *hidden, last = list(self.layers())
        for w, b in hidden:
            relu = _linear(x, w, b).relu_()  # ReLU's backward reads its output only
            if train and 0 < p < 1:
                noise = torch.empty_like(relu)
                for sample, gen in zip(noise, self.generators, strict=True):
                    sample.bernoulli_(1 - p, generator=gen)
                noise.div_(1 - p)
                out = relu * noise
            elif train and p == 1:
                noise = torch.zeros((), dtype=relu.dtype)
                out = relu * noise
            else:
                noise, out = None, relu
            saved.append((x, relu, noise) if noise is not None else (x, relu))
            x = out
        saved.append((x,))
        return _linear(x, *last), saved

    def backward(self, logits: Tensor, y: Tensor, saved: list[tuple[Tensor, ...]]) -> list[Tensor]:
        """Gradients of each seed's mean cross-entropy, as ``loss.backward()`` forms them."""
        logp = torch.log_softmax(logits, dim=2)
        # nll_loss_backward (reduction mean, no weights): −grad_output / total_weight at the
        # target, i.e. −1/B in float32 (a correctly rounded quotient either way).
        g = torch.zeros_like(logp).scatter_(2, y.unsqueeze(2), -1.0 / y.shape[1])
        dz = torch._log_softmax_backward_data(g, logp, 2, logp.dtype)
        grads: list[Tensor] = [torch.empty(0)] * len(self.params)
        for k in range(len(saved) - 1, -1, -1):
            x = saved[k][0]
            w = self.params[2 * k]
            grads[2 * k] = _mm(dz.transpose(1, 2), x)  # mm_mat2_backward for W.t(): (gᵀx)
            grads[2 * k + 1] = dz.sum(1)  # addmm's bias broadcast: sum_to over the batch
            if k == 0:
                break
            if x.shape[1] == 1 and x.shape[2] == 1:  # a 1×1 input reads as column-major to
                # mm_mat1_backward, which then forms (W.t() · gᵀ)ᵀ
                da = torch.stack([torch.mm(v.t(), u.t()).t() for v, u in zip(w, dz, strict=True)])
            else:
                da = _mm(dz, w)  # mm_mat1_backward: g · W
            prev = saved[k - 1]
            if len(prev) == 3:  # through dropout: MulBackward, grad · noise
                da = da * prev[2]
            dz = torch.ops.aten.threshold_backward(da, prev[1], 0)
        return grads

    def step(self, grads: list[Tensor], lr: float, opts: dict[str, Any], momentum: float) -> None:
        """``torch.optim.SGD``'s ``_single_tensor_sgd``, op for op, on every stacked tensor."""
        wd, damp = opts["weight_decay"], opts["dampening"]
        for i, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
            if opts["maximize"]:
                grad = -grad
            if wd != 0:
                grad = grad.add(param, alpha=wd)
            if momentum != 0:
                buf = self.buffers[i]
                if buf is None:
                    buf = grad.detach().clone()
                    self.buffers[i] = buf
                else:
                    buf.mul_(momentum).add_(grad, alpha=1 - damp)
                grad = grad.add(buf, alpha=momentum) if opts["nesterov"] else buf
            param.add_(grad, alpha=-lr)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, split: Split) -> list[Tensor]:
        """[train_acc, test_acc, train_loss, test_loss], each ``[S]``, as ``_evaluate`` does."""
        out = []
        losses = []
        for X, y in ((split.X_train, split.y_train), (split.X_test, split.y_test)):
            logits, _ = self.forward(X.expand(len(self.generators), *X.shape), train=False)
            out.append((logits.argmax(dim=2) == y).float().mean(dim=1))
            logp = torch.log_softmax(logits, dim=2)  # cross_entropy = nll_loss(log_softmax)
            losses.append(torch.stack([F.nll_loss(lp, y) for lp in logp]))
        return out + losses


def _chunk(n: int, widths: Sequence[int], count: int) -> int:
    per_seed = 4 * n * max(widths) * (len(widths) + 2)
    return max(1, min(count, _CHUNK_BYTES // max(per_seed, 1)))


def train_seeds(
    seeds: Sequence[int],
    split: Split,
    *,
    hidden: Sequence[int] = (16,),
    dropout: float = 0.0,
    batch_size: int | None = 32,
    shuffle: bool = True,
    drop_last: bool = False,
    epochs: int = 100,
    optimizer: dict[str, Any] | None = None,
    schedule: Schedule | None = None,
    chunk: int | None = None,
    _net: type[_Net] | None = None,
) -> SeedRuns:
    """Train ``mlp(in, hidden, out, dropout=dropout)`` from every seed at once.

    Per seed this is, bit for bit (on the CPU; see the module doc)::

        torch.manual_seed(seed)
        model = mlp(in_features, hidden, out_features, dropout=dropout)
        opt = torch.optim.SGD(model.parameters(), **optimizer)
        sched = schedule(opt) if schedule else None
        batches = Batches(split.X_train, split.y_train, batch_size or n, shuffle=shuffle,
                          drop_last=drop_last)
        for epoch in range(epochs):
            train_test(model, batches, split, epochs=1, optimizer=opt)
            if sched: sched.step()

    ``optimizer`` holds ``torch.optim.SGD`` arguments (:data:`SGD_OPTIONS`; None is the seed's
    lr 0.1, momentum 0.9; a dict without ``momentum`` has none, as SGD). ``schedule`` builds an
    epoch-wise lr scheduler on a given optimizer; it is stepped on a stand-in optimizer whose
    lr (and momentum) every seed then uses. ``chunk`` seeds are trained together (default: as
    many as fit in 256 MiB of activations); chunks do not change any number. ``_net`` swaps
    the stacked network for a planted-bug variant (properties/test_stacked.py).
    """
    seeds = _check_seeds(seeds)
    if not isinstance(split, Split):
        raise TypeError(f"`split` must be a sgdbench.data.Split, but got {type(split).__name__}")
    if split.device.type != "cpu" or split.X_train.dtype != torch.float32:
        raise ValueError(
            f"`split` must be float32 on the CPU for the stacked trainer, but it is "
            f"{split.X_train.dtype} on {split.device}"
        )
    hidden = tuple(hidden)
    for i, width in enumerate(hidden):
        check_int(f"hidden[{i}]", width, minimum=1)
    if not hidden:
        raise ValueError("`hidden` must name at least one hidden width (the mlp family)")
    check_range("dropout", dropout, low=0.0, high=1.0)
    n = split.y_train.shape[0]
    batch = n if batch_size is None else check_int("batch_size", batch_size, minimum=1)
    for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
        if not isinstance(flag, bool):
            raise TypeError(f"`{name}` must be a bool, but got {flag!r}")
    check_int("epochs", epochs, minimum=1)
    opts = _check_optimizer(optimizer)
    if schedule is not None and not callable(schedule):
        raise TypeError("`schedule` must be a callable optimizer → lr scheduler, or None")
    stop = n - n % batch if drop_last else n
    bounds = [(i, min(i + batch, n)) for i in range(0, stop, batch)]
    if not bounds:
        raise ValueError(f"`batch_size` {batch} with drop_last leaves no batch of {n} samples")
    size = (
        check_int("chunk", chunk, minimum=1) if chunk is not None else _chunk(n, hidden, len(seeds))
    )
    lrs, moms = _schedule(opts, schedule, epochs)
    in_f = split.X_train.shape[1]
    out_f = int(max(split.y_train.max(), split.y_test.max())) + 1

    histories: list[History] = []
    initial: list[list[Tensor]] = []
    final: list[list[Tensor]] = []
    seconds = [0.0] * epochs
    for start in range(0, len(seeds), size):
        part = seeds[start : start + size]
        net = (_net or _Net)(part, in_f, hidden, out_f, dropout)
        cols: list[list[list[float]]] = [[[] for _ in part] for _ in range(4)]
        for epoch in range(epochs):
            t0 = _clock()
            perms = net.epoch_order(n, shuffle)
            X = (
                split.X_train.expand(len(part), *split.X_train.shape)
                if perms is None
                else (split.X_train[perms])
            )
            Y = split.y_train.expand(len(part), n) if perms is None else split.y_train[perms]
            for h, k in bounds:
                logits, saved = net.forward(X[:, h:k], train=True)
                net.step(net.backward(logits, Y[:, h:k], saved), lrs[epoch], opts, moms[epoch])
            seconds[epoch] += _clock() - t0
            with torch.no_grad():
                values = torch.stack(net.evaluate(split)).tolist()
            for col, vals in zip(cols, values, strict=True):
                for per_seed, v in zip(col, vals, strict=True):
                    per_seed.append(v)
        for i in range(len(part)):
            histories.append(History(*(col[i] for col in cols)))
        initial.append(net.initial)
        final.append(net.params)
    pairs = [torch.cat(ts) for ts in zip(*initial, strict=True)]
    ends = [torch.cat(ts) for ts in zip(*final, strict=True)]
    return SeedRuns(
        seeds=seeds,
        histories=histories,
        initial=list(zip(pairs[0::2], pairs[1::2], strict=True)),
        final=list(zip(ends[0::2], ends[1::2], strict=True)),
        hidden=hidden,
        dropout=float(dropout),
        epoch_seconds=seconds,
    )


def _schedule(
    opts: dict[str, Any], schedule: Schedule | None, epochs: int
) -> tuple[list[float], list[float]]:
    """The lr and momentum of every epoch: the scheduler stepped on a stand-in SGD."""
    if schedule is None:
        return [opts["lr"]] * epochs, [opts["momentum"]] * epochs
    stand_in = torch.optim.SGD([torch.zeros(1, requires_grad=True)], **opts)
    sched = schedule(stand_in)
    lrs, moms = [], []
    for _ in range(epochs):
        group = stand_in.param_groups[0]
        lrs.append(group["lr"])
        moms.append(group["momentum"])
        stand_in.step()  # no gradient: changes nothing, keeps the scheduler's order check quiet
        sched.step()
    for value in lrs:
        if isinstance(value, Tensor) or not math.isfinite(value):
            raise ValueError(f"`schedule` gave the lr {value!r}; the stacked trainer needs floats")
    return lrs, moms


def _clock() -> float:
    import time

    return time.perf_counter()
