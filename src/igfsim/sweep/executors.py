"""Where parallel work runs: in-process, a spawn process pool, any ``concurrent.futures`` executor or Dask.

Sweeps (:func:`igfsim.sweep.run_sweep`) and calibrations (:func:`igfsim.calibrate.calibrate`) take the
same ``executor`` argument and resolve it here, so a user who set up a process pool or a
``distributed.Client`` for one uses it for the other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["SERIAL", "Submits", "cpu_count", "drain", "is_dask_client", "resolve_executor"]

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
        import multiprocessing

        return ProcessPoolExecutor(
            max_workers=n_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=initializer,
            initargs=initargs,
        ), True
    if is_dask_client(executor) and isinstance(executor, _HasExecutor):
        return executor.get_executor(), False
    if isinstance(executor, Executor | Submits):
        return executor, False
    raise TypeError(
        f"executor must be None, 'serial', a concurrent.futures.Executor or a distributed.Client, "
        f"got {type(executor).__name__}"
    )


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
