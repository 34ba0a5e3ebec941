"""The implementation under test: one place that names it, says what it takes and declares.

An optimizer is a factory ``f(params, lr=…, momentum=…, …) -> torch.optim.Optimizer`` (an
``Optimizer`` subclass is one); a dropout is a function ``f(x, p, training)`` or an
``nn.Module`` class built as ``cls(p)``. Both can be named as ``MODULE:ATTR``.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import Tensor, nn

from sgdbench.conformance.algorithms import ALGORITHMS, Algorithm
from sgdbench.conformance.algorithms.sgd import NEUTRAL as NEUTRAL
from sgdbench.conformance.algorithms.sgd import PROBES as _SGD_PROBES

# A working value of SGD's optional hyper-parameters, and of the path flag a check may toggle.
PROBES: dict[str, dict[str, Any]] = {**_SGD_PROBES, "foreach": {"foreach": True}}

__all__ = [
    "HYPERPARAMETERS",
    "DropoutUnderTest",
    "OptimizerUnderTest",
    "UsageError",
    "load",
    "parse_kwargs",
]

# What the SGD checks generate themselves (each algorithm's: Algorithm.names). --kwargs may set
# any of them but lr as the base configuration (a momentum-required optimizer: {"momentum": 0.9}).
HYPERPARAMETERS = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
# A working value of what the adaptive algorithms need (taken, or shown in param_groups).
_NEEDS: dict[str, dict[str, Any]] = {"betas": {"betas": (0.9, 0.99)}, "eps": {"eps": 1e-6}}
# What a check may toggle beside them: the implementation's path flag.
PATH_FLAGS = ("foreach",)
WEIGHT_DECAY_FORMS = ("coupled", "decoupled")
DROPOUT_RANKS = (1, 2, 3, 4, 5)


class UsageError(ValueError):
    """Bad input to the conformance suite: it names the argument and the allowed values."""


def load(target: str, argument: str) -> Any:
    """Import ``MODULE:ATTR`` (ATTR may be dotted), or UsageError naming ``argument``."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(
            f"{argument} must be MODULE:ATTR (e.g. torch.optim:SGD), but got {target!r}"
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:  # an import may fail in any way; name it
        raise UsageError(
            f"{argument} {target!r}: cannot import {module_name!r}: {type(e).__name__}: {e}"
        ) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"{argument} {target!r}: {module_name} has no {attr!r}") from None
    return obj


def parse_kwargs(text: str, argument: str = "--kwargs") -> dict[str, Any]:
    """A JSON object of constructor keyword arguments, or UsageError."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{argument} must be a JSON object, but got {text!r} ({e.msg})") from None
    if not isinstance(value, dict):
        raise UsageError(f"{argument} must be a JSON object, but got {type(value).__name__}")
    return value


def _name(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or "?"
    return f"{module}:{getattr(obj, '__qualname__', repr(obj))}"


def _call(obj: Any) -> str:
    """``obj``'s MODULE:ATTR when that imports back to it, else its repr (for snippets)."""
    name = _name(obj)
    try:
        return name if load(name, "target") is obj else repr(obj)
    except UsageError:
        return repr(obj)


