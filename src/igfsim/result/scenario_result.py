"""Labelled simulation results: arms x time x readouts, convertible to xarray and pandas."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np


class RunStatus(StrEnum):
    """How one simulation (an arm, or a sweep run) went; the values are those written to files."""

    OK = "ok"
    FAILED = "failed"
    #: a sweep run that no finished batch has filled yet (in-memory results only)
    PENDING = "pending"


@dataclass(frozen=True)
class ArmRecord:
    """How one arm's simulation went."""

    arm: str
    status: RunStatus
    message: str = ""
    wall_s: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))  # "ok" read back from a file -> RunStatus.OK

    @property
    def ok(self) -> bool:
        """Whether the arm simulated."""
        return self.status is RunStatus.OK


@dataclass(frozen=True)
class ScenarioResult:
    """Trajectories of every arm of one scenario run with one engine.

    ``values[i, j, k]`` is readout ``readouts[k]`` of arm ``arms[i]`` at ``times[j]`` (minutes);
    a failed arm holds NaN and says why in ``records``.
    """

    scenario: str
    engine: str
    arms: tuple[str, ...]
    times: np.ndarray
    readouts: tuple[str, ...]
    values: np.ndarray
    records: tuple[ArmRecord, ...]
    units: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    time_units: str = "min"
    #: readout -> what it is in words (the model mapping's description; the id where there is none)
    long_names: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every arm simulated."""
        return all(r.ok for r in self.records)

    def get(self, arm: str, readout: str) -> np.ndarray:
        """One trajectory."""
        return self.values[self.arms.index(arm), :, self.readouts.index(readout)]

    def _meta(self) -> dict[str, str]:
        return {
            "scenario": self.scenario,
            "engine": self.engine,
            "time_units": self.time_units,
            **{k: str(v) for k, v in self.attrs.items()},
        }

    def _time_coord(self):
        import xarray as xr

        return xr.Variable("time", self.times, attrs={"long_name": "time", "units": self.time_units})

    def to_xarray(self):
        """An ``xarray.DataArray`` ``value`` with dims ``(arm, time, readout)``: per-arm status, and each
        readout's ``units`` and ``long_name`` as coordinates along ``readout`` (the array's own ``units`` and
        ``long_name`` are set when every readout shares them, so ``.sel(readout=...).plot()`` labels its axes).
        :meth:`to_dataset` gives one variable per readout instead."""
        import xarray as xr

        units = [self.units.get(r, "") for r in self.readouts]
        names = [self.long_names.get(r, r) for r in self.readouts]
        attrs = self._meta()
        if len(set(units)) == 1:
            attrs["units"] = units[0]
        attrs["long_name"] = names[0] if len(self.readouts) == 1 else "readout value"
        return xr.DataArray(
            self.values,
            dims=("arm", "time", "readout"),
            coords={
                "arm": list(self.arms),
                "time": self._time_coord(),
                "readout": list(self.readouts),
                "units": ("readout", units),
                "long_name": ("readout", names),
                "status": ("arm", [str(r.status) for r in self.records]),
                "message": ("arm", [r.message for r in self.records]),
            },
            name="value",
            attrs=attrs,
        )

    def to_dataset(self):
        """An ``xarray.Dataset``: one variable per readout, dims ``(arm, time)``, each with its ``units``
        and ``long_name`` (CF attributes, so plots and NetCDF files carry them)."""
        import xarray as xr

        data = {
            r: xr.DataArray(
                self.values[:, :, k],
                dims=("arm", "time"),
                attrs={"units": self.units.get(r, ""), "long_name": self.long_names.get(r, r)},
            )
            for k, r in enumerate(self.readouts)
        }
        coords = {
            "arm": list(self.arms),
            "time": self._time_coord(),
            "status": ("arm", [str(r.status) for r in self.records]),
            "message": ("arm", [r.message for r in self.records]),
        }
        return xr.Dataset(data, coords=coords, attrs=self._meta())

    def write_csv(self, path: str | Path, float_format: str = "%.8g") -> None:
        """Write :meth:`to_dataframe` as CSV (the same bytes as pandas' ``to_csv(index=False,
        float_format=...)``: NaN as an empty field) without importing pandas."""
        n_t = self.times.size
        flat = self.values.reshape(len(self.arms) * n_t, len(self.readouts))

        def fmt(v: float) -> str:
            return "" if v != v else float_format % v

        with open(path, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(["arm", "time", *self.readouts])
            for row, values in enumerate(flat):
                out.writerow([self.arms[row // n_t], fmt(self.times[row % n_t]), *map(fmt, values.tolist())])

    def to_dataframe(self):
        """A wide ``pandas.DataFrame``: columns ``arm``, ``time``, then one per readout."""
        import pandas as pd

        n_t = self.times.size
        frame = pd.DataFrame(self.values.reshape(len(self.arms) * n_t, len(self.readouts)), columns=list(self.readouts))
        frame.insert(0, "time", np.tile(self.times, len(self.arms)))
        frame.insert(0, "arm", np.repeat(list(self.arms), n_t))
        return frame
