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
torch's decay is coupled), except `none_grad_untouched`, explained next. Between the two
tables' releases, 2.3 is where `fused` first appears; it was not installed here.
""",
)
_FUSED_NONE_GRAD = Explanation(
    "the fused path crashes on a parameter that sat out the first step (from 2.4.1 on)",
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

EXPLANATIONS: tuple[Explanation, ...] = (_FUSED, _FUSED_NONE_GRAD)
