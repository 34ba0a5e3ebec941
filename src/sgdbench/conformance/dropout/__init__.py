"""Dropout checks: Algorithm 12, its 1/(1 − p) scaling, independent units, train and eval,
and what the author declares (in-place, mask structure).

Each check is a :class:`~sgdbench.conformance._runner.Check`: call it on a
:class:`~sgdbench.conformance.DropoutUnderTest`. Inputs have the implementation's declared rank
(2 by default: a batch of hidden vectors h), the first dimension a batch; every call gets a
fresh copy of its input, so in-place dropouts are judged like the others. Statistical checks
use Bernstein's inequality with a false-alarm budget of 1e-9 per example (:mod:`.._stats`),
under the declared mask structure (:mod:`._masks`).
"""

from sgdbench.conformance.dropout import declared, independence, modes, scaling  # noqa: F401
from sgdbench.conformance.dropout._harness import CHECKS

# The order reports list them in: scaling, then independence, then train/eval, then declared.
ORDER: tuple[str, ...] = ("expectation", "law", "p_one", "keep_rate", "independent_units")
ORDER += ("eval_identity", "train_varies", "seeded")
ORDER += ("inplace", "structure_element", "structure_channel", "structure_sample")
CHECKS.sort(key=lambda check: ORDER.index(check.name))

__all__ = ["CHECKS"]
