"""Sweep results: in memory or streamed to a folder of Parquet parts, and the labelled xarray view.

Folder layout (``run_sweep(..., out=DIR)``; format ``igfsim-sweep/2``, docs/sweeps.md)::

    DIR/manifest.json          format, spec hash, design (axes, values, panel), arms, readouts, metrics, times
    DIR/sweep.json             the sweep spec (scenario included) that produced the folder
    DIR/parts/part-000000.parquet          one file per finished batch, one row per run x arm x readout x
                                           metric: run, [panel,] <axis>..., status, message, arm, readout,
                                           metric, value
    DIR/trajectories/part-000000.parquet   with keep_trajectories: one row per run x arm x time x readout:
                                           run, arm, time, readout, value

Any Parquet reader opens the folders as tables with named columns (``pandas.read_parquet(DIR/"parts")``).
A part is written to a hidden temporary name and renamed when complete (a batch's trajectories before
its summary), so an interrupted sweep leaves only whole parts; the runs of the summary parts are the
completed runs that ``resume=True`` skips. Folders of format ``igfsim-sweep/1`` (one row per run, list
columns) are still read.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from igfsim.errors import SweepStoreError
from igfsim.result.scenario_result import RunStatus
from igfsim.sweep.records import FORMAT, READ_FORMATS, BatchResult, SweepManifest

__all__ = ["FORMAT", "SweepStore", "SweepStoreError"]

#: the lock a writer holds on its sweep folder (:meth:`SweepStore.locked`)
LOCK_FILE = ".lock"
#: the sha256 of every part, one ``<hex>  <folder>/<part>`` line per part as ``sha256sum`` writes them
#: (``sha256sum -c parts.sha256`` checks a folder without igfsim); appended before each part is renamed
CHECKSUMS = "parts.sha256"
# the parts' own columns are the names an axis may not take (igfsim.sweep.spec.RESERVED)
_OLD_FORMAT = READ_FORMATS[0]


class SweepStore:
    """Writes and reads one sweep output folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.parts = self.path / "parts"
        self.trajectories = self.path / "trajectories"
        self._seq = 0
        self._manifest: SweepManifest | None = None

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
        if not isinstance(data, dict) or data.get("format") not in READ_FORMATS:
            found = data.get("format") if isinstance(data, dict) else None
            raise SweepStoreError(f"{self.manifest_path}: not an igfsim sweep folder (format {found!r})")
        try:
            return SweepManifest.from_json(data)
        except (KeyError, TypeError, ValueError) as err:
            raise SweepStoreError(f"{self.manifest_path}: unreadable ({err})") from None

    def checksums(self) -> dict[str, str] | None:
        """``{"parts/part-000000.parquet": sha256, ...}`` from :data:`CHECKSUMS` (the last line of a name
        wins), or None for a folder written before igfsim kept checksums."""
        try:
            text = (self.path / CHECKSUMS).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as err:
            raise SweepStoreError(f"{self.path / CHECKSUMS}: unreadable ({err})") from None
        out: dict[str, str] = {}
        for line in text.splitlines():
            digest, _, name = line.partition("  ")
            if len(digest) == 64 and name:
                out[name] = digest
        return out

    def damage(self, part: Path, known: dict[str, str] | None = None) -> str | None:
        """Why ``part`` cannot be trusted (its checksum differs or is missing), or None."""
        known = self.checksums() if known is None else known
        if known is None:
            return None
        want = known.get(f"{part.parent.name}/{part.name}")
        if want is None:
            return f"no checksum in {CHECKSUMS}"
        if _sha256(part) != want:
            return f"its sha256 differs from the one in {CHECKSUMS} (the file changed after it was written)"
        return None

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) if self.parts.is_dir() else []

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold ``DIR/.lock`` exclusively while writing: a second sweep or resume into the same folder is
        refused at once (:class:`SweepStoreError`) instead of losing or duplicating runs."""
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # no POSIX locks (Windows): no protection against a second writer
            yield
            return
        with open(self.path / LOCK_FILE, "a+b") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SweepStoreError(
                    f"{self.path}: another igfsim process is writing this sweep folder (it holds {LOCK_FILE}); "
                    "wait for it to finish, or choose another folder"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def completed_runs(self) -> set[int]:
        """Run ids of the readable summary parts. A part that cannot be read (cut off, damaged) is set
        aside as ``.damaged-<name>`` with its trajectories, so that resuming runs its runs again."""
        import pyarrow.parquet as pq

        done: set[int] = set()
        known = self.checksums()
        keep = self._manifest.keep_trajectories if self._manifest is not None else False
        for f in self._part_files():
            traj = self.trajectories / f.name
            why = self.damage(f, known) or (self.damage(traj, known) if keep and traj.exists() else None)
            try:
                if why is None:
                    runs = pq.read_table(f, columns=["run"]).column("run").to_pylist()
            except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
                why = f"unreadable ({err})"
            if why is None:
                done.update(runs)
                continue
            warnings.warn(f"{f}: {why}; set aside, its runs run again", RuntimeWarning, stacklevel=2)
            for part in (f, traj):
                if part.exists():
                    os.replace(part, part.with_name(f".damaged-{part.name}"))
        return done

    def prepare(self, manifest: SweepManifest, spec: dict[str, Any], *, resume: bool) -> set[int]:
        """Create the folder (or check it for resuming); return the runs already done."""
        if self.manifest_path.exists():
            self._check_resumable(manifest, resume=resume)
        else:
            if self.path.exists() and any(p.name != LOCK_FILE for p in self.path.iterdir()):
                raise SweepStoreError(f"{self.path} exists and is not a sweep folder; choose an empty or new folder")
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path / "sweep.json", json.dumps(spec, indent=1))
            atomic_write(self.manifest_path, json.dumps(manifest.to_json(), indent=1))
        self.parts.mkdir(exist_ok=True)
        self.trajectories.mkdir(exist_ok=True)
        for folder in (self.parts, self.trajectories):
            for tmp in folder.glob(".*.tmp"):  # a part cut off mid-write: its runs are not done
                tmp.unlink()
        files = self._part_files()
        done = {f.name for f in files}
        for orphan in self.trajectories.glob("part-*.parquet"):  # its batch's summary part was never written
            if orphan.name not in done:
                orphan.unlink()
        self._seq = int(files[-1].stem.split("-")[1]) + 1 if files else 0
        self._manifest = manifest
        return self.completed_runs()

    def _check_resumable(self, manifest: SweepManifest, *, resume: bool) -> None:
        old = self.read_manifest()
        if not resume:
            raise SweepStoreError(
                f"{self.path} already holds a sweep ({old.scenario}); resume it "
                "(resume=True, --resume) or choose another folder"
            )
        if old.format != FORMAT:
            raise SweepStoreError(
                f"{self.path} was written in format {old.format} by an older igfsim; it opens "
                "(SweepResult.open), but a resumed sweep would mix formats: start a new folder"
            )
        if old.spec_hash != manifest.spec_hash:
            raise SweepStoreError(
                f"{self.path} holds a different sweep (spec hash {old.spec_hash[:12]} "
                f"!= {manifest.spec_hash[:12]}: scenario, axes, design, seed, metrics, "
                "engine or model changed); refusing to resume into it"
            )

    def write_batch(self, batch: BatchResult) -> None:
        """Write one finished batch as tidy parts (atomic renames; trajectories first)."""
        if len(batch) == 0:
            return
        if self._manifest is None:
            raise RuntimeError("SweepStore.prepare() must come before write_batch()")
        name = f"part-{self._seq:06d}.parquet"
        ledger = self.path / CHECKSUMS
        if batch.trajectory is not None:
            _write_atomic(self.trajectories / name, _trajectory_table(self._manifest, batch), ledger)
        _write_atomic(self.parts / name, _summary_table(self._manifest, batch), ledger)
        self._seq += 1

    def read(self, trajectories: bool = True) -> BatchResult:
        """Every completed run, sorted by run id (trajectories when kept and ``trajectories``)."""
        manifest = self.read_manifest()
        files = self._part_files()
        with_traj = trajectories and manifest.keep_trajectories
        if not files:
            return BatchResult.none(manifest, with_traj)
        if manifest.format == _OLD_FORMAT:
            return self._read_format_1(manifest, files, with_traj)
        import pyarrow as pa

        self._refuse_damaged([*files, *([self.trajectories / f.name for f in files] if with_traj else [])])
        table = pa.concat_tables([_read_part(f, ["run", "status", "message", "value"]) for f in files])
        runs, summary, rows = self._blocks(table, manifest.summary_shape, files[0].parent)
        order = np.argsort(runs, kind="stable")
        take = pa.array(rows[order])  # one row per run: no string per summary row is made
        status = table.column("status").take(take).to_pylist()
        message = table.column("message").take(take).to_pylist()
        trajectory = None
        if with_traj:
            traj_runs, values = self._trajectory_blocks(manifest, files)
            if not np.array_equal(traj_runs, runs):
                raise SweepStoreError(f"{self.trajectories}: its runs differ from those of {self.parts}")
            trajectory = values[order]
        return BatchResult(
            run=runs[order],
            status=tuple(RunStatus(v) for v in status),
            message=tuple(message),
            summary=summary[order],
            trajectory=trajectory,
        )

    def _refuse_damaged(self, parts: list[Path]) -> None:
        known = self.checksums()
        for f in parts:
            if f.exists() and (why := self.damage(f, known)):
                raise SweepStoreError(
                    f"{f}: damaged part ({why}); resume the sweep (--resume) to set it aside and run its runs again"
                )

    def _trajectory_blocks(self, manifest: SweepManifest, files: list[Path], runs: list[int] | None = None):
        """(runs, trajectories) of the parts named like ``files`` (only ``runs``, when given), in file order."""
        import pyarrow as pa

        where = [("run", "in", list(runs))] if runs is not None else None
        traj = pa.concat_tables([_read_part(self.trajectories / f.name, ["run", "value"], where) for f in files])
        runs_read, values, _ = self._blocks(traj, manifest.trajectory_shape, self.trajectories)
        return runs_read, values

    def read_trajectories(self, runs: list[int]) -> dict[int, np.ndarray]:
        """The trajectories ``(arm, time, readout)`` of ``runs`` (those completed), read from the parts
        that hold them only."""
        manifest = self.read_manifest()
        if not manifest.keep_trajectories:
            return {}
        if manifest.format == _OLD_FORMAT:
            full = self.read(trajectories=True)
            assert full.trajectory is not None
            return {int(r): full.trajectory[i] for i, r in enumerate(full.run) if int(r) in set(runs)}
        files = self._part_files()
        self._refuse_damaged([self.trajectories / f.name for f in files])
        got, values = self._trajectory_blocks(manifest, files, runs)
        return {int(r): values[i] for i, r in enumerate(got)}

    @staticmethod
    def _blocks(table, shape: tuple[int, ...], where: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(runs, values shaped ``(run, *shape)``, the first row of each run) of tidy rows written run-major."""
        per_run = int(np.prod(shape))
        run = table.column("run").to_numpy()
        n = len(run) // per_run
        rows = np.arange(n) * per_run
        if len(run) % per_run or not np.array_equal(run, np.repeat(run[rows], per_run)):
            raise SweepStoreError(f"{where}: the parts are not in igfsim's layout (rows of one run together)")
        values = table.column("value").to_numpy().reshape(n, *shape)
        return run[rows], values, rows

    def _read_format_1(self, manifest: SweepManifest, files: list[Path], with_traj: bool) -> BatchResult:
        """A folder of format ``igfsim-sweep/1``: one row per run, summary and trajectory as list columns."""
        import pyarrow as pa
        import pyarrow.parquet as pq

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


