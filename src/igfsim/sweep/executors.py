"""Where parallel work runs: in-process, a spawn process pool, any ``concurrent.futures`` executor or Dask.

Sweeps (:func:`igfsim.sweep.run_sweep`) and calibrations (:func:`igfsim.calibrate.calibrate`) take the
same ``executor`` argument and resolve it here, so a user who set up a process pool or a
``distributed.Client`` for one uses it for the other.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = [
    "SERIAL",
    "OwnedPool",
    "Submits",
    "cpu_count",
    "drain",
    "is_dask_client",
    "resolve_executor",
    "spawn_pool",
    "stop_pool",
]

SERIAL = "serial"
T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class Submits(Protocol):
    """Anything with ``concurrent.futures``' ``submit``."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]: ...


@runtime_checkable
class _HasExecutor(Protocol):
    """A ``distributed.Client``: it hands out a ``concurrent.futures`` executor."""

    def get_executor(self) -> Executor: ...


def is_dask_client(executor: object) -> bool:
    return type(executor).__name__ == "Client" and type(executor).__module__.startswith("distributed")


def resolve_executor(
    executor: object,
    n_workers: int | None,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> tuple[Submits, bool]:
    """(executor, owned) for None (a new spawn pool, owned), a ``distributed.Client`` or any Executor.

    ``"serial"`` is not resolved here: callers run it in-process without an executor.
    """
    if executor is None:
        return spawn_pool(n_workers, initializer=initializer, initargs=initargs), True
    if is_dask_client(executor) and isinstance(executor, _HasExecutor):
        return executor.get_executor(), False
    if isinstance(executor, Executor | Submits):
        return executor, False
    raise TypeError(
        f"executor must be None, 'serial', a concurrent.futures.Executor or a distributed.Client, "
        f"got {type(executor).__name__}"
    )


def _ready() -> None:
    """A task that only proves its worker started (see :func:`spawn_pool`)."""


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """While worker processes start, hide the caller's ``__main__`` script from ``spawn``, which would
    otherwise run it again in every worker: a script that calls ``run_sweep`` at top level, without an
    ``if __name__ == "__main__":`` guard, then starts a pool in each worker and hangs. igfsim's workers
    run only igfsim's functions, so they need nothing from the script."""
    main = sys.modules.get("__main__")
    saved: dict[str, Any] = {
        k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__
    }
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__dict__["__spec__"] = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                main.__dict__.pop("__spec__", None)


#: how often (seconds) a worker checks that the process that started it is still alive
PARENT_POLL_S = 0.5


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent:  # the parent died (even by SIGKILL): this worker is an orphan
            os._exit(1)


def _start_worker(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """Every igfsim worker: leaves Ctrl-C to its parent (which stops the pool, so the terminal shows no
    worker tracebacks) and exits when its parent is gone, so no worker outlives the sweep."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="igfsim-parent-watch", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def spawn_pool(
    n_workers: int | None, *, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A process pool of ``n_workers`` (default: :func:`cpu_count`) started by ``spawn``, all workers
    started now (so none starts later and re-imports the caller's script; :func:`_main_script_hidden`).

    Works from a plain script without an ``if __name__ == "__main__":`` guard, a notebook or a module.
    The workers ignore Ctrl-C (their parent stops them, :func:`stop_pool`) and exit by themselves
    within :data:`PARENT_POLL_S` when the parent process dies.
    """
    import multiprocessing

    n = n_workers or cpu_count()
    pool = ProcessPoolExecutor(
        max_workers=n,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, initargs),
    )
    with _main_script_hidden():
        # each submit starts one more worker while none is idle: n quick tasks start all n
        started = [pool.submit(_ready) for _ in range(n)]
    try:
        for f in started:
            f.result()  # a failing initializer shows here, as BrokenProcessPool with its traceback
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return pool


def stop_pool(pool: ProcessPoolExecutor, *, now: bool = False) -> None:
    """Shut ``pool`` down: wait for the running tasks, or with ``now`` (Ctrl-C, an error) cancel the
    queued ones and terminate the workers at once."""
    if not now:
        pool.shutdown(wait=True, cancel_futures=True)
        return
    processes = list(getattr(pool, "_processes", None) or {})  # pids; the executor keeps no public list
    pool.shutdown(wait=False, cancel_futures=True)
    for pid in processes:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass


class OwnedPool:
    """A :func:`spawn_pool` that igfsim started for one call and may replace when a worker dies."""

    def __init__(
        self, n_workers: int | None, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
    ) -> None:
        self._args = (n_workers, initializer, initargs)
        self.pool = spawn_pool(n_workers, initializer=initializer, initargs=initargs)
        self.restarts = 0

    def respawn(self) -> ProcessPoolExecutor:
        """A fresh pool in place of this broken one."""
        stop_pool(self.pool, now=True)
        n, initializer, initargs = self._args
        self.pool = spawn_pool(n, initializer=initializer, initargs=initargs)
        self.restarts += 1
        return self.pool

    def stop(self, *, now: bool = False) -> None:
        stop_pool(self.pool, now=now)


#: a task whose worker died this many times is given to the sink as failed instead of run again
MAX_LOSSES = 2
_END = object()


def drain(
    ex: Submits,
    fn: Callable[[Any], R],
    items: Iterable[T],
    sink: Callable[[T, Future[R]], None],
    window: int,
    arg: Callable[[T], Any] | None = None,
    *,
    respawn: Callable[[], Submits] | None = None,
) -> None:
    """Submit ``fn(item)`` (``fn(arg(item))`` with ``arg``) keeping at most ``window`` in flight.

    Each finished future goes to ``sink`` at once.
    ``sink`` gets the item and its future (done), so it decides what a failed item means; nothing
    finished is dropped when a later item fails. Pending futures are cancelled when ``sink`` raises.

    With ``respawn`` (a function that replaces the pool and returns the new one), a pool broken by a
    dead worker (``BrokenProcessPool``: killed, out of memory, crashed) is replaced and the tasks it
    held run again, one at a time, so that a task that kills its worker is found: a task lost
    :data:`MAX_LOSSES` times goes to ``sink`` with its failed future. Without ``respawn`` the lost
    tasks go to ``sink`` at once.
    """
    pending: dict[Future[R], tuple[T, int]] = {}
    retry: deque[tuple[T, int]] = deque()  # (task, times its worker died)
    source = iter(items)

    def submit(item: T, losses: int) -> bool:
        try:
            pending[ex.submit(fn, item if arg is None else arg(item))] = (item, losses)
        except BrokenProcessPool:
            if respawn is None:
                raise
            retry.appendleft((item, losses))
            return False
        return True

    def settle(f: Future[R]) -> bool:
        """Hand a finished future to ``sink``, or queue its task again; True if its worker died."""
        item, losses = pending.pop(f)
        died = respawn is not None and not f.cancelled() and isinstance(f.exception(), BrokenProcessPool)
        if died and losses + 1 < MAX_LOSSES:
            retry.append((item, losses + 1))
        else:
            sink(item, f)
        return died

    def suspects() -> bool:
        return bool(retry) or any(losses for _, losses in pending.values())

    try:
        while True:
            broken = False
            while len(pending) < (1 if suspects() else window) and not broken:
                if retry:
                    item, losses = retry.popleft()
                else:
                    nxt = next(source, _END)
                    if nxt is _END:
                        break
                    item, losses = nxt, 0  # type: ignore[assignment]
                broken = not submit(item, losses)
            if not pending:
                if not broken:
                    return
                ex = respawn()  # type: ignore[misc]
                continue
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            lost = [settle(f) for f in finished]
            if any(lost):  # every task still on the broken pool is lost too: collect them, then replace it
                for f in list(pending):
                    settle(f)  # waits: a broken pool fails its futures promptly
                ex = respawn()  # type: ignore[misc]
    finally:
        for f in pending:
            f.cancel()


def cpu_count() -> int:
    """CPUs this process may use (its affinity mask where the OS has one)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
