"""Where parallel work runs: in-process, a spawn process pool, any ``concurrent.futures`` executor or Dask.

Sweeps (:func:`igfsim.sweep.run_sweep`) and calibrations (:func:`igfsim.calibrate.calibrate`) take the
same ``executor`` argument and resolve it here, so a user who set up a process pool or a
``distributed.Client`` for one uses it for the other.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["SERIAL", "Submits", "cpu_count", "drain", "is_dask_client", "resolve_executor", "spawn_pool"]

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


def spawn_pool(
    n_workers: int | None, *, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A process pool of ``n_workers`` (default: :func:`cpu_count`) started by ``spawn``, all workers
    started now (so none starts later and re-imports the caller's script; :func:`_main_script_hidden`).

    Works from a plain script without an ``if __name__ == "__main__":`` guard, a notebook or a module.
    """
    import multiprocessing

    n = n_workers or cpu_count()
    pool = ProcessPoolExecutor(
        max_workers=n, mp_context=multiprocessing.get_context("spawn"), initializer=initializer, initargs=initargs
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


def drain(
    ex: Submits,
    fn: Callable[[Any], R],
    items: Iterable[T],
    sink: Callable[[T, Future[R]], None],
    window: int,
    arg: Callable[[T], Any] | None = None,
) -> None:
    """Submit ``fn(item)`` (``fn(arg(item))`` with ``arg``) keeping at most ``window`` in flight.

    Each finished future goes to ``sink`` at once.
    ``sink`` gets the item and its future (done), so it decides what a failed item means; nothing
    finished is dropped when a later item fails. Pending futures are cancelled when ``sink`` raises.
    """
    pending: dict[Future[R], T] = {}

    def collect() -> None:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for f in finished:
            sink(pending.pop(f), f)

    try:
        for item in items:
            pending[ex.submit(fn, item if arg is None else arg(item))] = item
            while len(pending) >= window:
                collect()
        while pending:
            collect()
    finally:
        for f in pending:
            f.cancel()


def cpu_count() -> int:
    """CPUs this process may use (its affinity mask where the OS has one)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
