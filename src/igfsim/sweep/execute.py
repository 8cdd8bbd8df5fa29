"""Parameter sweeps: a scenario plus axes (grids, Latin hypercube / Sobol designs, virtual cell panels).

>>> from igfsim.sweep import Axis, Sweep, run_sweep  # doctest: +SKIP
>>> sw = Sweep(scenario="scenarios/c01_mab_vs_dual_tki.yaml",
...            axes=[Axis(name="dose", target="dose:*/cixutumumab", range=(0.01, 1000), n=9, scale="log")])
>>> res = run_sweep(sw)                      # a process pool; executor="serial" runs in-process
>>> res.dataset["summary"].sel(arm="cixutumumab", readout="pAkt", metric="auc")  # doctest: +SKIP

Each run applies one design row to a copy of the scenario and simulates it with
:func:`igfsim.run_scenario` (``on_error="record"``); a failed run is kept with status, message and NaN.
Workers get the SBML text and the run descriptions, and compile the model once per process.
See ``docs/sweeps.md``.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from igfsim.errors import ScenarioError, SweepStoreError
from igfsim.model.sbml import Model, load_model_string
from igfsim.result.scenario_result import RunStatus
from igfsim.scenario.schema import Scenario
from igfsim.sweep.result import SweepResult
from igfsim.sweep.spec import Axis, Sweep, apply_row, check_sweep, design_table, load_sweep, sweep_hash
from igfsim.sweep.store import SweepStore

__all__ = [
    "Axis",
    "Sweep",
    "SweepResult",
    "SweepStoreError",
    "check_sweep",
    "design_table",
    "load_sweep",
    "run_sweep",
    "sweep_hash",
]


# ------------------------------------------------------------------------------------ workers

_MODELS: dict[str, Model] = {}
_LOCK = threading.Lock()  # one simulation at a time per process: engines are per-process singletons


def _init_worker(sha: str, sbml: str, name: str) -> None:
    """Process-pool initializer: compile-ready model once per worker process."""
    if sha not in _MODELS:
        _MODELS[sha] = load_model_string(sbml, name)


def _worker_model(task: dict) -> Model:
    if isinstance(task.get("model"), Model):
        return task["model"]
    key = task["model_sha"]
    if key not in _MODELS:
        _init_worker(key, task["model_sbml"], task["model_name"])
    return _MODELS[key]


def _run_one(scenario: Scenario, model: Model, task: dict):
    from igfsim.result.metrics import metric
    from igfsim.runner import run_scenario

    n_arm, n_ro, n_m = len(task["arms"]), len(task["readouts"]), len(task["metrics"])
    summary = np.full((n_arm, n_ro, n_m), np.nan)
    traj = np.full((n_arm, task["n_times"], n_ro), np.nan) if task["keep_trajectories"] else None
    try:
        res = run_scenario(scenario, model, engine=task["engine"], on_error="record")
    except Exception as err:  # noqa: BLE001 - any failure of one run is recorded, the sweep goes on
        return RunStatus.FAILED, f"{type(err).__name__}: {err}", summary, traj
    failed = [f"{r.arm}: {r.message}" for r in res.records if not r.ok]
    for i, rec in enumerate(res.records):
        if not rec.ok:
            continue
        y = res.values[i]
        if traj is not None:
            traj[i] = y
        for k, ro in enumerate(task["readouts"]):
            col = y[:, res.readouts.index(ro)]
            for m, name in enumerate(task["metrics"]):
                summary[i, k, m] = metric(res.times, col, name)
    return (RunStatus.FAILED if failed else RunStatus.OK), "; ".join(failed), summary, traj


def _run_batch(task: dict) -> dict:
    """Simulate a batch of runs (executed in a worker). Returns plain arrays and lists."""
    model = _worker_model(task)
    base: Scenario = task["scenario"]
    out = {"run": [], "status": [], "message": [], "summary": [], "trajectory": []}
    with _LOCK:
        for run_id, member, values in task["rows"]:
            try:
                variant = apply_row(base, task["targets"], values, (task["panel"] or {}).get(member))
            except (ValidationError, ValueError) as err:
                status, msg = RunStatus.FAILED, f"invalid run: {err}"
                summary = np.full((len(task["arms"]), len(task["readouts"]), len(task["metrics"])), np.nan)
                traj = (
                    np.full((len(task["arms"]), task["n_times"], len(task["readouts"])), np.nan)
                    if task["keep_trajectories"]
                    else None
                )
            else:
                status, msg, summary, traj = _run_one(variant, model, task)
            out["run"].append(run_id)
            out["status"].append(status)
            out["message"].append(msg)
            out["summary"].append(summary)
            out["trajectory"].append(traj)
    out["summary"] = np.stack(out["summary"]) if out["summary"] else None
    out["trajectory"] = np.stack(out["trajectory"]) if task["keep_trajectories"] and out["trajectory"] else None
    return out


# ------------------------------------------------------------------------------------- driver


def _as_executor(executor, n_workers: int | None, model: Model):
    """(executor, owned): resolve None / "serial" / a distributed.Client / any Executor."""
    if executor is None:
        import multiprocessing

        return ProcessPoolExecutor(
            max_workers=n_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(model.sha256, model.sbml, model.path),
        ), True
    if executor == "serial":
        return None, False
    if type(executor).__name__ == "Client" and type(executor).__module__.startswith("distributed"):
        return executor.get_executor(), False
    if isinstance(executor, Executor) or hasattr(executor, "submit"):
        return executor, False
    raise TypeError(
        f"executor must be None, 'serial', a concurrent.futures.Executor or a distributed.Client, "
        f"got {type(executor).__name__}"
    )


def run_sweep(
    sweep: Sweep,
    *,
    executor=None,
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
    from igfsim.engines import get_engine
    from igfsim.scenario.translate import build_protocol

    model = model or sweep.load_model()
    if issues := check_sweep(sweep, model):
        raise ScenarioError(f"<sweep of {sweep.scenario.name}>", issues)
    sc = sweep.scenario
    readouts = list(sc.selected_readouts())
    arms = list(sweep.arms or [a.name for a in sc.arms])
    base = sc.model_copy(update={"arms": [sc.arm(a) for a in arms], "expect": [], "readouts": readouts})
    panel, rows = design_table(sweep)
    times = np.asarray(get_engine(sweep.engine).output_times(build_protocol(model, base, base.arms[0])), dtype=float)
    meta = {
        "scenario": sc.name,
        "engine": sweep.engine,
        "design": sweep.design,
        "seed": sweep.seed,
        "axes": [a.name for a in sweep.axes],
        "targets": [a.target for a in sweep.axes],
        "arms": arms,
        "readouts": readouts,
        "metrics": list(sweep.metrics),
        "times": times.tolist(),
        "panel": panel if sweep.panel else None,
        "design_values": rows.tolist(),
        "keep_trajectories": sweep.keep_trajectories,
        "spec_hash": sweep_hash(sweep, model),
        "model_sha256": model.sha256,
    }
    store = SweepStore(out) if out is not None else None
    if resume and store is None:
        raise SweepStoreError("resume=True needs 'out' (the folder of the interrupted sweep)")
    done: set[int] = set()
    if store is not None:
        done = store.prepare(meta, sweep.model_dump(mode="json"), resume=resume)
    todo = [i for i in range(len(rows)) if i not in done]
    workers = n_workers or _cpu_count()
    if batch_size is None:
        batch_size = max(1, min(64, math.ceil(len(todo) / (4 * workers)))) if todo else 1
    common = {
        "scenario": base,
        "targets": meta["targets"],
        "panel": sweep.panel,
        "arms": arms,
        "readouts": readouts,
        "metrics": list(sweep.metrics),
        "engine": sweep.engine,
        "keep_trajectories": sweep.keep_trajectories,
        "n_times": times.size,
    }
    serial = executor == "serial"
    if serial:
        common["model"] = model
    elif executor is None:  # our own pool: its initializer hands every worker the model once
        common.update(model_sha=model.sha256)
    else:
        common.update(model_sha=model.sha256, model_sbml=model.sbml, model_name=model.path)
    batches = [todo[i : i + batch_size] for i in range(0, len(todo), batch_size)]
    tasks = ({**common, "rows": [(i, panel[i], rows[i].tolist()) for i in b]} for b in batches)

    result = None if store is not None else SweepResult.empty(meta, len(rows))
    sink = store.write_batch if store is not None else result.fill
    from tqdm.auto import tqdm

    bar = tqdm(total=len(rows), initial=len(done), unit="run", disable=not progress, desc=f"sweep {sc.name}")
    try:
        if serial:
            for task in tasks:
                batch = _run_batch(task)
                sink(batch)
                bar.update(len(batch["run"]))
        else:
            ex, owned = _as_executor(executor, n_workers, model)
            try:
                _drain(ex, tasks, sink, bar, window=2 * workers)
            finally:
                if owned:
                    ex.shutdown(wait=True, cancel_futures=True)
    finally:
        bar.close()
    return SweepResult.open(out) if store is not None else result


def _drain(ex, tasks, sink, bar, window: int) -> None:
    """Keep at most ``window`` batches in flight; hand each finished batch to ``sink`` at once."""
    pending = set()
    try:
        for task in tasks:
            pending.add(ex.submit(_run_batch, task))
            while len(pending) >= window:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    batch = f.result()
                    sink(batch)
                    bar.update(len(batch["run"]))
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                batch = f.result()
                sink(batch)
                bar.update(len(batch["run"]))
    finally:
        for f in pending:
            f.cancel()


def _cpu_count() -> int:
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