def _read_part(path: Path, columns: list[str], filters: list | None = None):
    """One part's columns (the rows passing ``filters``); :class:`SweepStoreError` naming it when it
    cannot be read."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns, filters=filters)
    except (OSError, ValueError) as err:
        raise SweepStoreError(
            f"{path}: unreadable part ({err}); resume the sweep (--resume) to set it aside and run its runs again"
        ) from None


def _labels(names: tuple[str, ...], inner: int, outer: int):
    """A dictionary-encoded column: each name repeated ``inner`` times, the whole tiled ``outer`` times."""
    import pyarrow as pa

    idx = np.tile(np.repeat(np.arange(len(names), dtype=np.int32), inner), outer)
    return pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), pa.array(list(names), pa.string()))


def _summary_table(m: SweepManifest, batch: BatchResult):
    """One row per run x arm x readout x metric (run-major), with the run's design values and status."""
    import pyarrow as pa

    n = len(batch)
    n_arm, n_readout, n_metric = m.summary_shape
    k = n_arm * n_readout * n_metric
    runs = np.asarray(batch.run, dtype=np.int64)
    cols: dict[str, Any] = {"run": pa.array(np.repeat(runs, k))}
    if m.panel is not None:
        cols["panel"] = pa.array(np.repeat(np.asarray(m.panel, dtype=object)[runs], k), pa.string())
    design = m.design_array()
    for j, axis in enumerate(m.axes):
        cols[axis] = pa.array(np.repeat(design[runs, j], k), pa.float64())
    cols["status"] = pa.array(np.repeat([str(s) for s in batch.status], k), pa.string())
    cols["message"] = pa.array(np.repeat(np.asarray(batch.message, dtype=object), k), pa.string())
    cols["arm"] = _labels(m.arms, n_readout * n_metric, n)
    cols["readout"] = _labels(m.readouts, n_metric, n * n_arm)
    cols["metric"] = _labels(m.metrics, 1, n * n_arm * n_readout)
    cols["value"] = pa.array(np.ascontiguousarray(batch.summary, dtype=float).ravel(), pa.float64())
    return pa.table(cols)


