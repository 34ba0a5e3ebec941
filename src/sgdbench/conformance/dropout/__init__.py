"""Dropout checks: Algorithm 12, its 1/(1 − p) scaling, independent units, train and eval,
what the author declares (in-place, mask structure), and what a training loop relies on
(round trips, p = 0 and 1 with gradients, invalid p, half precision, memory layouts, empty
batches).

Each check is a :class:`~sgdbench.conformance._runner.Check`: call it on a
:class:`~sgdbench.conformance.DropoutUnderTest`. Inputs have the implementation's declared rank
(2 by default: a batch of hidden vectors h), the first dimension a batch; every call gets a
fresh copy of its input, so in-place dropouts are judged like the others. Statistical checks
use Bernstein's inequality with a false-alarm budget of 1e-9 per example (:mod:`.._stats`),
under the declared mask structure (:mod:`._masks`).
"""

from sgdbench.conformance.dropout import (  # noqa: F401  (they register)
    contract,
    declared,
    independence,
    inputs,
    modes,
    scaling,
)
from sgdbench.conformance.dropout._harness import CHECKS

# The order reports list them in: scaling, then independence, then train/eval, then what the
# author declares, then what a training loop relies on (the contract, then the inputs it feeds).
ORDER: tuple[str, ...] = ("expectation", "law", "p_one", "keep_rate", "independent_units")
ORDER += ("eval_identity", "train_varies", "seeded")
ORDER += ("inplace", "structure_element", "structure_channel", "structure_sample")
ORDER += ("round_trip", "p_one_grad", "p_zero", "invalid_p", "low_precision", "layouts", "empty")
CHECKS.sort(key=lambda check: ORDER.index(check.name))

__all__ = ["CHECKS"]
