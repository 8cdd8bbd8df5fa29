"""Measured data a scenario carries for calibration (the ``data/`` folder): digitised, cited rows.

A dataset is one published measurement series: which arm of the scenario it was measured in,
which readout it measures, at which minutes, the values in the paper's units, and how they map
onto the model (``scale: relative`` for blots and other arbitrary units: measurement = s x
readout with the scale ``s >= 0`` fitted in closed form; ``absolute``: the readout itself). The
noise is the published standard deviation, one per row (a fifth entry of the row) or one for the
dataset (``noise_sd``), in the data's units; when the paper gives none it is estimated in closed
form per dataset. Datasets are fitted (:mod:`igfsim.calibrate`),
never checked as expectations; the ``validation/`` suite must not share a source figure with them.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Text = Annotated[str, Field(min_length=1)]
_Minute = Annotated[float, Field(ge=0, allow_inf_nan=False)]
_Value = Annotated[float, Field(allow_inf_nan=False)]
_Sd = Annotated[float, Field(gt=0, allow_inf_nan=False)]
#: one measurement: arm, readout, minute, value, and optionally its standard deviation
Row = tuple[Text, Text, _Minute, _Value] | tuple[Text, Text, _Minute, _Value, _Sd]


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
        for arm, readout, t, *_ in rows:
            key = (arm, readout, float(t))
            if key in seen:
                raise ValueError(f"row ({arm}, {readout}, {t:g} min) is given twice")
            seen.add(key)
        return rows

    @model_validator(mode="after")
    def _one_noise_model(self) -> Dataset:
        with_sd = [i for i, r in enumerate(self.rows) if len(r) == 5]
        if with_sd and self.noise_sd is not None:
            raise ValueError("give the SD per row or as noise_sd, not both")
        if with_sd and len(with_sd) < len(self.rows):
            missing = [i for i in range(len(self.rows)) if i not in set(with_sd)]
            raise ValueError(
                f"rows {', '.join(map(str, missing))} give no SD while others do: "
                "give an SD on every row, or none (noise_sd, or an SD estimated from the fit)"
            )
        return self

    def readouts(self) -> list[str]:
        return list(dict.fromkeys(r[1] for r in self.rows))

    @property
    def measured(self) -> np.ndarray:
        return np.array([r[3] for r in self.rows], dtype=float)

    @property
    def sd(self) -> np.ndarray | None:
        """The published SD of every row (per row or ``noise_sd``), or None when it is to be estimated."""
        if self.noise_sd is not None:
            return np.full(len(self.rows), self.noise_sd)
        if self.rows and len(self.rows[0]) == 5:
            return np.array([r[4] for r in self.rows], dtype=float)  # type: ignore[misc]
        return None
