"""Scenario files: a pydantic schema that rejects unknown keys, and checks against a model.

``load_scenario(path)`` parses and validates the file's shape; ``check_scenario(scenario, model)``
returns every problem with names (drugs, readouts, contexts, ids, arms); ``validate_scenario``
raises one :class:`ScenarioError` listing all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from igfsim.scenario.dataset import Dataset
from igfsim.scenario.metric_names import METRIC_RE, METRICS_HELP
from igfsim.scenario.observation import Observation
from igfsim.scenario.readouts import READOUTS


def _not_bool(value: object) -> object:
    """A YAML ``true``/``false`` where a number belongs is a mistake, not 1 or 0."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()} (a Boolean)")
    return value


_Number = BeforeValidator(_not_bool)
NonNeg = Annotated[float, _Number, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, _Number, Field(allow_inf_nan=False)]
Positive = Annotated[float, _Number, Field(gt=0, allow_inf_nan=False)]
#: a whole number of things (samples, grid points): 1 or more, never a Boolean
Count = Annotated[int, _Number, Field(ge=1)]
#: a random seed (numpy takes none below 0)
Seed = Annotated[int, _Number, Field(ge=0)]
#: output points of one run: beyond this a scenario asks for more memory than a time course needs
MAX_POINTS = 100_000
_Name = Annotated[str, Field(min_length=1)]
#: one item of ``Expectation.fragile_under``: a parameter id and a positive factor
FRAGILE_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*) x((?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Simulation(_Strict):
    """Time span, output grid, tolerances and pre-equilibration."""

    duration_min: Positive = 240.0
    points: Annotated[int, _Number, Field(ge=2, le=MAX_POINTS)] = 241
    preequilibrate: bool = True
    rtol: Annotated[float, _Number, Field(gt=0, lt=1)] = 1e-8
    atol: Positive = 1e-10
    preequilibration_max_min: Positive = 1e6
    #: culture practice: every this many minutes after the stimulus the medium is replaced by fresh
    #: medium (the stimulus, the antibodies being given, nothing the cells made or bound)
    medium_change_min: Positive | None = None


class Treatment(_Strict):
    """One drug given from ``start_min`` (may be negative: pre-treatment) until ``stop_min`` (washout)."""

    drug: str
    dose_nM: NonNeg
    start_min: Finite = 0.0
    stop_min: Finite | None = None
    binds_hybrids: bool | None = None
    downregulates: bool | None = None

    @model_validator(mode="after")
    def _stop_after_start(self):
        if self.stop_min is not None and self.stop_min <= self.start_min:
            raise ValueError(f"stop_min ({self.stop_min:g}) must be later than start_min ({self.start_min:g})")
        return self


class Addition(_Strict):
    """An extracellular species (a ligand, a binding protein) added to the medium at ``minute``.

    ``nM`` is added to what the medium holds then (a second dose on top of the stimulus, as in
    two-step stimulation protocols); it is not a replacement of the medium (see ``medium_change_min``).
    """

    minute: Finite
    species: Annotated[str, Field(min_length=1)]
    nM: Positive


class Cell(_Strict):
    """Cell context preset plus free overrides."""

    context: str = "default"
    expression: dict[str, NonNeg] = Field(default_factory=dict)
    initial: dict[str, NonNeg] = Field(default_factory=dict)
    parameters: dict[str, Finite] = Field(default_factory=dict)


class Arm(_Strict):
    """One simulated condition; may override the scenario's cell and stimulus."""

    name: Annotated[str, Field(min_length=1)]
    treatments: list[Treatment] = Field(default_factory=list)
    cell: Cell | None = None
    stimulus: dict[str, NonNeg] | None = None
    #: extracellular species added at later minutes (on top of the stimulus given at 0)
    additions: list[Addition] = Field(default_factory=list)
    #: ``false``: no medium changes in this arm (e.g. an in vivo arm whose medium is plasma)
    medium_change: bool = True


class Expectation(_Strict):
    """A checked claim about a metric of a readout in one arm (or a trend across arms)."""

    readout: str
    metric: str
    op: Literal[">=", "<=", ">", "<", "between"]
    value: Finite | tuple[Finite, Finite]
    arm: _Name | None = None
    vs: _Name | list[_Name] | None = None
    normalize: _Name | None = None
    vs_normalize: _Name | None = None
    compare: Literal["ratio", "difference"] = "ratio"
    arms: list[str] | None = None
    trend: Literal["increasing", "decreasing"] | None = None
    claim: str | None = None
    note: str | None = None
    known_failure: str | None = None
    known_failure_engines: list[str] | None = None
    not_expressible: dict[str, Annotated[str, Field(min_length=1)]] | None = None
    #: the two-fold changes of *assumed* parameters that flip this verdict, as ``"<parameter> x<factor>"``
    #: (from ``igfsim robustness``, which checks that the list is complete and current)
    fragile_under: list[str] | None = None

    @field_validator("fragile_under")
    @classmethod
    def _fragile(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        bad = [s for s in v if not FRAGILE_RE.match(str(s))]
        if bad:
            raise ValueError(f"expected items like 'k_dp_fast x0.5' (a parameter id and a factor); got {bad}")
        if len(set(v)) != len(v):
            raise ValueError("repeated items")
        return v

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str) -> str:
        if not METRIC_RE.match(v):
            raise ValueError(f"unknown metric {v!r}; expected {METRICS_HELP}")
        return v

    @model_validator(mode="after")
    def _shape(self):
        if self.known_failure_engines is not None and not self.known_failure:
            raise ValueError("'known_failure_engines' needs 'known_failure' (the reason)")
        if self.not_expressible is not None:
            if not self.not_expressible:
                raise ValueError("'not_expressible' needs at least one engine: {<engine>: <reason>}")
            both = sorted(set(self.not_expressible) & set(self.known_failure_engines or ()))
            if both:
                raise ValueError(
                    f"engine(s) {', '.join(both)} are listed both in 'not_expressible' and in "
                    "'known_failure_engines'; an expectation that has no form in an engine "
                    "cannot fail there"
                )
        if self.vs_normalize is not None and self.vs is None:
            raise ValueError("'vs_normalize' needs 'vs' (it divides the vs side's metric)")
        if self.op == "between" and not isinstance(self.value, tuple):
            raise ValueError("op 'between' needs value: [low, high]")
        if self.op == "between" and isinstance(self.value, tuple) and self.value[0] > self.value[1]:
            raise ValueError(f"op 'between' needs value: [low, high] with low <= high, got {list(self.value)}")
        if self.op != "between" and isinstance(self.value, tuple):
            raise ValueError(f"op {self.op!r} needs a single number as value")
        if self.trend is None:
            if self.arm is None or self.arms is not None:
                raise ValueError("give 'arm' (or 'arms' together with 'trend')")
            if isinstance(self.vs, list):
                raise ValueError("'vs' must be one arm name unless 'trend' is given")
        else:
            if not self.arms or len(self.arms) < 3 or self.arm is not None:
                raise ValueError("a 'trend' needs 'arms' with at least 3 arm names (and no 'arm')")
            if self.vs is not None and (not isinstance(self.vs, list) or len(self.vs) != len(self.arms)):
                raise ValueError("with 'trend', 'vs' must list one arm per entry of 'arms'")
        return self

    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of a ``between`` expectation."""
        if not isinstance(self.value, tuple):
            raise ValueError(f"op {self.op!r} has a single value, not bounds")
        return self.value

    def threshold(self) -> float:
        """The single value of a ``>=``, ``<=``, ``>`` or ``<`` expectation."""
        if isinstance(self.value, tuple):
            raise ValueError("op 'between' has bounds, not a single value")
        return self.value

    def trend_arms(self) -> list[str]:
        """The arms of a trend, in order (empty for a single-arm expectation)."""
        return list(self.arms or [])

    def main_arm(self) -> str:
        """The arm of a single-arm expectation."""
        if self.arm is None:
            raise ValueError("a trend expectation has 'arms', not one 'arm'")
        return self.arm

    def arm_names(self) -> list[str]:
        """Every arm this expectation refers to."""
        names = [self.arm] if self.arm else list(self.arms or [])
        names += self.vs if isinstance(self.vs, list) else ([self.vs] if self.vs else [])
        return names + [n for n in (self.normalize, self.vs_normalize) if n]

    def not_expressible_in(self, engine: str) -> str | None:
        """The reason this expectation has no form in ``engine``, or None when it is checked there."""
        return (self.not_expressible or {}).get(engine)

    def known_failure_in(self, engine: str) -> str | None:
        """The known-failure reason when it applies to ``engine`` (and the expectation is expressible
        there: ``not_expressible`` wins over a known failure that names no engines), else None."""
        if self.not_expressible_in(engine) is not None:
            return None
        if self.known_failure and (self.known_failure_engines is None or engine in self.known_failure_engines):
            return self.known_failure
        return None


def _refuse_repeats(names: list[str], what: str) -> None:
    """Raise when a name occurs more than once (``what``: "arm names", "observation ids")."""
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise ValueError(f"{what} must be unique; repeated: {dups}")


class ResistanceMechanism(_Strict):
    """What a scenario's mechanism is and which model parts carry it (used by ``igfsim docs``)."""

    id: str | None = None
    summary: str | None = None
    model_parts: list[str] = Field(default_factory=list)
    by_construction: str | None = None


class Scenario(_Strict):
    """A declarative experiment: cell, stimulus, arms with treatments, expectations."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    title: str
    description: str | None = None
    claims: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    mechanism: ResistanceMechanism | None = None
    simulation: Simulation = Simulation()
    stimulus: dict[str, NonNeg] = Field(default_factory=dict)
    cell: Cell = Cell()
    readouts: list[str] | None = None
    arms: Annotated[list[Arm], Field(min_length=1)]
    expect: list[Expectation] = Field(default_factory=list)
    #: published values this scenario reproduces (the ``validation/`` suite)
    observations: list[Observation] = Field(default_factory=list)
    #: measured data this scenario is fitted to (the ``data/`` folder, :mod:`igfsim.calibrate`)
    data: list[Dataset] = Field(default_factory=list)
    #: drug and cell catalogue files read over the bundled one (:mod:`igfsim.scenario.catalog`), in order;
    #: a path relative to the scenario file is made absolute when the file is loaded
    catalog: tuple[Annotated[str, Field(min_length=1)], ...] = ()

    @field_validator("catalog", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return (v,) if isinstance(v, str) else v

    @field_validator("data")
    @classmethod
    def _unique_datasets(cls, data: list[Dataset]) -> list[Dataset]:
        _refuse_repeats([d.id for d in data], "dataset ids")
        return data

    @field_validator("observations")
    @classmethod
    def _unique_observations(cls, obs: list[Observation]) -> list[Observation]:
        _refuse_repeats([o.id for o in obs], "observation ids")
        return obs

    @field_validator("arms")
    @classmethod
    def _unique_arms(cls, arms: list[Arm]) -> list[Arm]:
        _refuse_repeats([a.name for a in arms], "arm names")
        return arms

    def arm(self, name: str) -> Arm:
        """The arm called ``name``."""
        return next(a for a in self.arms if a.name == name)

    def selected_readouts(self, standard: Iterable[str] | None = None) -> list[str]:
        """Readouts to record: the scenario's list (plus any an expectation needs) or all ``standard`` ones
        (the model mapping's readouts; the bundled model's when not given)."""
        base = list(self.readouts) if self.readouts else list(READOUTS if standard is None else standard)
        data_readouts = [r for d in self.data for r in d.readouts()]
        for r in [e.readout for e in self.expect] + [o.readout for o in self.observations] + data_readouts:
            if r not in base:
                base.append(r)
        return base
