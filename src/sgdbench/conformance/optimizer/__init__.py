"""Optimizer checks: Algorithm 11's step, momentum and weight decay, and torch's SGD contract.

Each check is a :class:`~sgdbench.conformance._runner.Check`: call it on an
:class:`~sgdbench.conformance.OptimizerUnderTest`. Gradients are fed, not computed (p.grad is
set to generated tensors), so every trajectory has a known exact value and a derived rounding
bound (:mod:`sgdbench.conformance._oracle`); equality is bitwise only where the implementation
declares ``bitwise=True`` or where two runs of the same implementation must agree.

:mod:`.algorithm` holds the chapter's update, :mod:`.contract` torch's contract around one
step, :mod:`.schedules` and :mod:`.loop` what a training loop relies on across steps
(schedulers, a tensor lr, closures, groups added mid-run, invalid arguments, odd layouts).
"""

from sgdbench.conformance.optimizer import (  # noqa: F401  (they register)
    adaptive,
    algorithm,
    checkpoint,
    contract,
    groups,
    loop,
    precision,
    schedules,
)
from sgdbench.conformance.optimizer._harness import CHECKS

__all__ = ["CHECKS"]
