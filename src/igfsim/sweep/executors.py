"""Where parallel work runs: in-process, igfsim's process pool, any ``concurrent.futures`` executor or Dask.

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
from pathlib import Path
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
    "start_method",
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

#: modules the fork server imports once, so that the workers forked from it start without importing
#: igfsim and libRoadRunner again (about 1 s of CPU each)
PRELOAD = ("igfsim.sweep.worker", "igfsim.engines.roadrunner_ode", "roadrunner")

#: environment variable choosing how igfsim's workers start: ``forkserver`` or ``spawn``
START_METHOD_ENV = "IGFSIM_START_METHOD"


def start_method() -> str:
    """How igfsim's own pools start their workers: ``forkserver`` where the platform has it (Linux,
    macOS), else ``spawn``; ``IGFSIM_START_METHOD`` chooses (an unknown or unavailable value is refused).

    Both start clean processes that share nothing with the caller's threads or open files; the fork
    server imports :data:`PRELOAD` once, so each worker then starts in about 0.1 s instead of 1 s.
    """
    import multiprocessing

    available = multiprocessing.get_all_start_methods()
    chosen = os.environ.get(START_METHOD_ENV, "").strip()
    if chosen:
        if chosen not in ("forkserver", "spawn") or chosen not in available:
            usable = [m for m in ("forkserver", "spawn") if m in available]
            raise ValueError(f"{START_METHOD_ENV}={chosen!r}: expected one of {usable}")
        return chosen
    return "forkserver" if "forkserver" in available else "spawn"


def _context():
    import multiprocessing

    method = start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        # applies when this call starts the fork server (it then lives as long as this process)
        ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def _identity(pid: int) -> str | None:
    """Something that tells process ``pid`` from a later one given the same number (its start time
    where ``/proc`` has it), or None when it is gone: exited, killed, or a zombie waiting to be reaped."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    except (OSError, IndexError):  # no /proc (macOS): only whether the number is in use
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "alive"
    return None if fields[0] in ("Z", "X") else fields[19]  # state, starttime


def _watch_parent(parent: int, identity: str | None, starter: int) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        # the caller is gone (even by SIGKILL), or the process that started this worker is (spawn: the
        # caller; forkserver: the server): this worker is an orphan
        if os.getppid() != starter or _identity(parent) != identity:
            os._exit(1)


def _start_worker(
    parent: int, environ: dict[str, str], initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    """Every igfsim worker: has its caller's environment as it is now (a fork server keeps the one it
    started with), leaves Ctrl-C to its parent (which stops the pool, so the terminal shows no worker
    tracebacks) and exits when its parent is gone, so no worker outlives the sweep."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.environ != environ:
        os.environ.clear()
        os.environ.update(environ)
    starter = os.getppid()  # the caller (spawn) or the fork server
    identity = _identity(parent)
    if identity is None or starter == 1:
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent, identity, starter), name="igfsim-parent-watch", daemon=True
    ).start()
    if initializer is not None:
        initializer(*initargs)


def spawn_pool(
    n_workers: int | None, *, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A process pool of ``n_workers`` (default: :func:`cpu_count`) started by :func:`start_method`
    (the fork server, else ``spawn``), all workers started now (so none starts later and re-imports the
    caller's script; :func:`_main_script_hidden`).

    Works from a plain script without an ``if __name__ == "__main__":`` guard, a notebook or a module.
    The workers ignore Ctrl-C (their parent stops them, :func:`stop_pool`) and exit by themselves
    within :data:`PARENT_POLL_S` when the parent process dies.
    """
    n = n_workers or cpu_count()
    with _main_script_hidden():
        pool = ProcessPoolExecutor(
            max_workers=n,
            mp_context=_context(),
            initializer=_start_worker,
            initargs=(os.getpid(), dict(os.environ), initializer, initargs),
        )
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
