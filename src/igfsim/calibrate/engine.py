"""Run pyPESTO's optimiser starts on igfsim's executors, with progress and per-start failure records.

pyPESTO hands an engine a list of tasks (one per start); :class:`ExecutorEngine` runs them in-process
(``"serial"``), on a new spawn process pool, on any ``concurrent.futures`` executor or on a Dask
cluster (the sweeps' executors, :mod:`igfsim.sweep.executors`). A start whose worker dies or whose
task raises becomes a failed :class:`pypesto.result.OptimizerResult` (infinite objective, the error
as its message); the other starts go on. The progress bar shows starts done and the best objective
so far.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from igfsim.sweep.executors import SERIAL, cpu_count, drain, resolve_executor, stop_pool

__all__ = ["ExecutorEngine", "StartDone"]

StartDone = Callable[[int, Any], None]  # (index, pypesto OptimizerResult) as each start finishes


def _execute(pickled: bytes) -> Any:
    """Worker side: unpickle one optimiser task and run it with library warnings silenced.

    SUNDIALS prints its warnings (``t + h = t``) straight to file descriptor 2, past libRoadRunner's
    logger; the task runs with that descriptor on /dev/null. Failures come back as results.
    """
    import cloudpickle

    from igfsim.calibrate.objective import library_quiet, native_output_silenced
    from igfsim.engines.roadrunner_ode import quiet_solver_log

    quiet_solver_log()
    task = cloudpickle.loads(pickled)
    with library_quiet(), native_output_silenced():
        return task.execute()


def _failed(task: Any, message: str) -> Any:
    from pypesto.result import OptimizerResult

    return OptimizerResult(
        id=str(getattr(task, "id", "")),
        x0=getattr(task, "x0", None),
        fval=math.inf,
        n_fval=0,
        n_grad=0,
        exitflag=-99,
        time=0.0,
        message=message,
        optimizer=str(getattr(task, "optimizer", "")),
    )


def _engine_base() -> type:
    from pypesto.engine import Engine

    return Engine


class ExecutorEngine(_engine_base()):  # type: ignore[misc]
    """A ``pypesto.engine.Engine`` over igfsim's executors (``None``, ``"serial"``, an Executor, a Dask client)."""

    def __init__(
        self,
        executor: object = None,
        n_workers: int | None = None,
        *,
        progress: bool = True,
        label: str = "calibrate",
        on_done: StartDone | None = None,
    ):
        super().__init__()
        self.executor = executor
        self.n_workers = n_workers
        self.progress = progress
        self.label = label
        self.on_done = on_done

    def execute(self, tasks: list[Any], progress_bar: bool | None = None) -> list[Any]:
        import cloudpickle
        from tqdm.auto import tqdm

        results: list[Any] = [None] * len(tasks)
        bar = tqdm(total=len(tasks), unit="start", desc=self.label, disable=not self.progress)
        best = math.inf
        t0 = time.perf_counter()

        def record(i: int, result: Any) -> None:
            nonlocal best
            results[i] = result
            fval = float(getattr(result, "fval", math.inf) or math.inf)
            if math.isfinite(fval) and fval < best:
                best = fval
            bar.set_postfix_str(f"best {best:.6g}" if math.isfinite(best) else "no finite start yet")
            bar.update(1)
            if self.on_done is not None:
                self.on_done(i, result)

        try:
            if self.executor == SERIAL:
                for i, task in enumerate(tasks):
                    try:
                        record(i, _execute(cloudpickle.dumps(task)))
                    except Exception as err:
                        record(i, _failed(task, f"{type(err).__name__}: {err}"))
                return results
            ex, owned = resolve_executor(self.executor, self.n_workers)

            def sink(i: int, fut: Future[Any]) -> None:
                try:
                    record(i, fut.result())
                except Exception as err:  # a dead worker, an unpicklable result, a task that raised
                    detail = "".join(traceback.format_exception_only(type(err), err)).strip()
                    record(i, _failed(tasks[i], f"start failed in its worker: {detail}"))

            payloads = {i: cloudpickle.dumps(t) for i, t in enumerate(tasks)}
            try:
                drain(
                    ex,
                    _execute,
                    range(len(tasks)),
                    sink,
                    window=2 * (self.n_workers or cpu_count()),
                    arg=payloads.__getitem__,
                )
            except BaseException:  # Ctrl-C or an error: stop our workers now, not after their starts finish
                if owned:
                    stop_pool(ex, now=True)  # type: ignore[arg-type]
                raise
            if owned:
                stop_pool(ex)  # type: ignore[arg-type]
        finally:
            bar.close()
            self.elapsed_s = time.perf_counter() - t0
        return results
