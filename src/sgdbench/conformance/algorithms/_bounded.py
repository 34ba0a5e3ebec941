r"""Exact values with a bound on what an implementation's rounding can make of them.

The adaptive algorithms (Adam, NAdam, RAdam, Lion) are not linear in their inputs as SGD is
(:mod:`sgdbench.conformance._oracle`): they divide by √v and take signs. Each quantity is
carried here as a pair (x, E): x computed in float64 from the fed gradients, E a bound on
|x̃ − x| for x̃ what an implementation computing in a dtype with unit roundoff u may hold. Every
operation adds its own rounding, ``C·u·|operands|`` (C = 8: up to five roundings per line in
any order, a fused multiply-add, a constant rounded to the dtype first), and carries the
errors already in its operands by the operation's worst case over the interval they span:

    a ± b        Ea + Eb
    c·a          |c|·Ea + r_c·|c·a|          (c a scalar formed with relative error r_c)
    a·b          |a|·Eb + |b|·Ea + Ea·Eb
    a / b        (Ea + |a/b|·Eb) / (|b| − Eb)              (∞ where |b| ≤ Eb)
    √a           Ea / (√a + √max(a − Ea, 0))               (exact over [a − Ea, a + Ea])
    max(a, b)    max(Ea, Eb)                               (1-Lipschitz in each)
    sign(a)      0 where |a| > Ea, else 2                  (the rounding may flip it)

plus ``C·tiny`` per operation where a result underflows. None of these assumes an order of
operations, so torch's for-loop, foreach and fused paths, and an implementation that folds the
step size into the denominator, are all inside; an implementation and the float64 oracle
each stay within E of the exact value, so they may differ by 2E (the checks' tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["B", "C", "Units"]

C = 8.0


@dataclass(frozen=True)
class Units:
    """The unit roundoffs in play: ``u`` of the parameter's dtype, ``u_s`` of scalars an
    implementation may keep in float32 tensors (torch keeps ``step`` and NAdam's
    ``mu_product`` as float32 unless the default dtype is float64), ``tiny`` its smallest
    normal (times C)."""

    u: float
    u_s: float
    tiny: float

    @classmethod
    def of(cls, dtype: torch.dtype) -> Units:
        u = torch.finfo(dtype).eps / 2
        return cls(u, max(u, torch.finfo(torch.float32).eps / 2), C * torch.finfo(dtype).tiny)


@dataclass(frozen=True)
class B:
    """A float64 tensor ``x`` and the bound ``e`` on an implementation's error in it."""

    x: Tensor
    e: Tensor

    @classmethod
    def exact(cls, x: Tensor) -> B:
        x = x.to("cpu", torch.float64)
        return cls(x, torch.zeros_like(x))

    def neg(self) -> B:
        return B(-self.x, self.e)

    def add(self, other: B, un: Units, sign: float = 1.0) -> B:
        x = self.x + sign * other.x
        return B(x, self.e + other.e + C * un.u * (self.x.abs() + other.x.abs()) + un.tiny)

    def scale(self, c: float, un: Units, rel: float = 0.0) -> B:
        """c·a, where the scalar c itself was formed with relative error ``rel``."""
        x = c * self.x
        carried = abs(c) * self.e if c else torch.where(self.e.isinf(), self.e, 0.0)
        return B(x, carried + (rel + C * un.u) * x.abs() + un.tiny)

    def plus(self, c: float, un: Units) -> B:
        """a + c for an exact scalar c (ε)."""
        x = self.x + c
        return B(x, self.e + C * un.u * (self.x.abs() + abs(c)) + un.tiny)

    def mul(self, other: B, un: Units) -> B:
        x = self.x * other.x
        e = self.x.abs() * other.e + other.x.abs() * self.e + self.e * other.e
        return B(x, e + C * un.u * x.abs() + un.tiny)

    def div(self, other: B, un: Units) -> B:
        x = self.x / other.x
        room = other.x.abs() - other.e
        e = (self.e + x.abs() * other.e) / room
        e = torch.where(room > 0, e, torch.full_like(e, float("inf")))
        return B(x, e + C * un.u * x.abs() + un.tiny)

    def sqrt(self, un: Units) -> B:
        x = self.x.clamp_min(0).sqrt()
        low = (self.x - self.e).clamp_min(0).sqrt()
        e = torch.where(x + low > 0, self.e / (x + low), self.e.sqrt())
        return B(x, e + C * un.u * x + un.tiny)

    def maximum(self, other: B) -> B:
        return B(torch.maximum(self.x, other.x), torch.maximum(self.e, other.e))

    def lerp(self, end: B, weight: float, un: Units) -> B:
        """(1 − w)·a + w·end, as torch's lerp_ (or mul_ then add_) computes it."""
        x = self.x + weight * (end.x - self.x)
        e = abs(1 - weight) * self.e + abs(weight) * end.e
        return B(x, e + C * un.u * (self.x.abs() + end.x.abs()) + un.tiny)

    def sign(self) -> B:
        """sign(a), exact where |a| exceeds its bound; where it does not, rounding may give
        either sign (or 0): an error of up to 2."""
        ambiguous = self.x.abs() <= self.e
        return B(self.x.sign(), torch.where(ambiguous, 2.0, 0.0).to(torch.float64))


def power_rel(beta: float, t: int, un: Units) -> float:
    """The relative error bound of 1 − βᵗ formed in scalar arithmetic: βᵗ carries about t
    roundings (repeated multiplication in the worst case) and the subtraction cancels by
    βᵗ/(1 − βᵗ)."""
    bt = beta**t
    return float(C * un.u_s * (1 + (t + 1) * bt / max(1 - bt, 1e-300)))
