"""The processes behind a WorkerGroup: ports, task names, the start method, exit codes."""

from __future__ import annotations

import contextlib
import errno
import importlib
import multiprocessing as mp
import signal
import socket
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["PRELOAD", "context", "exit_reason", "free_port", "one_line", "resolve"]


def free_port(requested: int | None = None) -> int:
    """``requested`` if it can be bound on 127.0.0.1 now, else a free port the OS picks."""
    if requested is not None:
        if not 1 <= requested <= 65535:
            raise ValueError(f"`port` must be in 1..65535, but got {requested}")
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", requested))
                return requested
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
        warnings.warn(f"port {requested} is in use: taking a free one", stacklevel=2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def resolve(task: str) -> Callable[..., Any]:
    """``module:function`` → the function (what a spawned rank can import)."""
    module, _, name = task.partition(":")
    fn = getattr(importlib.import_module(module), name)
    if not callable(fn):
        raise TypeError(f"task {task!r} is not callable")
    return fn  # type: ignore[no-any-return]


def one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or "(no message)"
    return f"{type(e).__name__}: {text[:400]}"


def context() -> Any:
    """``forkserver``, with torch and the task modules imported once in the server: every rank
    of every group forks from it, a fresh process (no parent threads, no CUDA context) that
    starts in milliseconds instead of importing torch anew (``spawn``'s seconds). Where there
    is no forkserver (not POSIX), ``spawn``."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


PRELOAD = [
    "torch",
    "torch.distributed",
    "torch._dynamo",  # DistributedDataParallel.__init__ imports it: 2-3 s in every rank
    "sgdbench.distributed._tasks",
    "sgdbench.distributed._train",
    # what sgdbench.data.two_moons imports when first called (seconds, paid once here)
    "sklearn.datasets",
    "sklearn.model_selection",
    "sklearn.preprocessing",
]


def exit_reason(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"
