"""Measured data a scenario carries for calibration (the ``data/`` folder): digitised, cited rows.

A dataset is one published measurement series: which arm of the scenario it was measured in,
which readout it measures, at which minutes, the values in the paper's units, and how they map
onto the model (``scale: relative`` for blots and other arbitrary units: measurement = s x
readout with the scale ``s >= 0`` fitted in closed form; ``absolute``: the readout itself). The
noise is the published standard deviation (``noise_sd``, in the data's units) or, when the paper
gives none, estimated in closed form per dataset. Datasets are fitted (:mod:`igfsim.calibrate`),
never checked as expectations; the ``validation/`` suite must not share a source figure with them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Text = Annotated[str, Field(min_length=1)]
#: one measurement: arm, readout, minute, value
Row = tuple[
    Text, Text, Annotated[float, Field(ge=0, allow_inf_nan=False)], Annotated[float, Field(allow_inf_nan=False)]
]


class Dataset(BaseModel):
    """One cited measurement series of a scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]
    citation: Text
    #: the figure or table of the publication the numbers come from
    figure: Text
    #: how the numbers were obtained ("table 2", "digitised from Fig 3B with WebPlotDigitizer", ...)
    digitised: Text
    #: where the numbers were taken from when not from the paper itself, and under which licence
    source: str | None = None
    conditions: Text
    unit: Text
    scale: Literal["relative", "absolute"] = "relative"
    noise_sd: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    rows: Annotated[list[Row], Field(min_length=2)]

    @field_validator("rows")
    @classmethod
    def _unique_rows(cls, rows: list[Row]) -> list[Row]:
        seen: set[tuple[str, str, float]] = set()
        for arm, readout, t, _ in rows:
            key = (arm, readout, float(t))
            if key in seen:
                raise ValueError(f"row ({arm}, {readout}, {t:g} min) is given twice")
            seen.add(key)
        return rows

    def readouts(self) -> list[str]:
        return list(dict.fromkeys(r[1] for r in self.rows))
