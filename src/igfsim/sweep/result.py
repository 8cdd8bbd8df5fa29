"""The labelled result of a sweep, in memory or read back from its folder."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from igfsim.result.scenario_result import ArmRecord, RunStatus, ScenarioResult
from igfsim.sweep.records import BatchResult, SweepManifest
from igfsim.sweep.store import SweepStore

#: the status of a run of an in-memory result that no batch has filled yet
PENDING = RunStatus.PENDING


@dataclass
class _Runs:
    """The runs a result shows: read from a folder, or filled batch by batch in memory."""

    run: np.ndarray
    status: list[str]
    message: list[str]
    summary: np.ndarray
    trajectory: np.ndarray | None

    @classmethod
    def of(cls, batch: BatchResult) -> _Runs:
        return cls(batch.run, list(batch.status), list(batch.message), batch.summary, batch.trajectory)

    @classmethod
    def pending(cls, manifest: SweepManifest) -> _Runs:
        n = manifest.n_runs
        traj = np.full((n, *manifest.trajectory_shape), np.nan) if manifest.keep_trajectories else None
        return cls(np.arange(n), [PENDING] * n, [""] * n, np.full((n, *manifest.summary_shape), np.nan), traj)

    def fill(self, batch: BatchResult) -> None:
        idx = np.asarray(batch.run, dtype=int)
        for j, i in enumerate(idx):
            self.status[i] = batch.status[j]
            self.message[i] = batch.message[j]
        self.summary[idx] = batch.summary
        if batch.trajectory is not None and self.trajectory is not None:
            self.trajectory[idx] = batch.trajectory


class SweepResult:
    """The runs of a sweep: ``dataset`` (xarray), ``to_dataframe()`` (long pandas), ``grid()``,
    ``run_result(i)`` (one run as a :class:`~igfsim.result.scenario_result.ScenarioResult`).

    A result read from a folder (:meth:`open`, or ``run_sweep(out=...)``) holds the summaries; the
    trajectories are read only on request (``open(..., trajectories=True)``, :meth:`run_result`,
    :meth:`trajectories_of`), so looking at ``status`` or ``dataset`` of a large sweep stays small."""

    def __init__(
        self,
        manifest: SweepManifest,
        runs: BatchResult | None = None,
        store: SweepStore | None = None,
        trajectories: bool = True,
    ):
        if runs is None and store is None:
            raise ValueError("a SweepResult needs its runs or the store that holds them")
        self.manifest = manifest
        self._runs = _Runs.of(runs) if runs is not None else None
        self._store = store
        self._trajectories = trajectories
        self._ds: Any = None

    @cached_property
    def meta(self) -> dict[str, Any]:
        """The manifest as the mapping of ``manifest.json`` (for code that reads it by key)."""
        return self.manifest.to_json()

    # ---------------------------------------------------------------- construction
    @classmethod
    def empty(cls, manifest: SweepManifest) -> SweepResult:
        """An in-memory result to be filled batch by batch (runs not yet filled stay NaN / 'pending')."""
        res = cls(manifest, BatchResult.none(manifest, manifest.keep_trajectories))
        res._runs = _Runs.pending(manifest)
        return res

    def fill(self, batch: BatchResult) -> None:
        """Put one finished batch into an in-memory result."""
        if self._runs is None or self._store is not None:
            raise ValueError("fill() is for in-memory results; a stored sweep is written by its SweepStore")
        self._runs.fill(batch)
        self._ds = None

    @classmethod
    def open(cls, path: str | Path, *, trajectories: bool = False) -> SweepResult:
        """The result stored in a sweep folder, read when first looked at: the summaries only, unless
        ``trajectories`` (then :attr:`dataset` holds them too). :meth:`run_result` and
        :meth:`trajectories_of` read the trajectories of the runs they are asked for only."""
        store = SweepStore(path)
        return cls(store.read_manifest(), store=store, trajectories=trajectories)

    # ---------------------------------------------------------------- views
    def _arrays(self) -> _Runs:
        if self._runs is None:
            assert self._store is not None  # __init__ takes runs or a store
            self._runs = _Runs.of(self._store.read(trajectories=self._trajectories))
        return self._runs

    @property
    def status(self) -> list[str]:
        """Per run: ``ok`` or ``failed`` (:class:`~igfsim.result.scenario_result.RunStatus`)."""
        return list(self._arrays().status)

    @property
    def n_runs(self) -> int:
        return len(self.status)

    @property
    def n_ok(self) -> int:
        return sum(s == RunStatus.OK for s in self.status)

    @property
    def n_failed(self) -> int:
        return sum(s == RunStatus.FAILED for s in self.status)

    @property
    def ok(self) -> bool:
        return self.n_runs > 0 and self.n_ok == self.n_runs

    def run_result(self, run: int) -> ScenarioResult:
        """Run ``run`` as a :class:`~igfsim.result.scenario_result.ScenarioResult` (needs the
        trajectories: ``keep_trajectories``). Arms of a failed run whose trajectories are all NaN are
        recorded as failed, with the run's message; no units."""
        from igfsim.engines import get_engine

        d = self._arrays()
        where = np.flatnonzero(d.run == run)
        if where.size == 0:
            raise KeyError(f"no run {run} in this result")
        i = int(where[0])
        values = self.trajectories_of([run])[run]
        ok = d.status[i] == RunStatus.OK
        records = tuple(
            ArmRecord(arm, RunStatus.OK)
            if ok or not np.isnan(values[k]).all()
            else ArmRecord(arm, RunStatus.FAILED, d.message[i])
            for k, arm in enumerate(self.manifest.arms)
        )
        return ScenarioResult(
            scenario=self.manifest.scenario,
            engine=self.manifest.engine,
            arms=self.manifest.arms,
            times=np.asarray(self.manifest.times, dtype=float),
            readouts=self.manifest.readouts,
            values=values,
            records=records,
            time_units=get_engine(self.manifest.engine).time_units,
        )

    def trajectories_of(self, runs: list[int]) -> dict[int, np.ndarray]:
        """The trajectories ``(arm, time, readout)`` of ``runs`` (needs ``keep_trajectories``); from a
        folder, only the parts that hold them are read."""
        if not self.manifest.keep_trajectories:
            raise ValueError("this sweep kept no trajectories (keep_trajectories=True keeps them)")
        d = self._arrays()
        if d.trajectory is not None:
            index = {int(r): i for i, r in enumerate(d.run)}
            return {r: d.trajectory[index[r]] for r in runs if r in index}
        assert self._store is not None  # in memory, the trajectories are kept
        return self._store.read_trajectories(runs)

    @property
    def dataset(self):
        """``xarray.Dataset``: ``summary`` (run, arm, readout, metric) and, if kept, ``trajectory``
        (run, arm, time, readout); coords per axis (and ``panel``), ``status``, ``message`` along run."""
        if self._ds is None:
            self._ds = self._build()
        return self._ds

    def _build(self):
        import xarray as xr

        from igfsim._version import __version__

        d, m = self._arrays(), self.manifest
        runs = np.asarray(d.run, dtype=int)
        values = m.design_array()
        coords: dict[str, Any] = {
            "run": runs,
            "arm": list(m.arms),
            "readout": list(m.readouts),
            "metric": list(m.metrics),
        }
        for j, name in enumerate(m.axes):
            coords[name] = ("run", values[runs, j] if runs.size else np.zeros(0))
        if m.panel:
            coords["panel"] = ("run", np.asarray([m.panel[i] for i in runs], dtype=object).astype(str))
        coords["status"] = ("run", np.asarray(d.status, dtype=object).astype(str))
        coords["message"] = ("run", np.asarray(d.message, dtype=object).astype(str))
        data_vars = {"summary": (("run", "arm", "readout", "metric"), d.summary)}
        if d.trajectory is not None:
            coords["time"] = np.asarray(m.times, dtype=float)
            data_vars["trajectory"] = (("run", "arm", "time", "readout"), d.trajectory)
        attrs = {
            "scenario": m.scenario,
            "engine": m.engine,
            "design": m.design,
            "seed": m.seed,
            "spec_hash": m.spec_hash,
            "model_sha256": m.model_sha256,
            "igfsim_version": __version__,
            "axes": ", ".join(f"{a}={t}" for a, t in zip(m.axes, m.targets, strict=True)),
        }
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)

    def to_dataframe(self):
        """Long ``pandas.DataFrame``: run, [panel], one column per axis, arm, readout, metric, value, status."""
        da = self.dataset["summary"]
        keep = ["panel", *self.manifest.axes] if self.manifest.panel else list(self.manifest.axes)
        frame = da.reset_coords(drop=True).to_dataframe(name="value").reset_index()
        per_run = self.dataset[[*keep, "status"]].reset_coords().to_dataframe().reset_index()
        frame = frame.merge(per_run[["run", *keep, "status"]], on="run", how="left")
        return frame[["run", *keep, "arm", "readout", "metric", "value", "status"]]

    def grid(self, var: str = "summary"):
        """A full grid's ``var`` unstacked onto one dim per axis (and ``panel`` first, if any)."""
        if self.manifest.design != "grid":
            raise ValueError(f"grid() needs a grid design, not {self.manifest.design!r}")
        ds = self.dataset
        dims = (["panel"] if self.manifest.panel else []) + list(self.manifest.axes)
        if not dims:
            raise ValueError("a sweep without axes or panel has no grid")
        if var in ("status", "message"):
            import xarray as xr

            da = xr.DataArray(
                ds[var].values,
                dims=("run",),
                name=var,
                coords={"run": ds["run"].values, **{c: ("run", ds[c].values) for c in dims}},
            )
        else:
            da = ds[var].drop_vars(["status", "message"])
        if len(dims) == 1:  # a plain index cannot be unstacked: relabel the run dim instead
            return da.swap_dims(run=dims[0]).drop_vars("run").transpose(dims[0], ...)
        return da.set_index(run=dims).unstack("run").transpose(*dims, ...)
