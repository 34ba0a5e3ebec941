"""The stacked network of one chunk of seeds: its forward, backward, SGD step and evaluation.

Each method is the single network's computation, kernel for kernel (see :mod:`sgdbench.stacked`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from sgdbench.data import Split
from sgdbench.models import mlp
from sgdbench.stacked._kernels import linear, mm

__all__ = ["_Net"]


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
            relu = linear(x, w, b).relu_()  # ReLU's backward reads its output only
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
        return linear(x, *last), saved

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
            grads[2 * k] = mm(dz.transpose(1, 2), x)  # mm_mat2_backward for W.t(): (gᵀx)
            grads[2 * k + 1] = dz.sum(1)  # addmm's bias broadcast: sum_to over the batch
            if k == 0:
                break
            if x.shape[1] == 1 and x.shape[2] == 1:  # a 1×1 input reads as column-major to
                # mm_mat1_backward, which then forms (W.t() · gᵀ)ᵀ
                da = torch.stack([torch.mm(v.t(), u.t()).t() for v, u in zip(w, dz, strict=True)])
            else:
                da = mm(dz, w)  # mm_mat1_backward: g · W
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
