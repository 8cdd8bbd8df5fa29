"""Parameter sweeps: a scenario plus axes (grids, Latin hypercube / Sobol designs, virtual cell panels).

>>> from igfsim.sweep import Axis, Sweep, run_sweep  # doctest: +SKIP
>>> sw = Sweep(scenario="scenarios/c01_mab_vs_dual_tki.yaml",
...            axes=[Axis(name="dose", target="dose:*/cixutumumab", range=(0.01, 1000), n=9, scale="log")])
>>> res = run_sweep(sw)                      # a process pool; executor="serial" runs in-process
>>> res.dataset["summary"].sel(arm="cixutumumab", readout="pAkt", metric="auc")  # doctest: +SKIP

Each run applies one design row to a copy of the scenario (every arm; then the sweep's arms are
kept) and simulates it with :func:`igfsim.run_scenario` (``on_error="record"``); a failed run is
kept with status, message and NaN. Workers get :class:`BatchTask` s (what every run shares, plus the
rows of the batch) and hand back :class:`~igfsim.sweep.records.BatchResult` s; they get the SBML
text and compile the model once per process.
See ``docs/sweeps.md``.
"""

from __future__ import annotations

import atexit
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from igfsim.engines.steady_state import STEADY_STATES, SteadyStates
from igfsim.errors import ScenarioError, SimulationError, SweepStoreError
from igfsim.model.mapping import ModelMapping
from igfsim.model.sbml import Model, load_model_string
from igfsim.result.scenario_result import RunStatus
from igfsim.scenario.schema import Scenario
from igfsim.scenario.targets import CellValues, Target, parse_target
from igfsim.sweep.executors import OwnedPool, cpu_count, drain, resolve_executor
from igfsim.sweep.records import BatchResult, SweepManifest
from igfsim.sweep.result import SweepResult
from igfsim.sweep.spec import (
    TARGET_KINDS,
    Axis,
    Sweep,
    apply_row,
    check_sweep,
    design_table,
    load_sweep,
    sweep_hash,
)
from igfsim.sweep.store import SweepStore

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


@dataclass(frozen=True)
class ModelRef:
    """How a worker finds the model: the object itself (in-process), or its hash, name and -- unless
    the pool's initializer has loaded it already -- its SBML text."""

    sha256: str
    name: str
    sbml: str | None = None
    model: Model | None = None
    #: the model's mapping, sent with the SBML (workers have no view of the caller's files)
    mapping: ModelMapping | None = None


@dataclass(frozen=True)
class RunSetup:
    """What every run of a sweep shares (sent with each batch).

    ``scenario`` has every arm (targets apply to it before the arms in ``arms`` are kept), no
    expectations and the sweep's readouts.
    """

    scenario: Scenario
    arms: tuple[str, ...]
    targets: tuple[Target, ...]
    panel: Mapping[str, CellValues] | None
    readouts: tuple[str, ...]
    metrics: tuple[str, ...]
    engine: str
    keep_trajectories: bool
    n_times: int
    model: ModelRef

    def empty_summary(self) -> np.ndarray:
        """NaN metrics of one run: (arm, readout, metric)."""
        return np.full((len(self.arms), len(self.readouts), len(self.metrics)), np.nan)

    def empty_trajectory(self) -> np.ndarray | None:
        """NaN trajectories of one run (arm, time, readout), or None when they are not kept."""
        if not self.keep_trajectories:
            return None
        return np.full((len(self.arms), self.n_times, len(self.readouts)), np.nan)

    def variant(self, member: str | None, values: tuple[float, ...], model: Model) -> Scenario:
        """The scenario of one run: its design row (and panel member) applied, the sweep's arms kept."""
        cell = (self.panel or {}).get(member) if member is not None else None
        full = apply_row(self.scenario, self.targets, values, cell, model=model)
        return full.model_copy(update={"arms": [full.arm(a) for a in self.arms]})


@dataclass(frozen=True)
class RunRow:
    """One run of a batch: its id, panel member (None without a panel) and axis values."""

    run: int
    member: str | None
    values: tuple[float, ...]


@dataclass(frozen=True)
class BatchTask:
    """A batch of runs for one worker call, with the pre-equilibrated cells the caller knows."""

    setup: RunSetup
    rows: tuple[RunRow, ...]
    steady_states: SteadyStates | None = None


# ------------------------------------------------------------------------------------ workers

_MODELS: dict[str, Model] = {}
_LOCK = threading.Lock()  # one simulation at a time per process: engines are per-process singletons


def _init_worker(sha: str, sbml: str, name: str, mapping: ModelMapping | None = None) -> None:
    """Load the model from its SBML text (with its mapping) once per worker process (other executors)."""
    if sha not in _MODELS:
        _MODELS[sha] = load_model_string(sbml, name, mapping=mapping)


def _adopt_model(model: Model, engine: str, compiled: bytes | None) -> None:
    """Process-pool initializer of igfsim's own pool: the caller's model as it is, and its compiled
    form for ``engine`` (so the worker neither parses nor compiles)."""
    from igfsim.engines import ShipsCompiled, get_engine

    _MODELS[model.sha256] = model
    eng = get_engine(engine)
    if compiled is not None and isinstance(eng, ShipsCompiled):
        eng.adopt(model, compiled)


