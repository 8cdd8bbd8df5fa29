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

from igfsim.errors import SweepStoreError

FORMAT = "igfsim-sweep/1"


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
                raise SweepStoreError(
                    f"{self.path} already holds a sweep ({old.get('scenario')}); resume it "
                    "(resume=True, --resume) or choose another folder"
                )
            if old.get("spec_hash") != meta["spec_hash"]:
                raise SweepStoreError(
                    f"{self.path} holds a different sweep (spec hash {old.get('spec_hash', '')[:12]} "
                    f"!= {meta['spec_hash'][:12]}: scenario, axes, design, seed, metrics, "
                    "engine or model changed); refusing to resume into it"
                )
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
        cols = {
            "run": pa.array(batch["run"], pa.int64()),
            "status": pa.array(batch["status"], pa.string()),
            "message": pa.array(batch["message"], pa.string()),
        }
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
        shape = {
            "summary": (len(meta["arms"]), len(meta["readouts"]), len(meta["metrics"])),
            "trajectory": (len(meta["arms"]), len(meta["times"]), len(meta["readouts"])),
        }
        if not files:
            out = {"run": np.zeros(0, int), "status": [], "message": []}
            out.update({k: np.zeros((0, *shape[k])) for k in want[3:]})
            return out
        table = pa.concat_tables([pq.read_table(f, columns=want) for f in files])
        order = np.argsort(table.column("run").to_numpy(), kind="stable")
        table = table.take(pa.array(order))
        out = {
            "run": table.column("run").to_numpy(),
            "status": table.column("status").to_pylist(),
            "message": table.column("message").to_pylist(),
        }
        for key in want[3:]:
            flat = table.column(key).combine_chunks().flatten().to_numpy(zero_copy_only=False)
            out[key] = flat.reshape(len(order), *shape[key])
        return out


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
