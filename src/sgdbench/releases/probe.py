"""What one installed torch release has: run *inside* that release's environment, as a script.

``python src/sgdbench/releases/probe.py '[{"foreach": false}, {"fused": true}]'`` prints one JSON
object: the torch version and build, NumPy's version, the parameters ``torch.optim.SGD``
takes in this release, and for each set of constructor arguments (an SGD path) whether the
path is present here: ``null``, or the reason it is not (the argument is not in this release's
signature, or SGD refuses it on a CPU tensor). Run by its path it imports nothing from
sgdbench, so that it answers even where sgdbench's own code would not import.
"""

from __future__ import annotations

import inspect
import json
import sys
import warnings
from typing import Any

__all__ = ["path_missing", "probe"]


def path_missing(kwargs: dict[str, Any]) -> str | None:
    """Why ``torch.optim.SGD(params, lr=0.01, **kwargs)`` has no such path here (None: it has).

    Present means: every argument is in this release's signature, and an optimizer built with
    them on one CPU parameter takes a step.
    """
    import torch

    version = torch.__version__
    params = inspect.signature(torch.optim.SGD).parameters
    absent = [k for k in kwargs if k not in params]
    if absent:
        return f"torch {version}: torch.optim.SGD takes no {', '.join(absent)} argument"
    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.ones(2)
    call = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.optim.SGD([p], lr=0.01, **kwargs).step()
    except Exception as e:  # any refusal is the finding: name it
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return f"torch {version}: SGD({call}) on a CPU tensor raises {type(e).__name__}: {first}"
    return None


def probe(paths: list[dict[str, Any]]) -> dict[str, Any]:
    """The release's versions, SGD's parameters, and each path's presence."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import numpy
        import torch

        torch.zeros(1).numpy()  # a NumPy ABI mismatch shows here
    return {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "numpy": numpy.__version__,
        "import_warnings": sorted({str(w.message).splitlines()[0] for w in caught}),
        "sgd_parameters": list(inspect.signature(torch.optim.SGD).parameters),
        "paths": {json.dumps(k, sort_keys=True): path_missing(k) for k in paths},
        "valgrind_requests": all(
            hasattr(torch._C, n) for n in ("_valgrind_toggle", "_valgrind_toggle_and_dump_stats")
        ),
    }


if __name__ == "__main__":
    print(json.dumps(probe(json.loads(sys.argv[1] if len(sys.argv) > 1 else "[]"))))
