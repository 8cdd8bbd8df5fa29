"""Published observations a scenario is checked against (the ``validation/`` suite).

An observation names one quantity the simulation yields (a drug's IC50 on a readout, a ligand's
EC50, the time of a readout's peak, a ratio of two arms, or a metric itself), the published value
with its source and how it was read, and the tolerance the author defends. It is compared, not
asserted: the verdict is "within tolerance" or not, and an observation that set a model parameter
is a calibration ``anchor`` that does not count as validation.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from igfsim.scenario.metric_names import METRIC_RE, METRICS_HELP

Text = Annotated[str, Field(min_length=1)]


class Quantity(StrEnum):
    """What an observation measures in the simulation."""

    #: dose (nM) of ``drug`` at which the readout's metric is half of the ``control`` arm's
    IC50 = "ic50"
    #: concentration (nM) of ``ligand`` giving half of the largest response across the arms
    EC50 = "ec50"
    #: minute of the readout's peak in ``arm``
    TPEAK = "tpeak"
    #: minute at which the readout in ``arm`` first reaches half of its peak
    THALF = "thalf"
    #: metric in ``arm`` divided by the metric in ``vs``
    RATIO = "ratio"
    #: the metric in ``arm`` itself (a readout fraction)
    VALUE = "value"

    @property
    def unit(self) -> str:
        """The unit a published value of this quantity must be given in."""
        return {Quantity.IC50: "nM", Quantity.EC50: "nM", Quantity.TPEAK: "min", Quantity.THALF: "min"}.get(
            self, "fraction"
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Published(_Strict):
    """The published number, where it is and how it was read."""

    value: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    unit: Text
    citation: Text
    figure: Text
    #: how the number was obtained: "text", "table 2", "digitised from Fig 3B (WebPlotDigitizer)", ...
    digitised: Text
    conditions: str | None = None
    #: ``at_least`` / ``at_most``: the publication gives a bound, not a point (e.g. "IC50 >= 1 uM")
    limit: Literal["at_least", "at_most"] | None = None


class Observation(_Strict):
    """One published quantity and the tolerance within which the model must reproduce it."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]
    quantity: Quantity
    readout: Text
    metric: str = "peak"
    arm: str | None = None
    vs: str | None = None
    control: str | None = None
    drug: str | None = None
    ligand: str | None = None
    #: ``absolute``: 50 % of control; ``relative``: half-way between control and the top dose (IC50 only)
    ic50_kind: Literal["absolute", "relative"] = "absolute"
    published: Published
    #: the model value must lie within published / fold .. published x fold
    tolerance_fold: Annotated[float, Field(gt=1, allow_inf_nan=False)] | None = None
    #: ... or within published +/- abs (for fractions and ratios near zero)
    tolerance_abs: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    tolerance_reason: Text
    #: set when the value was used to set a parameter: it is a calibration anchor, not validation
    anchor: str | None = None
    note: str | None = None

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str) -> str:
        if not METRIC_RE.match(v):
            raise ValueError(f"unknown metric {v!r}; expected {METRICS_HELP}")
        return v

    @model_validator(mode="after")
    def _shape(self):
        q = self.quantity
        if (self.tolerance_fold is None) == (self.tolerance_abs is None):
            raise ValueError("give exactly one of 'tolerance_fold' (> 1) and 'tolerance_abs' (> 0)")
        if self.published.unit != q.unit:
            raise ValueError(f"a {q.value} observation is published in {q.unit!r}, got unit {self.published.unit!r}")
        needs = {
            Quantity.IC50: ("drug", "control"),
            Quantity.EC50: ("ligand",),
            Quantity.TPEAK: ("arm",),
            Quantity.THALF: ("arm",),
            Quantity.RATIO: ("arm", "vs"),
            Quantity.VALUE: ("arm",),
        }[q]
        missing = [k for k in needs if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {q.value} observation needs {', '.join(repr(k) for k in missing)}")
        unused = [
            k
            for k in ("arm", "vs", "control", "drug", "ligand")
            if getattr(self, k) is not None and k not in needs and not (q is Quantity.EC50 and k == "control")
        ]
        if unused:
            verb = "does" if len(unused) == 1 else "do"
            raise ValueError(f"{', '.join(repr(k) for k in unused)} {verb} not apply to {q.value} observations")
        if self.ic50_kind != "absolute" and q is not Quantity.IC50:
            raise ValueError("'ic50_kind' applies to ic50 observations only")
        return self

    def within(self, model_value: float) -> bool:
        """Whether ``model_value`` lies within the tolerance of the published value."""
        v = self.published.value
        if self.tolerance_abs is not None:
            low, high = v - self.tolerance_abs, v + self.tolerance_abs
        else:
            fold = self.tolerance_fold or 1.0
            low, high = v / fold, v * fold
        if self.published.limit == "at_least":
            return model_value >= low
        if self.published.limit == "at_most":
            return model_value <= high
        return low <= model_value <= high

    def tolerance_text(self) -> str:
        """``x3``, ``+/- 0.15``; a bound reads ``>= published within x3``."""
        tol = f"x{self.tolerance_fold:g}" if self.tolerance_fold is not None else f"+/- {self.tolerance_abs:g}"
        bound = {"at_least": ">= published, ", "at_most": "<= published, "}.get(self.published.limit or "", "")
        return f"{bound}{tol}"
