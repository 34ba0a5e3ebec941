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
  network, on the same operand layouts: ``addmm`` becomes ``baddbmm`` (its CPU kernel,
  aten/src/ATen/native/LinearAlgebra.cpp ``bmm_out_or_baddbmm_``, hands the S products to
  MKL's strided batched GEMM, which gave the per-matrix GEMM's bits on every shape swept
  except those below), the weight gradient is ``gradᵀ·x`` as ``mm_mat2_backward`` forms it for
  ``W.t()``, cross-entropy's gradient is ``nll_loss_backward``'s −1/B at the target through
  ``_log_softmax_backward_data``, ReLU's is ``threshold_backward``;
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

Hand-stacked kernels rather than ``torch.func`` (``vmap(grad(functional_call))``): measured
3–8× cheaper per seed-epoch on the training pass at S = 100 and 10 (results/BENCHMARKS.md,
"Seeds in parallel"), and their layouts are chosen to be the single run's, which vmap's
batching rules do not promise (not checked).

Supported: the :func:`sgdbench.models.mlp` family with ``torch.nn.Dropout`` (any widths, any
p), ``torch.optim.SGD`` with every option of its update (lr, momentum, dampening, Nesterov,
weight decay, maximize), an epoch-wise ``torch.optim.lr_scheduler`` (also one that cycles
momentum), cross-entropy, :class:`~sgdbench.data.Batches` with or without shuffling and with
``drop_last``. Anything else is refused with the argument named, never approximated.
"""

from sgdbench.stacked._net import _Net
from sgdbench.stacked._stack import SGD_OPTIONS, SeedStack, check_optimizer
from sgdbench.stacked._train import BITWISE_ON, SeedRuns, train_seeds

__all__ = [
    "BITWISE_ON",
    "SGD_OPTIONS",
    "SeedRuns",
    "SeedStack",
    "_Net",
    "check_optimizer",
    "train_seeds",
]
