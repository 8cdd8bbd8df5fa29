"""Parameter sweeps: a scenario plus axes (grids, Latin hypercube / Sobol designs, virtual cell panels).

>>> from igfsim.sweep import Axis, Sweep, run_sweep  # doctest: +SKIP
>>> sw = Sweep(scenario="scenarios/c01_mab_vs_dual_tki.yaml",
...            axes=[Axis(name="dose", target="dose:*/cixutumumab", range=(0.01, 1000), n=9, scale="log")])
>>> res = run_sweep(sw)                      # a process pool; executor="serial" runs in-process
>>> res.dataset["summary"].sel(arm="cixutumumab", readout="pAkt", metric="auc")  # doctest: +SKIP

Each run applies one design row to a copy of the scenario (every arm; then the sweep's arms are
kept) and simulates it with :func:`igfsim.run_scenario` (``on_error="record"``); a failed run is
kept with status, message and NaN. Workers get :class:`~igfsim.sweep.worker.BatchTask` s (what every
run shares, plus the rows of the batch) and hand back :class:`~igfsim.sweep.records.BatchResult` s
(:mod:`igfsim.sweep.worker`); igfsim's own pool is :mod:`igfsim.sweep.pool`. See ``docs/sweeps.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from igfsim.engines.steady_state import STEADY_STATES
from igfsim.errors import ScenarioError, SimulationError, SweepStoreError
from igfsim.model.sbml import Model
from igfsim.scenario.schema import Scenario
from igfsim.scenario.targets import parse_target
from igfsim.sweep.executors import OwnedPool, cpu_count, drain, resolve_executor
from igfsim.sweep.pool import close_pool, live_pool, start_and_run
from igfsim.sweep.records import BatchResult, SweepManifest
from igfsim.sweep.result import SweepResult
from igfsim.sweep.spec import (
    TARGET_KINDS,
    Axis,
    Sweep,
    check_sweep,
    design_table,
    load_sweep,
    sweep_hash,
)
from igfsim.sweep.store import SweepStore
from igfsim.sweep.worker import (
    SHIPPED_STEADY_STATES,
    BatchTask,
    ModelRef,
    RunRow,
    RunSetup,
    _failed_batch,
    _run_batch,
)

__all__ = [
    "Axis",
    "BatchTask",
    "Sweep",
    "SweepResult",
    "SweepStoreError",
    "check_sweep",
    "close_pool",
    "design_table",
    "load_sweep",
    "run_sweep",
    "sweep_hash",
]


# -------------------------------------------------------------------------------------- tasks


# ------------------------------------------------------------------------------------ planning


@dataclass(frozen=True)
class _Plan:
    """A checked sweep laid out: the scenario the runs start from (every arm, no expectations), the
    manifest, and per run its panel member and axis values."""

    scenario: Scenario
    manifest: SweepManifest
    panel: list[str | None]
    rows: np.ndarray


def _plan(sweep: Sweep, model: Model) -> _Plan:
    """Check ``sweep`` (ScenarioError) and lay out its runs."""
    from igfsim.engines import get_engine
    from igfsim.scenario.translate import build_protocol

    if issues := check_sweep(sweep, model):
        raise ScenarioError(f"<sweep of {sweep.scenario.name}>", issues)
    sc = sweep.scenario
    readouts = list(sc.selected_readouts(model.mapping.readouts))
    arms = list(sweep.arms or [a.name for a in sc.arms])
    base = sc.model_copy(update={"expect": [], "readouts": readouts})
    panel, rows = design_table(sweep)
    protocol = build_protocol(model, base, base.arm(arms[0]))
    times = np.asarray(get_engine(sweep.engine).output_times(protocol), dtype=float)
    manifest = SweepManifest(
        scenario=sc.name,
        engine=sweep.engine,
        design=sweep.design,
        seed=sweep.seed,
        axes=tuple(a.name for a in sweep.axes),
        targets=tuple(a.target for a in sweep.axes),
        arms=tuple(arms),
        readouts=tuple(readouts),
        metrics=tuple(sweep.metrics),
        times=tuple(times.tolist()),
        panel=tuple(str(m) for m in panel) if sweep.panel else None,
        design_values=tuple(tuple(r) for r in rows.tolist()),
        keep_trajectories=sweep.keep_trajectories,
        spec_hash=sweep_hash(sweep, model),
        model_sha256=model.sha256,
    )
    return _Plan(base, manifest, panel, rows)


def _setup(plan: _Plan, sweep: Sweep, model_ref: ModelRef) -> RunSetup:
    m = plan.manifest
    return RunSetup(
        scenario=plan.scenario,
        arms=m.arms,
        targets=tuple(parse_target(t, TARGET_KINDS) for t in m.targets),
        panel=sweep.panel,
        readouts=m.readouts,
        metrics=m.metrics,
        engine=m.engine,
        keep_trajectories=m.keep_trajectories,
        n_times=len(m.times),
        model=model_ref,
    )


def _model_ref(executor: object, model: Model) -> ModelRef:
    """The model itself in-process; its hash for our own pool (its initializer loads it); else + SBML."""
    if executor == "serial":
        return ModelRef(model.sha256, model.path, model=model)
    if executor is None:
        return ModelRef(model.sha256, model.path)
    return ModelRef(model.sha256, model.path, sbml=model.sbml, mapping=model.mapping)


#: the default batch size gives each worker about this many batches
BATCHES_PER_WORKER = 16


def _batch_size(batch_size: int | None, n_todo: int, n_workers: int | None) -> int:
    if batch_size is not None:
        return batch_size
    workers = n_workers or cpu_count()
    # 16 batches per worker: a worker idles at most the last batch of another (1/16 of the sweep);
    # at most 64 runs, so that progress, steady states and parts come back often
    return max(1, min(64, math.ceil(n_todo / (BATCHES_PER_WORKER * workers)))) if n_todo else 1


def _tasks(plan: _Plan, setup: RunSetup, todo: list[int], batch_size: int) -> Iterator[BatchTask]:
    """The batches; each made when the executor takes it, so it carries the cells finished by then
    (none in-process, where the cache is the caller's own)."""
    ship = setup.model.model is None
    for start in range(0, len(todo), batch_size):
        rows = tuple(RunRow(i, plan.panel[i], tuple(plan.rows[i].tolist())) for i in todo[start : start + batch_size])
        yield BatchTask(setup, rows, STEADY_STATES.export(SHIPPED_STEADY_STATES) if ship else None)


# ------------------------------------------------------------------------------------- driver


def run_sweep(
    sweep: Sweep,
    *,
    executor: object = None,
    n_workers: int | None = None,
    batch_size: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    model: Model | None = None,
) -> SweepResult:
    """Run every run of ``sweep`` and return the labelled result.

    ``executor``: None (a spawn-based process pool with ``n_workers``), ``"serial"`` (in-process), any
    ``concurrent.futures.Executor`` or a ``distributed.Client``. With ``out`` the results are written
    batch by batch to that folder (Parquet parts + manifest) and not kept in memory; ``resume=True``
    runs only the runs missing there. ``model`` overrides the sweep's model.
    """
    model = model or sweep.load_model()
    plan = _plan(sweep, model)
    if resume and out is None:
        raise SweepStoreError("resume=True needs 'out' (the folder of the interrupted sweep)")
    store = SweepStore(out) if out is not None else None
    if store is None:
        return _execute(sweep, plan, model, executor, n_workers, batch_size, progress, None, set())
    with store.locked():  # a second writer or resumer of this folder is refused, not interleaved
        done = store.prepare(plan.manifest, sweep.model_dump(mode="json"), resume=resume)
        _execute(sweep, plan, model, executor, n_workers, batch_size, progress, store, done)
    return SweepResult.open(store.path)


def _execute(
    sweep: Sweep,
    plan: _Plan,
    model: Model,
    executor: object,
    n_workers: int | None,
    batch_size: int | None,
    progress: bool,
    store: SweepStore | None,
    done: set[int],
) -> SweepResult:
    """Run the runs not in ``done``: into ``store`` (returning an empty result), or into memory."""
    todo = [i for i in range(plan.manifest.n_runs) if i not in done]
    setup = _setup(plan, sweep, _model_ref(executor, model))
    tasks = _tasks(plan, setup, todo, _batch_size(batch_size, len(todo), n_workers))
    run = _Execution(
        executor,
        n_workers,
        model,
        sweep.engine,
        progress,
        f"sweep {sweep.scenario.name}",
        plan.manifest.n_runs,
        len(done),
    )
    result = SweepResult.empty(plan.manifest)
    run.execute(tasks, result.fill if store is None else store.write_batch)
    return result


@dataclass(frozen=True)
class _Execution:
    """Where and how the batches run: in-process or on an executor, with a progress bar."""

    executor: object
    n_workers: int | None
    model: Model
    engine: str
    progress: bool
    label: str
    n_runs: int
    n_done: int

    def execute(self, tasks: Iterable[BatchTask], sink: Callable[[BatchResult], None]) -> None:
        """Run ``tasks``, handing each finished batch to ``sink`` at once."""
        from tqdm.auto import tqdm

        bar = tqdm(total=self.n_runs, initial=self.n_done, unit="run", disable=not self.progress, desc=self.label)

        def done(batch: BatchResult) -> None:
            if batch.steady_states:
                STEADY_STATES.update(batch.steady_states)
            sink(batch)
            bar.update(len(batch))

        try:
            if self.executor == "serial":
                for task in tasks:
                    done(_run_batch(task))
                return
            window = 2 * (self.n_workers or cpu_count())
            if self.executor is None:
                owned = live_pool(self.n_workers, self.model, self.engine)
                if owned is None:  # a new pool: this process runs the first rows while it starts
                    owned, tasks = start_and_run(self.n_workers, self.model, self.engine, tasks, done)
                self._on_own_pool(owned, tasks, done, window)
                return
            ex, _ = resolve_executor(self.executor, self.n_workers)

            def collect(task: BatchTask, f: Future[BatchResult]) -> None:
                if isinstance(f.exception(), BrokenProcessPool):
                    raise SimulationError(
                        f"{self.label}: a worker of the given executor died ({f.exception()}); the batches that "
                        "finished are kept (with out=..., resume=True runs the rest)"
                    )
                done(f.result())

            drain(ex, _run_batch, tasks, collect, window=window)
        finally:
            bar.close()

    @staticmethod
    def _on_own_pool(
        owned: OwnedPool, tasks: Iterable[BatchTask], done: Callable[[BatchResult], None], window: int
    ) -> None:
        """Run on a pool of our own: a dead worker's batch runs again (alone) on a fresh pool, and is recorded
        as failed if its worker dies again; Ctrl-C or an error stops the workers at once."""

        def collect(task: BatchTask, f: Future[BatchResult]) -> None:
            err = f.exception()
            if isinstance(err, BrokenProcessPool):
                reason = (
                    f"its worker process died twice running this batch ({err}); killed, out of memory or "
                    "crashed in native code"
                )
                done(_failed_batch(task, reason))
            else:
                done(f.result())

        try:
            drain(owned.pool, _run_batch, tasks, collect, window=window, respawn=owned.respawn)
        except BaseException:
            close_pool(now=True)
            raise