@dataclass(frozen=True)
class OptimizerUnderTest:
    """An optimizer factory and what its author declares about it.

    ``kwargs`` are the base configuration every construction starts from: a path flag such as
    ``{"fused": True}``, or a hyper-parameter the optimizer cannot do without (a heavy-ball SGD
    that refuses ``momentum=0``: ``{"momentum": 0.9}``); each check overrides what it sets.
    ``algorithm`` is the update it declares (:data:`sgdbench.conformance.algorithms.ALGORITHMS`:
    ``"sgd"``, ``"adam"``, ``"adamw"``, ``"nadam"``, ``"radam"``, ``"lion"``): the checks judge
    it by that algorithm's float64 oracle. ``weight_decay`` is the form it implements:
    ``"coupled"`` (torch.optim.SGD and Adam: λθ is added to the gradient, ≡ the algorithm on
    L + (λ/2)‖θ‖²) or ``"decoupled"`` (SGDW, AdamW, Lion: θ is shrunk by ηλθ outside the
    gradient); None: the algorithm's own (coupled for SGD, Adam, NAdam and RAdam, decoupled
    for AdamW and Lion). ``bitwise`` declares bit-for-bit equality with the algorithm's torch
    class on its for-loop path.

    What it accepts is *seen*, not assumed: :meth:`accepts` builds it and takes one step with
    the arguments a check would pass, and remembers the answer. A ``**kwargs`` constructor is
    taken to accept an argument only when such a probe goes through.
    """

    factory: Callable[..., torch.optim.Optimizer]
    name: str = ""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    weight_decay: Literal["coupled", "decoupled"] | None = None
    bitwise: bool = False
    algorithm: str = "sgd"
    _seen: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not callable(self.factory):
            raise UsageError(f"optimizer {self.factory!r} is not callable")
        if inspect.isclass(self.factory) and not issubclass(self.factory, torch.optim.Optimizer):
            raise UsageError(
                f"optimizer {_name(self.factory)} is a class but not a torch.optim.Optimizer"
            )
        if not isinstance(self.kwargs, Mapping):
            raise UsageError(f"kwargs must be a mapping, but got {type(self.kwargs).__name__}")
        if "lr" in self.kwargs:
            raise UsageError(
                "kwargs may not set ['lr']: every check chooses its own step size; give the "
                'base configuration without it (e.g. {"momentum": 0.9} or {"fused": true})'
            )
        if self.algorithm not in ALGORITHMS:
            raise UsageError(
                f"algorithm must be one of {list(ALGORITHMS)}, but got {self.algorithm!r}"
            )
        algo = ALGORITHMS[self.algorithm]
        if self.weight_decay is None:
            object.__setattr__(self, "weight_decay", algo.forms[0])
        if self.weight_decay not in WEIGHT_DECAY_FORMS:
            raise UsageError(
                f"weight_decay must be one of {list(WEIGHT_DECAY_FORMS)}, "
                f"but got {self.weight_decay!r}"
            )
        if self.weight_decay not in algo.forms:
            other = {"coupled": "adam", "decoupled": "adamw"}[self.weight_decay]
            hint = f"; declare algorithm {other!r}" if algo.name in ("adam", "adamw") else ""
            raise UsageError(
                f"weight_decay {self.weight_decay!r} is not {algo.title}'s: {algo.title} "
                f"decays {algo.forms[0]}{hint}"
            )
        if not self.name:
            extra = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
            object.__setattr__(self, "name", _name(self.factory) + (f"({extra})" if extra else ""))

    @property
    def algo(self) -> Algorithm:
        """The declared algorithm."""
        return ALGORITHMS[self.algorithm]

    def missing(self) -> list[str]:
        """The algorithm's required hyper-parameters (Adam's betas and eps) the factory neither
        takes nor shows in ``param_groups``: it cannot be the declared algorithm."""
        if not self.algo.needs:
            return []
        group = self._default_group()
        return [n for n in self.algo.needs if self._parameter(n) is None and n not in group]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without what was seen (a signature does not pickle; a rank probes anew)."""
        return {**self.__dict__, "_seen": {}}

    # ----------------------------------------------------------------- what it takes

    def _parameter(self, argument: str) -> inspect.Parameter | bool | None:
        """The signature's parameter named ``argument``; True: only **kwargs could take it;
        None: the signature has neither (or there is no signature)."""
        if "signature" not in self._seen:
            try:
                self._seen["signature"] = inspect.signature(self.factory).parameters
            except (TypeError, ValueError):  # no signature (a builtin): probe it
                self._seen["signature"] = None
        params = self._seen["signature"]
        if params is None:
            return True
        if argument in params:
            return params[argument]  # type: ignore[no-any-return]
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return True
        return None

    def takes(self, argument: str) -> bool:
        """Whether the factory takes ``argument``: named in its signature, or, where only
        ``**kwargs`` could take it, seen to accept a working value (:data:`PROBES`) and to
        record it in ``param_groups``."""
        found = self._parameter(argument)
        if found is None:
            return False
        if found is not True:
            return True
        table = {**PROBES, **self.algo.probes, **_NEEDS}
        probe = table.get(argument, {argument: self.algo.neutral.get(argument)})
        if self.accepts(lr=0.1, **probe) is not None:
            return False
        # **kwargs that swallow unknown keys without a word (pytorch_optimizer's AccSGD given
        # momentum): taken only if the optimizer records the value, as torch's record theirs.
        group = self._group(lr=0.1, **probe)
        return group is None or _same(group.get(argument, UNKNOWN), probe[argument])

    def default(self, argument: str) -> Any:
        """The value ``argument`` has when a check does not pass it: the base kwargs', else
        what the optimizer records in ``param_groups`` (torch's convention), else the
        signature's default; :data:`UNKNOWN` when none says."""
        if argument in self.kwargs:
            return self.kwargs[argument]
        group = self._default_group()
        if argument in group:
            return group[argument]
        found = self._parameter(argument)
        if isinstance(found, inspect.Parameter) and found.default is not found.empty:
            return found.default
        return UNKNOWN

    def _default_group(self) -> dict[str, Any]:
        """param_groups[0] of the optimizer built with the base kwargs alone (remembered)."""
        return self._group(lr=0.1) or {}

    def _group(self, **hyper: Any) -> dict[str, Any] | None:
        """param_groups[0] (without params) of the optimizer built with ``hyper``; None when
        it cannot be built or keeps no param_groups dicts (remembered)."""
        key = ("group", *sorted((k, repr(v)) for k, v in hyper.items()))
        if key not in self._seen:
            group = None
            try:
                opt = self.make([nn.Parameter(torch.zeros(2))], **hyper)
                first = opt.param_groups[0]
                if isinstance(first, dict):
                    group = {k: v for k, v in first.items() if k != "params"}
            except Exception:  # a constructor that needs more: nothing recorded
                pass
            self._seen[key] = group
        return self._seen[key]  # type: ignore[no-any-return]

    def accepts(self, **hyper: Any) -> str | None:
        """None when the factory builds an optimizer with the base kwargs and ``hyper`` that
        takes one step on a fed gradient; else what it refused, and how. Remembered."""
        key = ("accepts", *sorted((k, repr(v)) for k, v in hyper.items()))
        if key not in self._seen:
            self._seen[key] = self._probe(hyper)
        return self._seen[key]  # type: ignore[no-any-return]

    def _probe(self, hyper: dict[str, Any]) -> str | None:
        """Build it with ``hyper`` and take one step. A constructor that raises refuses. A step
        that raises refuses only with NotImplementedError (it says it does not support them)
        or where the suite added a neutral value (μ = 0, τ = 0, …) the user did not give: an
        error the implementation makes on arguments it accepted is for the checks to report.
        """
        import warnings

        args = ", ".join(f"{k}={v!r}" for k, v in hyper.items())
        param = nn.Parameter(torch.ones(2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                opt = self.make([param], **hyper)
            except Exception as e:
                return f"refuses {args or 'its base configuration'}: {_said(e)}"
            try:
                for g in (1.0, -2.0):  # two steps: a first step is often a special case
                    param.grad = torch.full((2,), g)
                    opt.step()
            except Exception as e:
                off = self.algo.neutral
                added = [
                    k
                    for k, v in hyper.items()
                    if k in off and k not in self.kwargs and repr(v) == repr(off[k])
                ]
                if isinstance(e, NotImplementedError) or added:
                    return f"cannot step with {args or 'its base configuration'}: {_said(e)}"
        return None

    def refuses(self, **hyper: Any) -> str | None:
        """Why the factory refuses these arguments (None if it takes them and steps with them)."""
        missing = [a for a in hyper if a != "lr" and self._parameter(a) is None]
        if missing:
            return "takes no " + " and no ".join(f"`{a}`" for a in missing) + " argument"
        return self.accepts(**hyper)

    def make(self, params: Any, **hyper: Any) -> torch.optim.Optimizer:
        """Build the optimizer with the base kwargs and the check's hyper-parameters.

        An exception the constructor raises is marked as provoked by the suite's arguments
        (``exc.sgdbench_built`` holds them): the runner reports it as a harness error, never
        as the implementation failing.
        """
        built = {**self.kwargs, **hyper}
        try:
            return self.factory(params, **built)
        except Exception as e:
            with contextlib.suppress(AttributeError):  # an exception type with __slots__
                e.sgdbench_built = built  # type: ignore[attr-defined]
            raise

    def spec(self) -> dict[str, Any]:
        """What :func:`sgdbench.conformance.replay` needs to build it again."""
        return {
            "optimizer": _call(self.factory),
            "kwargs": dict(self.kwargs),
            "weight_decay": self.weight_decay,
            "bitwise": self.bitwise,
            "algorithm": self.algorithm,
        }


def _same(a: Any, b: Any) -> bool:
    """``a == b`` for plain numbers and flags (0 == 0.0, but not 0 == False)."""
    if not isinstance(a, (bool, int, float)) or isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def _said(e: BaseException) -> str:
    """``Type: message`` on one line, shortened."""
    text = " ".join(str(e).split()) or type(e).__name__
    return f"{type(e).__name__}: {text if len(text) <= 300 else text[:300] + ' …'}"


class _FunctionalDropout(nn.Module):
    """A dropout function ``f(x, p, training, **kwargs)`` as a layer, as users wrap one."""

    def __init__(self, fn: Callable[..., Tensor], p: float, kwargs: Mapping[str, Any]) -> None:
        super().__init__()
        self.fn, self.p, self.kwargs = fn, p, dict(kwargs)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.fn(x, self.p, self.training, **self.kwargs)
        return out


DROPOUT_STRUCTURES = ("element", "channel", "sample")
# What the checks generate themselves; dropout kwargs may not fix them.
DROPOUT_ARGUMENTS = ("p", "training")


def _fresh(x: Tensor) -> Tensor:
    """A copy of ``x`` in its own storage with the same shape and strides (so a non-contiguous
    or channels_last input stays one), differentiable: an in-place dropout writes into the copy,
    never into the caller's tensor, and a leaf that requires grad can be copied and then
    modified. An expanded ``x`` (a stride 0) is copied contiguous: writing into it is refused."""
    if any(st == 0 and n > 1 for st, n in zip(x.stride(), x.shape, strict=True)):
        return x.clone(memory_format=torch.contiguous_format)
    fresh = torch.empty_strided(x.shape, x.stride(), dtype=x.dtype, device=x.device)
    return fresh.copy_(x)


@dataclass(frozen=True)
class DropoutUnderTest:
    """A dropout function ``f(x, p, training, **kwargs)`` or an ``nn.Module`` class built as
    ``cls(p, **kwargs)``, and what its author declares about it.

    ``rank`` is the number of dimensions of the inputs it is given (2: a batch of hidden
    vectors, Algorithm 12's h; 4 for a Dropout2d, 5 for a Dropout3d); ``kwargs`` are constant
    constructor arguments for a class (``{"block_size": 3}``), call arguments for a function;
    ``bitwise`` declares that kept units are exactly x times the dtype's rounding of
    1/(1 − p), as torch's kernels give; ``inplace`` that it writes its output into its input
    (torch.nn.Dropout's ``inplace=True``); ``structure`` which units share one draw:

    - ``"element"``: Algorithm 12, "sample u ~ U([0, 1])^d": one draw per unit (the default);
    - ``"channel"``: one draw per sample and channel (dim 1), the mask constant over the
      trailing spatial dims, as torch's Dropout1d/2d/3d document ("randomly zero out entire
      channels"); rank ≥ 3;
    - ``"sample"``: one draw per sample (dim 0), stochastic depth / DropPath; rank ≥ 2.
    """

    target: Callable[..., Any]
    name: str = ""
    rank: int = 2
    bitwise: bool = False
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    inplace: bool = False
    structure: Literal["element", "channel", "sample"] = "element"

    def __post_init__(self) -> None:
        if not callable(self.target):
            raise UsageError(f"dropout {self.target!r} is neither a function nor a class")
        if inspect.isclass(self.target) and not issubclass(self.target, nn.Module):
            raise UsageError(
                f"dropout {_name(self.target)} is a class but not a torch.nn.Module: give "
                "an nn.Module class built as ATTR(p) or a function f(x, p, training)"
            )
        if isinstance(self.target, nn.Module):
            raise UsageError(
                f"dropout {self.target!r} is a module instance: give its class (built as "
                "ATTR(p)) or a function f(x, p, training)"
            )
        if self.rank not in DROPOUT_RANKS:
            raise UsageError(f"rank must be one of {list(DROPOUT_RANKS)}, but got {self.rank!r}")
        if not isinstance(self.kwargs, Mapping):
            raise UsageError(
                f"dropout kwargs must be a mapping of argument names to values, but got "
                f"{type(self.kwargs).__name__}"
            )
        fixed = sorted(set(self.kwargs) & set(DROPOUT_ARGUMENTS))
        if fixed:
            raise UsageError(
                f"dropout kwargs may not set {fixed}: the checks generate "
                f"{list(DROPOUT_ARGUMENTS)} themselves; give only constant arguments such as "
                "block_size or mode"
            )
        if not isinstance(self.inplace, bool):
            raise UsageError(f"inplace must be True or False, but got {self.inplace!r}")
        if self.structure not in DROPOUT_STRUCTURES:
            raise UsageError(
                f"structure must be one of {list(DROPOUT_STRUCTURES)}, but got {self.structure!r}"
            )
        least = {"element": 1, "channel": 3, "sample": 2}[self.structure]
        if self.rank < least:
            raise UsageError(
                f"structure {self.structure!r} needs rank ≥ {least} (batch, channel, "
                f"spatial…), but got rank {self.rank}: at that rank it is the 'element' "
                "structure; declare that"
            )
        if not self.name:
            extra = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
            object.__setattr__(self, "name", _name(self.target) + (f"({extra})" if extra else ""))

    @property
    def is_module(self) -> bool:
        return inspect.isclass(self.target)

    def layer(self, p: float) -> nn.Module:
        """A fresh layer with dropout probability ``p`` (a function is wrapped as one)."""
        if self.is_module:
            layer: nn.Module = self.target(p, **self.kwargs)
            return layer
        return _FunctionalDropout(self.target, p, self.kwargs)

    def apply(self, x: Tensor, p: float, training: bool = True) -> Tensor:
        """Dropout of a fresh copy of ``x`` (see :func:`_fresh`) in training (or eval) mode.

        The copy keeps every check honest on in-place dropouts: ``x`` is never modified, an
        output is never compared with its own input, and autograd reaches ``x`` through it.
        """
        return self.apply_to(_fresh(x), p, training)

    def apply_to(self, x: Tensor, p: float, training: bool = True) -> Tensor:
        """Dropout of ``x`` itself: an in-place dropout writes into it (the inplace check)."""
        if self.is_module:
            out: Tensor = self.layer(p).train(training)(x)
            return out
        out = self.target(x, p, training, **self.kwargs)
        return out

    def spec(self) -> dict[str, Any]:
        """What :func:`sgdbench.conformance.replay` needs to build it again."""
        return {
            "dropout": _call(self.target),
            "rank": self.rank,
            "bitwise": self.bitwise,
            "kwargs": dict(self.kwargs),
            "inplace": self.inplace,
            "structure": self.structure,
        }


def copy_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of one parameter's optimizer state (tensors cloned)."""
    return {
        k: v.detach().clone() if isinstance(v, Tensor) else copy.deepcopy(v)
        for k, v in state.items()
    }
