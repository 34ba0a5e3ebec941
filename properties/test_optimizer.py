"""Algorithm 11 ("θ ← θ − η_t∇L(B, θ)"), "we can integrate momentum in this optimization
scheme", and weight decay as L2 ("optim.SGD(…, weight_decay=0.1) adds an L2 regularization"),
with torch.optim.SGD's documented contract around them.

The checks are :data:`sgdbench.conformance.OPTIMIZER_CHECKS`, one function each in
``src/sgdbench/conformance/optimizer/`` (``algorithm.py``, ``contract.py``) with the sentence
it checks in its ``cites``. Here they run on the reference SGD and every torch.optim.SGD path
(declared bitwise where they are), or on ``--optimizer MODULE:ATTR``; ``properties/conftest.py``
parametrizes ``conformance``.
"""

from __future__ import annotations

from typing import Any

from sgdbench.conformance import assert_result


def test_optimizer(conformance: tuple[Any, Any, str, str]) -> None:
    """One check on one optimizer, device and dtype: holds, or fails with its example."""
    impl, check, device, dtype = conformance
    assert_result(check(impl, device=device, dtype=dtype))
