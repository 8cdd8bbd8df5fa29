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
from typing import Any

import numpy as np

from igfsim.errors import SweepStoreError
from igfsim.result.scenario_result import RunStatus
from igfsim.sweep.records import FORMAT, BatchResult, SweepManifest

__all__ = ["FORMAT", "SweepStore", "SweepStoreError"]


class SweepStore:
    """Writes and reads one sweep output folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.parts = self.path / "parts"
        self._seq = 0

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def read_manifest(self) -> SweepManifest:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SweepStoreError(f"{self.path}: no sweep here (manifest.json is missing)") from None
        except (OSError, ValueError) as err:
            raise SweepStoreError(f"{self.manifest_path}: unreadable ({err})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise SweepStoreError(f"{self.manifest_path}: not an igfsim sweep folder (format {found!r})")
        try:
            return SweepManifest.from_json(data)
        except (KeyError, TypeError, ValueError) as err:
            raise SweepStoreError(f"{self.manifest_path}: unreadable ({err})") from None

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []

    def completed_runs(self) -> set[int]:
        import pyarrow.parquet as pq

        done: set[int] = set()
        for f in self._part_files():
            done.update(pq.read_table(f, columns=["run"]).column("run").to_pylist())
        return done

    def prepare(self, manifest: SweepManifest, spec: dict[str, Any], *, resume: bool) -> set[int]:
        """Create the folder (or check it for resuming); return the runs already done."""
        if self.manifest_path.exists():
            self._check_resumable(manifest, resume=resume)
        else:
            if self.path.exists() and any(self.path.iterdir()):
                raise SweepStoreError(f"{self.path} exists and is not a sweep folder; choose an empty or new folder")
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path / "sweep.json", json.dumps(spec, indent=1))
            atomic_write(self.manifest_path, json.dumps(manifest.to_json(), indent=1))
        self.parts.mkdir(exist_ok=True)
        for tmp in self.parts.glob("*.tmp"):  # a part cut off mid-write: its runs are not done
            tmp.unlink()
        files = self._part_files()
        self._seq = int(files[-1].stem.split("-")[1]) + 1 if files else 0
        return self.completed_runs()

    def _check_resumable(self, manifest: SweepManifest, *, resume: bool) -> None:
        old = self.read_manifest()
        if not resume:
            raise SweepStoreError(
                f"{self.path} already holds a sweep ({old.scenario}); resume it "
                "(resume=True, --resume) or choose another folder"
            )
        if old.spec_hash != manifest.spec_hash:
            raise SweepStoreError(
                f"{self.path} holds a different sweep (spec hash {old.spec_hash[:12]} "
                f"!= {manifest.spec_hash[:12]}: scenario, axes, design, seed, metrics, "
                "engine or model changed); refusing to resume into it"
            )

    def write_batch(self, batch: BatchResult) -> None:
        """Write one finished batch as a part (atomic rename)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        n = len(batch)
        if n == 0:
            return
        cols = {
            "run": pa.array(batch.run, pa.int64()),
            "status": pa.array([str(s) for s in batch.status], pa.string()),
            "message": pa.array(list(batch.message), pa.string()),
        }
        for key, arr in (("summary", batch.summary), ("trajectory", batch.trajectory)):
            if arr is not None:
                flat = np.ascontiguousarray(arr, dtype=float).reshape(n, -1)
                cols[key] = pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel()), flat.shape[1])
        target = self.parts / f"part-{self._seq:06d}.parquet"
        tmp = target.with_suffix(".tmp")
        pq.write_table(pa.table(cols), tmp)
        os.replace(tmp, target)
        self._seq += 1

    def read(self, trajectories: bool = True) -> BatchResult:
        """Every completed run, sorted by run id (trajectories when kept and ``trajectories``)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        manifest = self.read_manifest()
        files = self._part_files()
        with_traj = trajectories and manifest.keep_trajectories
        if not files:
            return BatchResult.none(manifest, with_traj)
        want = ["run", "status", "message", "summary"] + (["trajectory"] if with_traj else [])
        table = pa.concat_tables([pq.read_table(f, columns=want) for f in files])
        order = np.argsort(table.column("run").to_numpy(), kind="stable")
        table = table.take(pa.array(order))

        def block(key: str, shape: tuple[int, ...]) -> np.ndarray:
            flat = table.column(key).combine_chunks().flatten().to_numpy(zero_copy_only=False)
            return flat.reshape(len(order), *shape)

        return BatchResult(
            run=table.column("run").to_numpy(),
            status=tuple(RunStatus(s) for s in table.column("status").to_pylist()),
            message=tuple(table.column("message").to_pylist()),
            summary=block("summary", manifest.summary_shape),
            trajectory=block("trajectory", manifest.trajectory_shape) if with_traj else None,
        )


def atomic_write(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` through a temporary file and a rename (never half written)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
