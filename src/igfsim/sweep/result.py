"""The labelled result of a sweep, in memory or read back from its folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from igfsim.result.scenario_result import RunStatus
from igfsim.sweep.store import SweepStore


class SweepResult:
    """The runs of a sweep: ``dataset`` (xarray), ``to_dataframe()`` (long pandas), ``grid()``."""

    def __init__(
        self, meta: dict, data: dict | None = None, store: SweepStore | None = None, trajectories: bool = True
    ):
        self.meta = meta
        self._data = data
        self._store = store
        self._trajectories = trajectories
        self._ds = None

    # ---------------------------------------------------------------- construction
    @classmethod
    def empty(cls, meta: dict, n_runs: int) -> SweepResult:
        """An in-memory result to be filled batch by batch (runs not yet filled stay NaN / 'pending')."""
        shape_s = (n_runs, len(meta["arms"]), len(meta["readouts"]), len(meta["metrics"]))
        data = {
            "run": np.arange(n_runs),
            "status": ["pending"] * n_runs,
            "message": [""] * n_runs,
            "summary": np.full(shape_s, np.nan),
        }
        if meta["keep_trajectories"]:
            data["trajectory"] = np.full((n_runs, len(meta["arms"]), len(meta["times"]), len(meta["readouts"])), np.nan)
        return cls(meta, data)

    def fill(self, batch: dict) -> None:
        """Put one finished batch into an in-memory result."""
        idx = np.asarray(batch["run"], dtype=int)
        for j, i in enumerate(idx):
            self._data["status"][i] = batch["status"][j]
            self._data["message"][i] = batch["message"][j]
        self._data["summary"][idx] = batch["summary"]
        if batch.get("trajectory") is not None:
            self._data["trajectory"][idx] = batch["trajectory"]
        self._ds = None

    @classmethod
    def open(cls, path: str | Path, *, trajectories: bool = True) -> SweepResult:
        """The result stored in a sweep folder (read lazily; ``trajectories=False`` skips them)."""
        store = SweepStore(path)
        return cls(store.read_manifest(), store=store, trajectories=trajectories)

    # ---------------------------------------------------------------- views
    def _arrays(self) -> dict:
        if self._data is None:
            self._data = self._store.read(trajectories=self._trajectories)
        return self._data

    @property
    def status(self) -> list[str]:
        return list(self._arrays()["status"])

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

        d, m = self._arrays(), self.meta
        runs = np.asarray(d["run"], dtype=int)
        values = np.asarray(m["design_values"], dtype=float).reshape(-1, len(m["axes"]))
        coords = {"run": runs, "arm": list(m["arms"]), "readout": list(m["readouts"]), "metric": list(m["metrics"])}
        for j, name in enumerate(m["axes"]):
            coords[name] = ("run", values[runs, j] if runs.size else np.zeros(0))
        if m.get("panel"):
            coords["panel"] = ("run", np.asarray([m["panel"][i] for i in runs], dtype=object).astype(str))
        coords["status"] = ("run", np.asarray(d["status"], dtype=object).astype(str))
        coords["message"] = ("run", np.asarray(d["message"], dtype=object).astype(str))
        data_vars = {"summary": (("run", "arm", "readout", "metric"), d["summary"])}
        if "trajectory" in d:
            coords["time"] = np.asarray(m["times"], dtype=float)
            data_vars["trajectory"] = (("run", "arm", "time", "readout"), d["trajectory"])
        attrs = {
            "scenario": m["scenario"],
            "engine": m["engine"],
            "design": m["design"],
            "seed": m["seed"],
            "spec_hash": m["spec_hash"],
            "model_sha256": m["model_sha256"],
            "igfsim_version": __version__,
            "axes": ", ".join(f"{a}={t}" for a, t in zip(m["axes"], m["targets"], strict=True)),
        }
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)

    def to_dataframe(self):
        """Long ``pandas.DataFrame``: run, [panel], one column per axis, arm, readout, metric, value, status."""
        da = self.dataset["summary"]
        keep = ["panel", *self.meta["axes"]] if self.meta.get("panel") else list(self.meta["axes"])
        frame = da.reset_coords(drop=True).to_dataframe(name="value").reset_index()
        per_run = self.dataset[[*keep, "status"]].reset_coords().to_dataframe().reset_index()
        frame = frame.merge(per_run[["run", *keep, "status"]], on="run", how="left")
        return frame[["run", *keep, "arm", "readout", "metric", "value", "status"]]

    def grid(self, var: str = "summary"):
        """A full grid's ``var`` unstacked onto one dim per axis (and ``panel`` first, if any)."""
        if self.meta["design"] != "grid":
            raise ValueError(f"grid() needs a grid design, not {self.meta['design']!r}")
        ds = self.dataset
        dims = (["panel"] if self.meta.get("panel") else []) + list(self.meta["axes"])
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