def _worker_model(ref: ModelRef) -> Model:
    if ref.model is not None:
        return ref.model
    if ref.sha256 not in _MODELS:
        if ref.sbml is None:
            raise RuntimeError(f"model {ref.name} ({ref.sha256[:12]}) was not loaded in this worker")
        _init_worker(ref.sha256, ref.sbml, ref.name, ref.mapping)
    return _MODELS[ref.sha256]


def _run_one(scenario: Scenario, model: Model, setup: RunSetup) -> tuple[RunStatus, str, np.ndarray, np.ndarray | None]:
    from igfsim.result.metrics import metric
    from igfsim.runner import run_scenario

    summary, traj = setup.empty_summary(), setup.empty_trajectory()
    try:
        res = run_scenario(scenario, model, engine=setup.engine, on_error="record")
    except Exception as err:  # noqa: BLE001 - any failure of one run is recorded, the sweep goes on
        return RunStatus.FAILED, f"{type(err).__name__}: {err}", summary, traj
    failed = [f"{r.arm}: {r.message}" for r in res.records if not r.ok]
    for i, rec in enumerate(res.records):
        if not rec.ok:
            continue
        y = res.values[i]
        if traj is not None:
            traj[i] = y
        for k, ro in enumerate(setup.readouts):
            col = y[:, res.readouts.index(ro)]
            for m, name in enumerate(setup.metrics):
                summary[i, k, m] = metric(res.times, col, name)
    return (RunStatus.FAILED if failed else RunStatus.OK), "; ".join(failed), summary, traj


def _run_row(setup: RunSetup, row: RunRow, model: Model) -> tuple[RunStatus, str, np.ndarray, np.ndarray | None]:
    try:
        variant = setup.variant(row.member, row.values, model)
    except (ValidationError, ValueError) as err:
        return RunStatus.FAILED, f"invalid run: {err}", setup.empty_summary(), setup.empty_trajectory()
    return _run_one(variant, model, setup)


def _run_batch(task: BatchTask) -> BatchResult:
    """Simulate a batch of runs (executed in a worker)."""
    setup = task.setup
    model = _worker_model(setup.model)
    with _LOCK:
        if task.steady_states:
            STEADY_STATES.update(task.steady_states)
        known = STEADY_STATES.keys()
        outcomes = [_run_row(setup, row, model) for row in task.rows]
        learned = STEADY_STATES.export(SHIPPED_STEADY_STATES, besides=known) if task.steady_states is not None else None
    trajectories = [o[3] for o in outcomes if o[3] is not None]
    return BatchResult(
        run=np.asarray([row.run for row in task.rows], dtype=int),
        status=tuple(o[0] for o in outcomes),
        message=tuple(o[1] for o in outcomes),
        summary=np.stack([o[2] for o in outcomes]) if outcomes else np.zeros((0, *setup.empty_summary().shape)),
        trajectory=np.stack(trajectories) if trajectories else None,
        steady_states=learned,
    )


def _failed_batch(task: BatchTask, message: str) -> BatchResult:
    """Every run of ``task`` recorded as failed with ``message`` (NaN values)."""
    setup, n = task.setup, len(task.rows)
    traj = setup.empty_trajectory()
    return BatchResult(
        run=np.asarray([row.run for row in task.rows], dtype=int),
        status=(RunStatus.FAILED,) * n,
        message=(message,) * n,
        summary=np.stack([setup.empty_summary()] * n) if n else np.zeros((0, *setup.empty_summary().shape)),
        trajectory=np.stack([traj] * n) if traj is not None and n else None,
    )


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


def _batch_size(batch_size: int | None, n_todo: int, n_workers: int | None) -> int:
    if batch_size is not None:
        return batch_size
    workers = n_workers or cpu_count()
    return max(1, min(64, math.ceil(n_todo / (4 * workers)))) if n_todo else 1


#: at most this many pre-equilibrated cells travel with a batch to a worker, and back
SHIPPED_STEADY_STATES = 16


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
                self._on_own_pool(_session_pool(self.n_workers, self.model, self.engine), tasks, done, window)
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


# ------------------------------------------------------------------------------- session pool


@dataclass
class _Session:
    """igfsim's own pool, kept for the next sweep of the same model, engine and size."""

    owned: OwnedPool
    n_workers: int
    model: Model
    engine: str


_SESSION: _Session | None = None


def _session_pool(n_workers: int | None, model: Model, engine: str) -> OwnedPool:
    """The session's pool when it suits this sweep; else a new one (the old one stopped), whose workers
    receive ``model`` and its compiled form: one pool start per session, not one per sweep."""
    global _SESSION
    n = n_workers or cpu_count()
    s = _SESSION
    wanted = (n, model.sha256, engine, model.mapping)
    if s is not None and (s.n_workers, s.model.sha256, s.engine, s.model.mapping) == wanted:
        return s.owned
    close_pool()
    from igfsim.engines import ShipsCompiled, get_engine

    eng = get_engine(engine)
    compiled = eng.compiled_state(model) if isinstance(eng, ShipsCompiled) else None
    _SESSION = _Session(OwnedPool(n, _adopt_model, (model, engine, compiled)), n, model, engine)
    return _SESSION.owned


def close_pool(*, now: bool = False) -> None:
    """Stop the worker processes :func:`run_sweep` keeps between calls (at exit this happens by itself);
    ``now`` terminates them without waiting for running batches."""
    global _SESSION
    if _SESSION is not None:
        session, _SESSION = _SESSION, None
        session.owned.stop(now=now)


atexit.register(close_pool, now=True)
