"""Reference implementations of the chapter's algorithms, readable against it line by line.

- :class:`SGD` — Algorithm 11 with momentum, dampening, Nesterov, weight decay (``sgd.py``)
- :func:`dropout`, :class:`Dropout` — Algorithm 12 (``dropout.py``)
- :func:`l2_penalty` — the loss weight decay stands for (``penalty.py``)
"""

from sgdbench.reference.dropout import Dropout, dropout
from sgdbench.reference.penalty import l2_penalty
from sgdbench.reference.sgd import SGD

__all__ = ["SGD", "Dropout", "dropout", "l2_penalty"]
