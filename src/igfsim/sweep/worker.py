"""The worker side of a sweep: what a batch carries (:class:`BatchTask`), how a worker finds the model
and runs the rows of a batch into a :class:`~igfsim.sweep.records.BatchResult`.

Workers of igfsim's own pool get the model and its compiled form once, from the pool's initializer
(:func:`_adopt_model`); other executors' workers get the SBML text with each batch and load it once
per process. The steady states a batch brings are used, and the ones it computes go back with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
from pydantic import ValidationError

from igfsim.engines.steady_state import STEADY_STATES, SteadyStates
from igfsim.model.mapping import ModelMapping
from igfsim.model.sbml import Model, load_model_string
from igfsim.result.scenario_result import RunStatus
from igfsim.scenario.schema import Scenario
from igfsim.scenario.targets import CellValues, Target
from igfsim.sweep.records import BatchResult
from igfsim.sweep.spec import apply_row

__all__ = ["SHIPPED_STEADY_STATES", "BatchTask", "ModelRef", "RunRow", "RunSetup", "run_until"]

#: at most this many pre-equilibrated cells travel with a batch to a worker, and back
SHIPPED_STEADY_STATES = 16

#: what one run gives: status, message, metrics (arm, readout, metric), trajectories or None
Outcome = tuple[RunStatus, str, np.ndarray, np.ndarray | None]


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


def _run_one(scenario: Scenario, model: Model, setup: RunSetup) -> Outcome:
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


def _run_row(setup: RunSetup, row: RunRow, model: Model) -> Outcome:
    try:
        variant = setup.variant(row.member, row.values, model)
    except (ValidationError, ValueError) as err:
        return RunStatus.FAILED, f"invalid run: {err}", setup.empty_summary(), setup.empty_trajectory()
    return _run_one(variant, model, setup)


def _batch_result(setup: RunSetup, rows: tuple[RunRow, ...], outcomes: list[Outcome], learned=None) -> BatchResult:
    trajectories = [o[3] for o in outcomes if o[3] is not None]
    return BatchResult(
        run=np.asarray([row.run for row in rows], dtype=int),
        status=tuple(o[0] for o in outcomes),
        message=tuple(o[1] for o in outcomes),
        summary=np.stack([o[2] for o in outcomes]) if outcomes else np.zeros((0, *setup.empty_summary().shape)),
        trajectory=np.stack(trajectories) if trajectories else None,
        steady_states=learned,
    )


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
    return _batch_result(setup, task.rows, outcomes, learned)


def run_until(task: BatchTask, model: Model, stop: Callable[[], bool]) -> tuple[BatchResult, BatchTask | None]:
    """Run ``task``'s rows here, in this process, with ``model``, until ``stop()`` is true: the result of
    the rows run, and a task of the rows left (None when none is)."""
    outcomes: list[Outcome] = []
    with _LOCK:
        for row in task.rows:
            if stop():
                break
            outcomes.append(_run_row(task.setup, row, model))
    k = len(outcomes)
    rest = replace(task, rows=task.rows[k:]) if k < len(task.rows) else None
    return _batch_result(task.setup, task.rows[:k], outcomes), rest


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
