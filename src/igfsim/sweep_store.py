"""Sweep results: in memory or streamed to a folder of Parquet parts, and the labelled xarray view.

Folder layout (``run_sweep(..., out=DIR)``)::

    DIR/manifest.json          format, spec hash, design (axes, values, panel), arms, readouts, metrics, times
    DIR/sweep.json             the sweep spec (scenario included) that produced the folder
    DIR/parts/part-000000.parquet   one file per finished batch: run, status, message, summary[, trajectory]

A part is written to a temporary name and renamed when complete, so an interrupted sweep leaves
only whole parts; the runs of those parts are the completed runs that ``resume=True`` skips.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .errors import IgfsimError

FORMAT = "igfsim-sweep/1"


class SweepStoreError(IgfsimError, ValueError):
    """A sweep output folder cannot be used (exists without resume, belongs to another sweep, unreadable)."""


class SweepStore:
    """Writes and reads one sweep output folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.parts = self.path / "parts"
        self._seq = 0

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def read_manifest(self) -> dict:
        try:
            meta = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SweepStoreError(f"{self.path}: no sweep here (manifest.json is missing)") from None
        except (OSError, ValueError) as err:
            raise SweepStoreError(f"{self.manifest_path}: unreadable ({err})") from None
        if meta.get("format") != FORMAT:
            raise SweepStoreError(f"{self.manifest_path}: not an igfsim sweep folder (format {meta.get('format')!r})")
        return meta

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []

    def completed_runs(self) -> set[int]:
        import pyarrow.parquet as pq

        done: set[int] = set()
        for f in self._part_files():
            done.update(pq.read_table(f, columns=["run"]).column("run").to_pylist())
        return done

    def prepare(self, meta: dict, spec: dict, *, resume: bool) -> set[int]:
        """Create the folder (or check it for resuming); return the runs already done."""
        meta = {"format": FORMAT, **meta}
        if self.manifest_path.exists():
            old = self.read_manifest()
            if not resume:
                raise SweepStoreError(f"{self.path} already holds a sweep ({old.get('scenario')}); resume it "
                                      "(resume=True, --resume) or choose another folder")
            if old.get("spec_hash") != meta["spec_hash"]:
                raise SweepStoreError(f"{self.path} holds a different sweep (spec hash {old.get('spec_hash', '')[:12]} "
                                      f"!= {meta['spec_hash'][:12]}: scenario, axes, design, seed, metrics, "
                                      "engine or model changed); refusing to resume into it")
        else:
            if self.path.exists() and any(self.path.iterdir()):
                raise SweepStoreError(f"{self.path} exists and is not a sweep folder; choose an empty or new folder")
            self.path.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.path / "sweep.json", json.dumps(spec, indent=1))
            _atomic_write(self.manifest_path, json.dumps(meta, indent=1))
        self.parts.mkdir(exist_ok=True)
        for tmp in self.parts.glob("*.tmp"):  # a part cut off mid-write: its runs are not done
            tmp.unlink()
        files = self._part_files()
        self._seq = int(files[-1].stem.split("-")[1]) + 1 if files else 0
        return self.completed_runs()

    def write_batch(self, batch: dict) -> None:
        """Write one finished batch as a part (atomic rename)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        n = len(batch["run"])
        if n == 0:
            return
        cols = {"run": pa.array(batch["run"], pa.int64()), "status": pa.array(batch["status"], pa.string()),
                "message": pa.array(batch["message"], pa.string())}
        for key in ("summary", "trajectory"):
            arr = batch.get(key)
            if arr is not None:
                flat = np.ascontiguousarray(arr, dtype=float).reshape(n, -1)
                cols[key] = pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel()), flat.shape[1])
        target = self.parts / f"part-{self._seq:06d}.parquet"
        tmp = target.with_suffix(".tmp")
        pq.write_table(pa.table(cols), tmp)
        os.replace(tmp, target)
        self._seq += 1

    def read(self, trajectories: bool = True) -> dict:
        """Every completed run, sorted by run id: run, status, message, summary[, trajectory]."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        meta = self.read_manifest()
        files = self._part_files()
        want = ["run", "status", "message", "summary"]
        if trajectories and meta.get("keep_trajectories"):
            want.append("trajectory")
        shape = {"summary": (len(meta["arms"]), len(meta["readouts"]), len(meta["metrics"])),
                 "trajectory": (len(meta["arms"]), len(meta["times"]), len(meta["readouts"]))}
        if not files:
            out = {"run": np.zeros(0, int), "status": [], "message": []}
            out.update({k: np.zeros((0, *shape[k])) for k in want[3:]})
            return out
        table = pa.concat_tables([pq.read_table(f, columns=want) for f in files])
        order = np.argsort(table.column("run").to_numpy(), kind="stable")
        table = table.take(pa.array(order))
        out = {"run": table.column("run").to_numpy(), "status": table.column("status").to_pylist(),
               "message": table.column("message").to_pylist()}
        for key in want[3:]:
            flat = table.column(key).combine_chunks().flatten().to_numpy(zero_copy_only=False)
            out[key] = flat.reshape(len(order), *shape[key])
        return out


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class SweepResult:
    """The runs of a sweep: ``dataset`` (xarray), ``to_dataframe()`` (long pandas), ``grid()``."""

    def __init__(self, meta: dict, data: dict | None = None, store: SweepStore | None = None,
                 trajectories: bool = True):
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
        data = {"run": np.arange(n_runs), "status": ["pending"] * n_runs, "message": [""] * n_runs,
                "summary": np.full(shape_s, np.nan)}
        if meta["keep_trajectories"]:
            data["trajectory"] = np.full((n_runs, len(meta["arms"]), len(meta["times"]), len(meta["readouts"])),
                                         np.nan)
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
        return sum(s == "ok" for s in self.status)

    @property
    def n_failed(self) -> int:
        return sum(s == "failed" for s in self.status)

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

        from . import __version__

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
        attrs = {"scenario": m["scenario"], "engine": m["engine"], "design": m["design"], "seed": m["seed"],
                 "spec_hash": m["spec_hash"], "model_sha256": m["model_sha256"], "igfsim_version": __version__,
                 "axes": ", ".join(f"{a}={t}" for a, t in zip(m["axes"], m["targets"], strict=True))}
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

            da = xr.DataArray(ds[var].values, dims=("run",), name=var,
                              coords={"run": ds["run"].values, **{c: ("run", ds[c].values) for c in dims}})
        else:
            da = ds[var].drop_vars(["status", "message"])
        if len(dims) == 1:  # a plain index cannot be unstacked: relabel the run dim instead
            return da.swap_dims(run=dims[0]).drop_vars("run").transpose(dims[0], ...)
        return da.set_index(run=dims).unstack("run").transpose(*dims, ...)
