"""igfsim's own worker pool for sweeps: one per session, kept for the next sweep of the same model,
engine and size, and busy from the first moment.

The workers receive the caller's model and its compiled form once (:func:`~igfsim.sweep.worker._adopt_model`),
so none parses or compiles it. While a new pool starts (the fork server importing igfsim and
libRoadRunner, then the workers loading the compiled model: about 1 s), this process runs the sweep's
first rows itself (:func:`start_and_run`); the rest go to the pool once it is up.
"""

from __future__ import annotations

import atexit
import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from igfsim.model.sbml import Model
from igfsim.sweep.executors import OwnedPool, cpu_count
from igfsim.sweep.records import BatchResult
from igfsim.sweep.worker import _MODELS, BatchTask, _adopt_model, run_until

__all__ = ["close_pool", "live_pool", "start_and_run"]


@dataclass
class _Session:
    """igfsim's own pool, kept for the next sweep of the same model, engine and size."""

    owned: OwnedPool
    n_workers: int
    model: Model
    engine: str

    def suits(self, n_workers: int, model: Model, engine: str) -> bool:
        return (self.n_workers, self.model.sha256, self.engine, self.model.mapping) == (
            n_workers,
            model.sha256,
            engine,
            model.mapping,
        )


_SESSION: _Session | None = None


def live_pool(n_workers: int | None, model: Model, engine: str) -> OwnedPool | None:
    """The session's pool if it suits a sweep of ``model`` on ``engine`` with ``n_workers``, else None."""
    s = _SESSION
    return s.owned if s is not None and s.suits(n_workers or cpu_count(), model, engine) else None


def _pool_args(model: Model, engine: str) -> tuple[Model, str, bytes | None]:
    """The initializer's arguments: the model and its compiled form (made here, in the caller's thread:
    an engine is not shared between threads)."""
    from igfsim.engines import ShipsCompiled, get_engine

    eng = get_engine(engine)
    return model, engine, eng.compiled_state(model) if isinstance(eng, ShipsCompiled) else None


def start_and_run(
    n_workers: int | None,
    model: Model,
    engine: str,
    tasks: Iterable[BatchTask],
    done: Callable[[BatchResult], None],
) -> tuple[OwnedPool, Iterator[BatchTask]]:
    """Start a new session pool (the old one stopped) and, while it starts, run ``tasks`` here, handing
    each result to ``done``: the pool, once up, and the tasks left for it (the rest of a task whose
    rows were being run here comes first)."""
    global _SESSION
    close_pool()
    n = n_workers or cpu_count()
    args = _pool_args(model, engine)
    _MODELS.setdefault(model.sha256, model)  # this process runs rows of the pool's tasks meanwhile
    source = iter(tasks)
    left: list[BatchTask] = []
    with ThreadPoolExecutor(1, thread_name_prefix="igfsim-pool-start") as starter:
        starting: Future[OwnedPool] = starter.submit(OwnedPool, n, _adopt_model, args)
        try:
            while not starting.done():
                task = next(source, None)
                if task is None:
                    break
                result, rest = run_until(task, model, starting.done)
                if len(result):
                    done(result)
                if rest is not None:
                    left.append(rest)
            owned = starting.result()
        except BaseException:  # Ctrl-C or a failing run here: a pool that did start is stopped
            if not starting.cancel() and starting.exception() is None:
                starting.result().stop(now=True)
            raise
    _SESSION = _Session(owned, n, model, engine)
    return owned, itertools.chain(left, source)


def close_pool(*, now: bool = False) -> None:
    """Stop the worker processes :func:`~igfsim.sweep.run_sweep` keeps between calls (at exit this
    happens by itself); ``now`` terminates them without waiting for running batches."""
    global _SESSION
    if _SESSION is not None:
        session, _SESSION = _SESSION, None
        session.owned.stop(now=now)


atexit.register(close_pool, now=True)
