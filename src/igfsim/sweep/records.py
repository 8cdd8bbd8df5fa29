"""The typed seams between the parts of a sweep: the manifest of its runs, and the outcome of a batch.

:class:`SweepManifest` is what ``manifest.json`` of a sweep folder holds (and what an in-memory
result is labelled with); :class:`BatchResult` is what a worker hands back for a batch of runs, what
a Parquet part stores and what a folder reads back as.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from igfsim.result.scenario_result import RunStatus

if TYPE_CHECKING:
    from igfsim.engines.steady_state import SteadyStates

#: the ``format`` of ``manifest.json``; a folder with another format is not opened
FORMAT = "igfsim-sweep/2"
#: formats this version reads (1: one row per run, list columns; 2: tidy rows, named columns)
READ_FORMATS = ("igfsim-sweep/1", FORMAT)


@dataclass(frozen=True)
class SweepManifest:
    """What the runs of a sweep are and how their results are laid out.

    ``design_values[i]`` holds run ``i``'s value of every axis (in ``axes`` order), ``panel[i]`` its
    panel member (``panel`` is None without a panel). :meth:`to_json` gives the mapping written to
    ``manifest.json`` (``format`` first, then the fields in this order); :meth:`from_json` reads it.
    """

    scenario: str
    engine: str
    design: str
    seed: int
    axes: tuple[str, ...]
    targets: tuple[str, ...]
    arms: tuple[str, ...]
    readouts: tuple[str, ...]
    metrics: tuple[str, ...]
    times: tuple[float, ...]
    panel: tuple[str, ...] | None
    design_values: tuple[tuple[float, ...], ...]
    keep_trajectories: bool
    spec_hash: str
    model_sha256: str
    #: the on-disk layout of the folder's parts (``READ_FORMATS``)
    format: str = FORMAT

    @property
    def n_runs(self) -> int:
        """Runs in the design."""
        return len(self.design_values)

    @property
    def summary_shape(self) -> tuple[int, int, int]:
        """Shape of one run's summary: (arm, readout, metric)."""
        return len(self.arms), len(self.readouts), len(self.metrics)

    @property
    def trajectory_shape(self) -> tuple[int, int, int]:
        """Shape of one run's trajectories: (arm, time, readout)."""
        return len(self.arms), len(self.times), len(self.readouts)

    def design_array(self) -> np.ndarray:
        """``design_values`` as a float array ``(runs, axes)``."""
        return np.asarray(self.design_values, dtype=float).reshape(self.n_runs, len(self.axes))

    def to_json(self) -> dict[str, Any]:
        """The mapping of ``manifest.json`` (lists, not tuples; ``format`` first)."""
        out: dict[str, Any] = {"format": self.format}
        for f in fields(self):
            if f.name != "format":
                out[f.name] = _plain(getattr(self, f.name))
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SweepManifest:
        """Read the mapping of ``manifest.json``; ValueError when it is not one of this format."""
        if data.get("format") not in READ_FORMATS:
            raise ValueError(f"format {data.get('format')!r} is not one of {', '.join(READ_FORMATS)}")
        missing = [f.name for f in fields(cls) if f.name not in data]
        if missing:
            raise ValueError(f"missing key(s): {', '.join(missing)}")
        panel = data["panel"]
        return cls(
            scenario=str(data["scenario"]),
            engine=str(data["engine"]),
            design=str(data["design"]),
            seed=int(data["seed"]),
            axes=_strings(data["axes"]),
            targets=_strings(data["targets"]),
            arms=_strings(data["arms"]),
            readouts=_strings(data["readouts"]),
            metrics=_strings(data["metrics"]),
            times=tuple(float(t) for t in data["times"]),
            panel=None if panel is None else _strings(panel),
            design_values=tuple(tuple(float(v) for v in row) for row in data["design_values"]),
            keep_trajectories=bool(data["keep_trajectories"]),
            spec_hash=str(data["spec_hash"]),
            model_sha256=str(data["model_sha256"]),
            format=str(data["format"]),
        )


def _strings(values: Sequence[Any]) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def _plain(value: Any) -> Any:
    """Tuples (nested) as lists, as JSON writes them."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True, eq=False)
class BatchResult:
    """The outcome of some runs of a sweep: one finished batch, or every completed run read back.

    ``summary[i]`` holds run ``run[i]``'s metrics ``(arm, readout, metric)``; ``trajectory[i]``, when
    kept, its trajectories ``(arm, time, readout)``. A failed run has status ``failed``, a message and
    NaN for the arms that failed.
    """

    run: np.ndarray
    status: tuple[RunStatus, ...]
    message: tuple[str, ...]
    summary: np.ndarray
    trajectory: np.ndarray | None = None
    #: the pre-equilibrated cells the batch's worker computed (for the other workers; never stored)
    steady_states: SteadyStates | None = None

    def __len__(self) -> int:
        return len(self.run)

    @classmethod
    def none(cls, manifest: SweepManifest, trajectories: bool) -> BatchResult:
        """No runs (arrays of length 0 shaped for ``manifest``)."""
        return cls(
            run=np.zeros(0, dtype=int),
            status=(),
            message=(),
            summary=np.zeros((0, *manifest.summary_shape)),
            trajectory=np.zeros((0, *manifest.trajectory_shape)) if trajectories else None,
        )