def _trajectory_table(m: SweepManifest, batch: BatchResult):
    """One row per run x arm x time x readout (run-major)."""
    import pyarrow as pa

    n = len(batch)
    n_arm, n_time, n_readout = m.trajectory_shape
    k = n_arm * n_time * n_readout
    times = np.tile(np.repeat(np.asarray(m.times, dtype=float), n_readout), n * n_arm)
    return pa.table(
        {
            "run": pa.array(np.repeat(np.asarray(batch.run, dtype=np.int64), k)),
            "arm": _labels(m.arms, n_time * n_readout, n),
            "time": pa.array(times, pa.float64()),
            "readout": _labels(m.readouts, 1, n * n_arm * n_time),
            "value": pa.array(np.ascontiguousarray(batch.trajectory, dtype=float).ravel(), pa.float64()),
        }
    )


def _sha256(path: Path) -> str:
    import hashlib

    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _write_atomic(target: Path, table, ledger: Path) -> None:
    """Write ``table`` to a hidden temporary file, record its sha256 in ``ledger``, then rename it: a
    part in place always has its checksum (a line without its part, after a crash, is harmless)."""
    import pyarrow.parquet as pq

    tmp = target.with_name(f".{target.name}.tmp")  # hidden: Parquet dataset readers skip it
    pq.write_table(table, tmp)
    with ledger.open("a", encoding="utf-8") as fh:
        fh.write(f"{_sha256(tmp)}  {target.parent.name}/{target.name}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def atomic_write(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` through a temporary file and a rename (never half written)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
