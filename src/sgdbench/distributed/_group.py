"""A group of k worker processes that share one torch.distributed process group.

The property suite sends many small examples to the same k ranks, so the ranks are started
once (from a ``forkserver`` that has torch imported) and serve tasks until the group closes:
each task is a ``module:function`` that every rank runs with the same payload, and the group
returns one result per rank.

Failures end the group and never hang it (issue "Failures do not hang"):

- the process group gets a ``timeout``: a collective that waits longer raises on the ranks
  that wait (gloo's and NCCL's own timeout);
- a rank that raises sends its error and exits; a rank that dies is seen by its exit code.
  Either way :meth:`WorkerGroup.run` raises :class:`RankFailed`, whose message is one line
  naming the first rank that failed and its error, and every other rank is terminated;
- the parent waits at most ``timeout`` plus a grace period for any task, then names the
  ranks that gave no answer;
- the rendezvous port is a free one (the OS picks it); a ``port`` the caller asks for that
  is already in use is replaced by a free one, with a warning.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import time
import traceback
from datetime import timedelta
from typing import Any, NoReturn

from sgdbench.conformance._runner import HarnessFailed
from sgdbench.distributed._procs import context, exit_reason, free_port, one_line, resolve

__all__ = ["RankFailed", "WorkerGroup", "free_port", "resolve", "run_on_ranks"]

BACKENDS = ("gloo", "nccl")
GRACE_S = 10.0  # beyond the process group's timeout: spawning and importing torch included
_POLL_S = 0.05


class RankFailed(HarnessFailed):
    """A rank raised, died or gave no answer: ``rank`` (None: several) and a one-line reason."""

    def __init__(self, rank: int | None, reason: str) -> None:
        who = "ranks" if rank is None else f"rank {rank}"
        super().__init__(f"{who} failed: {reason}")
        self.rank = rank
        self.reason = reason


def _serve(
    rank: int,
    world_size: int,
    port: int,
    backend: str,
    timeout_s: float,
    tasks: Any,
    results: Any,
) -> None:
    """A rank: join the process group, then run each task it is sent until told to stop."""
    import torch
    import torch.distributed as dist

    # one intra-op thread per rank, as torchrun sets OMP_NUM_THREADS=1 by default: k ranks that
    # each start one thread per core would oversubscribe the machine k times
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

    def report(*message: Any) -> None:
        results.put(message)

    try:
        if backend == "nccl":
            torch.cuda.set_device(rank)  # one GPU per rank, as torchrun's LOCAL_RANK
        dist.init_process_group(
            backend,
            init_method=f"tcp://127.0.0.1:{port}",
            rank=rank,
            world_size=world_size,
            timeout=timedelta(seconds=timeout_s),
        )
        report("ready", rank, None)
        while (item := tasks.get()) is not None:
            seq, task, payload = item
            out = resolve(task)(payload)
            report("ok", rank, seq, pickle.dumps(out))
    except BaseException as e:
        report("error", rank, one_line(e), traceback.format_exc())
        results.close()
        results.join_thread()
        os._exit(1)  # skip destroy_process_group: a peer may be stuck in a collective
    dist.destroy_process_group()


class WorkerGroup:
    """``world_size`` ranks in one process group; a context manager.

    ``run(task, payload)`` runs ``task`` (``"module:function"``, called with ``payload``) on
    every rank and returns the results in rank order, or raises :class:`RankFailed`.
    Inside a task, ``torch.distributed`` is initialised: rank, world size and backend come from
    ``torch.distributed.get_rank()`` etc.
    """

    def __init__(
        self,
        world_size: int,
        *,
        backend: str = "gloo",
        timeout: float = 30.0,
        port: int | None = None,
    ) -> None:
        if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
            raise ValueError(f"`world_size` must be an integer ≥ 1, but got {world_size!r}")
        if backend not in BACKENDS:
            raise ValueError(f"`backend` must be one of {', '.join(BACKENDS)}, but got {backend!r}")
        if not timeout > 0:
            raise ValueError(f"`timeout` must be > 0 seconds, but got {timeout!r}")
        self.world_size, self.backend, self.timeout = world_size, backend, float(timeout)
        self._requested_port = port
        self.port: int | None = None
        self._procs: list[Any] = []
        self._tasks: list[Any] = []
        self._results: Any = None
        self._seq = 0
        self._failed: RankFailed | None = None

    def __enter__(self) -> WorkerGroup:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        ctx = context()
        self.port = free_port(self._requested_port)
        self._results = ctx.Queue()
        self._tasks = [ctx.Queue() for _ in range(self.world_size)]
        args = (self.world_size, self.port, self.backend, self.timeout)
        self._procs = [
            ctx.Process(
                target=_serve,
                args=(r, *args, self._tasks[r], self._results),
                name=f"sgdbench-rank{r}",
                daemon=True,
            )
            for r in range(self.world_size)
        ]
        for p in self._procs:
            p.start()
        self._collect("ready", None)

    def run(self, task: str, payload: Any = None) -> list[Any]:
        """``task(payload)`` on every rank; the results in rank order."""
        if self._failed is not None:
            raise RankFailed(self._failed.rank, f"(group already failed) {self._failed.reason}")
        if not self._procs:
            raise RuntimeError("the WorkerGroup is not started: use it in a `with` block")
        self._seq += 1
        for q in self._tasks:
            q.put((self._seq, task, payload))
        return self._collect("ok", self._seq)

    def _collect(self, kind: str, seq: int | None) -> list[Any]:
        got: dict[int, Any] = {}
        deadline = time.monotonic() + self.timeout + GRACE_S
        while len(got) < self.world_size:
            try:
                message = self._results.get(timeout=_POLL_S)
            except queue.Empty:
                dead = [r for r, p in enumerate(self._procs) if p.exitcode is not None]
                if dead:
                    self._diagnose({}, got)
                if time.monotonic() > deadline:
                    missing = sorted(set(range(self.world_size)) - set(got))
                    self._fail(
                        None,
                        f"no answer from rank(s) {missing} within {self.timeout + GRACE_S:g} s",
                    )
                continue
            if message[0] == "error":
                self._diagnose({message[1]: message[2]}, got)
            _, rank, mseq, *data = message
            if message[0] == kind and mseq == seq:
                got[rank] = pickle.loads(data[0]) if data else None
        return [got[r] for r in range(self.world_size)]

    def _diagnose(self, errors: dict[int, str], answered: dict[int, Any]) -> None:
        """Name the rank that failed first: a rank's own error beats a dead rank, which beats
        a rank that only lost its connection to a dead one (gloo says "by peer")."""
        end = time.monotonic() + 1.0  # the others' reports and exits arrive within moments
        while time.monotonic() < end:
            with contextlib.suppress(queue.Empty):
                message = self._results.get(timeout=_POLL_S)
                if message[0] == "error":
                    errors.setdefault(message[1], message[2])
        own = {r: e for r, e in errors.items() if "by peer" not in e}
        if own:
            rank = min(own)
            silent = [
                r
                for r, p in enumerate(self._procs)
                if r not in errors and r not in answered and p.exitcode is None
            ]
            hint = (
                f" (rank(s) {silent} gave no answer)" if silent and "imed out" in own[rank] else ""
            )
            self._fail(rank, own[rank] + hint)
        died = [
            (r, p.exitcode)
            for r, p in enumerate(self._procs)
            if p.exitcode not in (None, 0) and r not in errors
        ]
        if died:
            self._fail(died[0][0], f"died with {exit_reason(died[0][1])}")
        rank = min(errors)
        self._fail(rank, errors[rank])

    def _fail(self, rank: int | None, reason: str) -> NoReturn:
        self._failed = RankFailed(rank, reason)
        self.close()
        raise self._failed

    def close(self) -> None:
        """Stop every rank: politely if it is idle, by SIGKILL after a second if not."""
        for q, p in zip(self._tasks, self._procs, strict=False):
            if p.is_alive() and self._failed is None:
                with contextlib.suppress(Exception):
                    q.put(None)
        end = time.monotonic() + (1.0 if self._failed else 5.0)
        for p in self._procs:
            p.join(timeout=max(0.0, end - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()
        for q in [*self._tasks, *([self._results] if self._results is not None else [])]:
            q.cancel_join_thread()
            q.close()
        self._procs, self._tasks = [], []


def run_on_ranks(
    task: str,
    payload: Any = None,
    *,
    world_size: int,
    backend: str = "gloo",
    timeout: float = 30.0,
    port: int | None = None,
) -> list[Any]:
    """One task on a fresh group of ``world_size`` ranks: start, run, close."""
    with WorkerGroup(world_size, backend=backend, timeout=timeout, port=port) as group:
        return group.run(task, payload)
