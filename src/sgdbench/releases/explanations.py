"""Why a cell of ``results/RELEASES.md`` differs from its left neighbour: hand-written, each
citing torch's source at the two releases (file:line at the tag), the pull request or release
note, or a minimal example that was run. :mod:`.render` refuses to finish while a differing
cell has none, and reports an explanation that covers no cell as stale."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXPLANATIONS", "Explanation"]


@dataclass(frozen=True)
class Explanation:
    """``rows`` and ``release`` are patterns (``*`` any text) over the differing cells' row and
    release label (the release where the cell changed); ``text`` says why."""

    title: str
    rows: str
    release: str
    text: str


_FUSED = Explanation(
    "SGD's fused path arrives (2.2.2 → 2.4.1)",
    "torch-sgd-fused · *",
    "2.4.1",
    """
torch 2.2.2's `torch.optim.SGD` has no `fused` argument: its signature is `(params, lr,
momentum, dampening, weight_decay, nesterov, *, maximize, foreach, differentiable)`
(torch/optim/sgd.py:11-13 at 2.2.2; the probe read the same list from the installed
release), so the fused path is missing and every one of its checks is n/a. 2.4.1 takes
`fused: Optional[bool] = None` (torch/optim/sgd.py:34 at 2.4.1), dispatches to `_fused_sgd`
(:294-295) and lists `"cpu"` among the devices with fused optimizer kernels
(torch/utils/_foreach_utils.py:12-14 at 2.4.1), so on this CPU the path exists and runs:
its checks hold as the other paths' do (the decoupled-decay row is the same fact as theirs:
torch's decay is coupled), except `none_grad_untouched`, explained next. In between, 2.3.1
already takes `fused` (torch/optim/sgd.py:13 at 2.3.1) but lists only `"cuda"`, `"xpu"` and
the private-use backend as fused devices (torch/utils/_foreach_utils.py:12-14 at 2.3.1): on
a CPU the path first runs in 2.4 (read from the 2.3.1 wheel's source; 2.3 was not installed).
""",
)
_FUSED_NONE_GRAD = Explanation(
    "The fused path crashes on a parameter that sat out the first step (2.4.1 on)",
    "torch-sgd-fused · optimizer.none_grad_untouched",
    "2.4.1",
    """
The check lets parameter 0 have `grad = None` on step 1 and a gradient later (a frozen or
unused branch), with momentum. `_fused_sgd` allocates momentum buffers only when *all* are
missing (`is_first_step = all(t is None for t in momentum_buffer_list) and not
no_momentum_buffer`, torch/optim/sgd.py:471-476 at 2.4.1). On step 2 the other parameters
have buffers and parameter 0 has `None`, which goes on to `torch._fused_sgd_`: it raises
`TypeError: expected Tensor as element 0 in argument 2, but got NoneType` (the message the
check recorded in every release from 2.4.1 to 2.15.0, whose sgd.py:506-511 has the same
lines). The for-loop and foreach paths create a missing buffer per parameter and hold.
""",
)

# Instruction counts. The evidence for each: the per-object and top-function split of the
# SGD-32 Batches epoch (releases.json, "objects"/"functions"), Python calls per step
# (benchmarks/pycalls.py), and callgrind caller trees of one epoch per release (a second and
# third pass of the same releases, `callgrind_annotate --tree=caller`), read against torch's
# Python sources at each release (file:line below) and pytorch/pytorch's C++ sources.
_I_2_4 = Explanation(
    "2.2.2 → 2.4.1: a step through Batches 6 % cheaper (log-softmax's memset, dynamo's wrapper)",
    "* Batches",
    "2.4.1",
    """
Per SGD-32 step −66 k instructions (1,031 k → 964 k), of which `libc` −33 k and `libpython`
−48 k, `libtorch_cpu` +11 k; a GD epoch (one step) −65 k: the change is in the step itself.
(1) `memset`: 36 k per step in 2.2.2, 4 k in 2.4.1. Its caller in 2.2.2 is the CPU
log-softmax kernel under `cross_entropy`, `_vec_log_softmax_lastdim<float>(float*, float*,
…)` (820 k of the epoch's 911 k memset instructions, 100 calls); 2.4.1's kernel has a new
signature (`const float*` input; aten/src/ATen/native/cpu/SoftMaxKernel.cpp sizes its chunk
from the input, `min(GRAIN_SIZE / (sizeof · dim), outer_size)`, instead of a fixed
`CHUNK_SIZE = 128 / sizeof · Vec::size()`) and calls no memset. (2) Python: 297 → 249
calls per step. `Optimizer.zero_grad` is `@torch._disable_dynamo` (torch/optim/optimizer.py:788
at 2.2.2), whose wrapper built `torch._dynamo.disable(fn)` anew at every call
(torch/_compile.py:20-24 at 2.2.2: dynamo's `DisableContext`, `innermost_fn`, `skipfiles`,
`inspect` checks, ≈ 45 calls); 2.4.1 caches it on the function (`fn.__dynamo_disable`,
torch/_compile.py:24-29 at 2.4.1). Against that, 2.4.1 adds ≈ 50 pytree calls per step:
`torch.ops.profiler._record_function_exit` takes a script object, so its packet checks
`_must_dispatch_in_python` → `pytree.tree_any` (torch/_ops.py:1059 and :943-949 at 2.4.1) on
each `record_function` exit that `Optimizer.step` and `zero_grad` open every step.
""",
)

_I_2_6 = Explanation(
    "2.4.1 → 2.6.0: a step 10 % dearer (dynamo's disable wrapper, autocast state in autograd)",
    "* Batches",
    "2.6.0",
    """
Per SGD-32 step +98 k (964 k → 1,062 k): `libpython` +62 k, `libtorch_cpu` +22 k,
`__tls_get_addr` +9 k; a GD epoch +106 k. (1) `Optimizer.zero_grad` runs through dynamo's
disable wrapper every step. 2.4.1's wrapper calls `set_eval_frame(callback)` and restores it
(torch/_dynamo/eval_frame.py:596-601 at 2.4.1); 2.6.0's calls `_maybe_set_eval_frame(
_callback_from_stance(...))` and `set_skip_guard_eval_unsafe(...)` on entry and exit
(:738-747 at 2.6.0), and `_maybe_set_eval_frame` runs a function-local `from
torch._C._dynamo.eval_frame import set_eval_frame` and `justknobs_check(...)` each time
(:110-121). Python calls per step 249 → 267 (pycalls: `_maybe_set_eval_frame` 2,
`justknobs_check` 2, `set_skip_guard_eval_unsafe` 2, stance lookups); import statements run
per epoch 300 → 450 (`import_ensure_initialized`), whose cost 38 k → 269 k per epoch; and
Python raises and swallows 34 AttributeErrors per step instead of 10 (`PyErr_Format` from
`_PyObject_GenericGetAttrWithDict` 250 → 700 per epoch, from `module_getattro` 0 → 150):
`PyUnicode_FromFormatV` alone, formatting their messages, is +9.6 k per step. (2) The
autograd engine restores the caller's `ThreadLocalState` for each node it runs (44 per
step); in 2.6.0 that state carries the autocast dtype of *every* device type and
`setThreadLocalState` loops over them calling `at::autocast::set_autocast_dtype` (25,200
calls per epoch, ≈ 23 per restore; aten/src/ATen/ThreadLocalState.cpp, the fix for
pytorch/pytorch#125186, "multithreaded autograd backward doesn't respect autocast dtype"):
`setThreadLocalState` +7 k and `set_autocast_dtype` +7 k per step, and the thread-local
lookups behind them are the +9 k in `__tls_get_addr`.
""",
)

_DL_2_4 = Explanation(
    "2.2.2 → 2.4.1: the DataLoader's per-sample views dearer (SymInt checks, ViewFunc)",
    "GD epoch, DataLoader*",
    "2.4.1",
    """
+862 k per GD epoch through the DataLoader (22.74 M → 23.60 M), though the step itself got
cheaper (above). An epoch indexes the dataset 800 times (`TensorDataset.__getitem__`:
`X[i]`, `y[i]`, 1,600 `select` views) and collates them (`torch.stack`: an `unsqueeze` view
of each). Python calls per epoch barely move (5,262 → 5,298); the callgrind profile of the
epoch does: `libc10` +437 k, all symbolic-int arithmetic on the view paths
(`SymInt::maybe_as_int` +125 k, `SymInt::operator-` +122 k, `sym_eq`/`sym_gt`/`sym_le` each
+58 k: 36 more instructions for each of the 1,600 views), `libtorch_cpu` +365 k:
`unsqueeze` +70 k, `torch::autograd::as_view` taking a `std::unique_ptr<ViewFunc>` where
2.2.2's took a `std::function<Tensor(const Tensor&)>` (the two profiles' symbols), and
`AutogradMeta` construction (+73 k). The SGD-32 step through the DataLoader moves +0.9 %
(the step's −66 k against 32 samples' views): not marked.
""",
)

_DL_2_6 = Explanation(
    "2.4.1 → 2.6.0: through the DataLoader, the dearer step against a cheaper BatchSampler",
    "* DataLoader*",
    "2.6.0",
    """
The SGD-32 step through the DataLoader is +97 k (1,971 k → 2,068 k): the step's own +98 k
explained above, less a little. The GD epoch is −237 k (23.60 M → 23.37 M): its one step
is +106 k dearer, but its 800 samples are batched in fewer Python bytecodes. The callgrind
profile of the epoch: `libpython` −189 k, all in the interpreter loop
(`_PyEval_EvalFrameDefault` −261 k), with Python calls per epoch nearly unchanged (5,298 →
5,332). The cause is `BatchSampler.__iter__` (drop_last=False): 2.4.1 assigns each index in
a Python loop (`for idx in self.sampler: batch[idx_in_batch] = idx; idx_in_batch += 1; …`,
torch/utils/data/sampler.py:285-296 at 2.4.1), 2.6.0 slices the sampler in C
(`batch = [*itertools.islice(sampler_iter, self.batch_size)]`, :344-347 at 2.6.0): ≈ 300
fewer instructions per sample, ≈ 8 k per SGD-32 step.
""",
)

_I_2_11 = Explanation(
    "2.9.1 → 2.11.0: a step 7 % cheaper (no pytree walk per profiler op, no JK wrapper)",
    "* Batches",
    "2.11.0",
    """
Per SGD-32 step −76 k (1,064 k → 988 k), `libpython` −56 k, `libtorch_cpu` −12 k; a GD
epoch −70 k. Python calls per step 305 → 210 (pycalls). (1) The profiler's
`_record_function_exit` op (taking a script object, opened and closed by `Optimizer.step`
and `zero_grad` every step) checks `_must_dispatch_in_python`: in 2.9.1 that is
`pytree.tree_any(..., (args, kwargs))` (torch/_ops.py:1128-1134 at 2.9.1), whose walk calls
`is_namedtuple_class` on each tuple, and `getattr(cls, "_fields", None)` on the plain
`tuple` type raises and swallows an AttributeError (torch/utils/_pytree.py:675-683 at
2.9.1): 400 `PyErr_Format` calls per epoch from `type_getattro`, 0 in 2.11.0. 2.11.0 walks
the arguments with a plain recursive `_contains_fake_script_object` (torch/_ops.py:1130-1147
at 2.11.0): −56 pytree calls, `issubclass`, `isinstance` per step. (2) dynamo's disable
wrapper around `zero_grad` calls `_maybe_set_eval_frame` twice a step; in 2.9.1 that is a
Python function calling `justknobs_check` first (torch/_dynamo/eval_frame.py:148-157 at
2.9.1), in 2.11.0 it *is* the C `set_eval_frame` when `DISABLE_JUSTKNOBS` (:155-156 at
2.11.0): −4 calls per step. The interpreter's own frame work (`_PyEval_EvalFrameDefault`)
is −29 k per step of the −56 k.
""",
)

_I_2_9 = Explanation(
    "2.6.0 → 2.9.1: per-sample views checked with plain integers; log-softmax restructured",
    "*",
    "2.9.1",
    """
The profile of one GD epoch through the DataLoader (−1.13 M, 23.37 M → 22.23 M): `libc10`
−1.27 M, all symbolic-int arithmetic on the 1,600 per-sample `select` views and the stack's
`unsqueeze` views (`SymInt::maybe_as_int` −521 k, `sym_lt`/`sym_gt`/`sym_le` −403 k,
`SymInt::operator-` −122 k), replaced in `libtorch_cpu` (+460 k) by integer paths that did
not appear before (`checkInBoundsForStorage<long>` +164 k, `computeStorageNbytes` +180 k,
`setStrided<long>`), and `libtorch_python` −314 k (`THPVariable_NewWithVar` with a new
signature, `PyObjectSlot::check_pyobj` gone: −105 k). The SGD-32 step through the
DataLoader (32 samples) is −33 k, −1.6 %. Through `Batches` the step moves +0.2 % (not
marked): Python calls per step 267 → 305, pytree's `_is_namedtuple_instance` replaced by
`is_namedtuple_class` (+`issubclass`, `isinstance`, torch/utils/_pytree.py:675-683 at 2.9.1),
which costs instructions the dropped wrappers save. The GD epoch through `Batches` is −21 k
(−1.2 %): its one step's log-softmax over 800 rows, where 2.9.1's kernel is split into
`serial_vec_log_softmax_lastdim_range<float>` (97.6 k in the GD-DataLoader epoch) for the
former lambda's 124.8 k (aten/src/ATen/native/cpu/SoftMaxKernel.cpp); at 32 rows the saving
is below the 1 % mark.
""",
)

_DL_2_11 = Explanation(
    "2.9.1 → 2.11.0: through the DataLoader, the cheaper step and cheaper per-sample views",
    "* DataLoader*",
    "2.11.0",
    """
The SGD-32 step through the DataLoader is −129 k (2,035 k → 1,906 k): the step's −76 k
explained above, and 32 samples' share of the per-sample savings below. The GD epoch is
−562 k (22.26 M → 21.67 M); its profile: `libtorch_cpu` −512 k, in the per-sample views
and the collation (the CPU `as_strided` wrapper gone from the `select` path, −130 k;
copying and erasing `SymInt` vectors −280 k; `refresh_contiguous` −95 k; the
`torch.stack` → `cat` kernel's own cost −117 k), `libtorch_python` −69 k (a tensor's Python
wrapper is made by `THPVariable_WrapWithType` and freed through `subtype_dealloc`, where
2.9.1 ran `THPVariable_NewWithVar`, `THPVariable_subclass_clear`/`_dealloc` and
`isResurrectable`), `__tls_get_addr` −92 k. Python calls per epoch 5,399 → 5,206: the
same pytree walk per profiler op as above (−28 each of `tree_iter`, `is_namedtuple_class`,
`_get_node_type`).
""",
)

_DL_2_13 = Explanation(
    "2.11.0 → 2.13.0: through the DataLoader, fewer SymInt copies per view",
    "* DataLoader*",
    "2.13.0",
    """
The GD epoch through the DataLoader is −534 k in its profile (−564 k in the session's
counts, 21.70 M → 21.13 M); the SGD-32 step −33 k (1,906 k → 1,872 k), of which the step
through `Batches` is −7 k (−0.7 %, not marked) and the rest its 32 samples. Python calls are
flat (5,206 → 5,223 per GD epoch). `libtorch_cpu` −397 k: the per-sample `select` views no
longer copy `SymInt`s (`SymInt::SymInt(const SymInt&)` −359 k), and `as_strided`'s
bookkeeping was reorganised (`setStrided<long>` −158 k, replaced by `checkAsStridedArgs<long>`
+57 k and a dearer `as_strided_tensorimpl` +75 k); the GD step's log-softmax over 800 rows
is cheaper forward (−32 k) and backward (−23 k). `libc` −128 k (`_int_malloc` −87 k,
`memcpy` −77 k).
""",
)

_I_2_15 = Explanation(
    "2.13.0+cpu → 2.15.0: a step 1.4 % cheaper (record_function and dynamo's wrapper trimmed)",
    "SGD-32 step, Batches",
    "2.15.0",
    """
The left neighbour is the CPU wheel of 2.13.0, 2.15.0 a CUDA build; 2.13.0's two builds
count within 0.6 % of each other (table above), so the −14 k per step (975 k → 962 k) is the
release's. `libpython` −9 k; Python calls per step 219 → 211 (pycalls): `record_function
.__enter__`, which `Optimizer.step` and `zero_grad` enter every step, no longer calls
`_maybe_cupti_monitor()` and `push_user_annotation` (torch/autograd/profiler.py:918-930 at
2.13.0; gone at 2.15.0), and dynamo's disable wrapper around `zero_grad` now installs a
callback only when the stance gives one (`if callback is not None:
_maybe_set_eval_frame(callback)`, torch/_dynamo/eval_frame.py:1527-1537 at 2.15.0): C
`set_eval_frame` calls 4 → 1 per step.
""",
)

_I_2_13 = Explanation(
    "2.11.0 → 2.13.0: the 800-row GD step 8 % cheaper (memcpy, log-softmax)",
    "GD epoch, Batches",
    "2.13.0",
    """
−141 k per GD epoch (1,663 k → 1,522 k) while an SGD-32 step moves −0.7 %: the saving
grows with the batch. A fourth pass profiled one GD epoch through `Batches` under 2.11.0
(fresh environment) and under the 2.13.0 CPU wheel (the dev environment; the two 2.13.0
builds count within 0.4 % here): −149 k, of which `memcpy` −76 k (80 k → 4 k; its callers
were not recorded in that pass, so which copy of the 800-row batch went is not shown), the
log-softmax kernel forward −32 k (`serial_vec_log_softmax_lastdim_range<float>`) and its
backward −23 k (`log_softmax_backward_lastdim_kernel_impl`); `nll_loss`'s forward moved
from `nll_loss_out_frame` into `structured_nll_loss_forward_out_cpu` at the same cost.
""",
)

_DL_2_15 = Explanation(
    "2.13.0+cpu → 2.15.0: through the DataLoader, views' sizes kept off the heap",
    "* DataLoader*",
    "2.15.0",
    """
The GD epoch through the DataLoader is −648 k (21.12 M → 20.47 M; the profile: −636 k), the
SGD-32 step −46 k (1,870 k → 1,824 k), of which −14 k is the step itself (above). The
profile of the GD epoch: `libc` −386 k, fewer heap allocations (`malloc` −127 k, `free`
−67 k, `_int_free` −207 k, `operator new` −42 k), because the per-sample `select` views'
sizes are held in a `c10::SmallVector<SymInt, 5>` (inline storage; +157 k to build, +94 k to
destroy) where 2.13.0 built and freed a `std::vector<SymInt>` (its destructor −101 k);
`select_symint` itself −110 k. `libtorch_python` −622 k against `libtorch_cpu` +501 k is
code moving between the two libraries, not cost: the same ±600 k swap separates 2.13.0's CUDA
and CPU builds, whose totals differ by 20 k. The left neighbour is the CPU wheel; 2.13.0's
CUDA build is within 0.2 % of it on both DataLoader rows.
""",
)

EXPLANATIONS: tuple[Explanation, ...] = (
    *(_FUSED, _FUSED_NONE_GRAD),
    *(_I_2_4, _DL_2_4),
    *(_I_2_6, _DL_2_6),
    *(_I_2_9, _I_2_11, _DL_2_11),
    *(_I_2_13, _DL_2_13),
    *(_I_2_15, _DL_2_15),
)
