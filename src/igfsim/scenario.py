"""Scenario files: a pydantic schema that rejects unknown keys, and checks against a model.

``load_scenario(path)`` parses and validates the file's shape; ``check_scenario(scenario, model)``
returns every problem with names (drugs, readouts, contexts, ids, arms); ``validate_scenario``
raises one :class:`ScenarioError` listing all of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .contexts import CONTEXTS, EXPRESSION_PARAMETERS, context_hint
from .drugs import OPTION_PARAMETERS, drug_hint, find_drug
from .errors import Issue, ScenarioError, did_you_mean, read_text_file
from .model import Model
from .readouts import READOUTS

NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
METRIC_RE = re.compile(r"^(auc|peak|final|mean|min|tpeak|at_(\d+(\.\d+)?))$")
METRICS_HELP = "auc, peak, final, mean, min, tpeak or at_<minutes>"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Simulation(_Strict):
    """Time span, output grid, tolerances and pre-equilibration."""

    duration_min: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 240.0
    points: Annotated[int, Field(ge=2)] = 241
    preequilibrate: bool = True
    rtol: Annotated[float, Field(gt=0, lt=1)] = 1e-8
    atol: Annotated[float, Field(gt=0)] = 1e-10
    preequilibration_max_min: Annotated[float, Field(gt=0)] = 1e6


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


class Expectation(_Strict):
    """A checked claim about a metric of a readout in one arm (or a trend across arms)."""

    readout: str
    metric: str
    op: Literal[">=", "<=", ">", "<", "between"]
    value: float | tuple[float, float]
    arm: str | None = None
    vs: str | list[str] | None = None
    normalize: str | None = None
    vs_normalize: str | None = None
    compare: Literal["ratio", "difference"] = "ratio"
    arms: list[str] | None = None
    trend: Literal["increasing", "decreasing"] | None = None
    claim: str | None = None
    note: str | None = None
    known_failure: str | None = None
    known_failure_engines: list[str] | None = None
    not_expressible: dict[str, Annotated[str, Field(min_length=1)]] | None = None

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
                raise ValueError(f"engine(s) {', '.join(both)} are listed both in 'not_expressible' and in "
                                 "'known_failure_engines'; an expectation that has no form in an engine "
                                 "cannot fail there")
        if self.vs_normalize is not None and self.vs is None:
            raise ValueError("'vs_normalize' needs 'vs' (it divides the vs side's metric)")
        if self.op == "between" and not isinstance(self.value, tuple):
            raise ValueError("op 'between' needs value: [low, high]")
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


class Mechanism(_Strict):
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
    mechanism: Mechanism | None = None
    simulation: Simulation = Simulation()
    stimulus: dict[str, NonNeg] = Field(default_factory=dict)
    cell: Cell = Cell()
    readouts: list[str] | None = None
    arms: Annotated[list[Arm], Field(min_length=1)]
    expect: list[Expectation] = Field(default_factory=list)

    @field_validator("arms")
    @classmethod
    def _unique_arms(cls, arms: list[Arm]) -> list[Arm]:
        names = [a.name for a in arms]
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            raise ValueError(f"arm names must be unique; repeated: {dups}")
        return arms

    def arm(self, name: str) -> Arm:
        """The arm called ``name``."""
        return next(a for a in self.arms if a.name == name)

    def selected_readouts(self) -> list[str]:
        """Readouts to record: the scenario's list (plus any an expectation needs) or all standard ones."""
        base = list(self.readouts) if self.readouts else list(READOUTS)
        return base + [e.readout for e in self.expect if e.readout not in base]


# ------------------------------------------------------------------------------------- loading

def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _known_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] | None = Scenario
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        model = next((t for t in _walk_types(ann) if isinstance(t, type) and issubclass(t, BaseModel)), None)
    return list(model.model_fields) if model else []


def _walk_types(ann):
    yield ann
    for a in getattr(ann, "__args__", ()) or ():
        yield from _walk_types(a)


def _issues_from_pydantic(err: ValidationError) -> list[Issue]:
    issues = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged-"))))
        where = _loc(loc)
        got = e.get("input")
        if e["type"] == "extra_forbidden":
            known = _known_keys(loc)
            msg = f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), known)}; expected one of: {', '.join(known)}"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif e["type"] in ("float_parsing", "float_type", "int_parsing", "int_type"):
            msg = f"expected a number, got {got!r}"
        elif e["type"] in ("greater_than_equal",):
            msg = f"must be >= {e['ctx']['ge']}, got {got!r}"
        elif e["type"] == "value_error":
            msg = str(e["ctx"]["error"]) if "ctx" in e else e["msg"]
        else:
            msg = f"{e['msg']}" + (f", got {got!r}" if got is not None and not isinstance(got, dict) else "")
        issues.append(Issue(where, msg))
    # a union field reports once per alternative; keep the first message per location
    seen, unique = set(), []
    for i in issues:
        key = i.where.split(".float")[0].split(".tuple")[0]
        if key not in seen:
            seen.add(key)
            unique.append(Issue(key, i.message))
    return unique


def parse_scenario(data: object, source: str = "<scenario>") -> Scenario:
    """Build a :class:`Scenario` from already-parsed YAML/JSON data."""
    if not isinstance(data, dict):
        raise ScenarioError(source, [Issue("(top level)", f"expected a mapping of keys, got {type(data).__name__}")])
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(source, _issues_from_pydantic(err)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and shape-check one YAML scenario file."""
    p = Path(path)
    text, problem = read_text_file(p)
    if text is None:
        raise ScenarioError(str(p), [Issue("(file)", problem)])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(err, "problem", None) or str(err)
        raise ScenarioError(str(p), [Issue(where, f"malformed YAML: {problem}")]) from None
    return parse_scenario(data, str(p))


# ------------------------------------------------------------------------------ model checks

def _check_cell(cell: Cell, where: str, model: Model) -> list[Issue]:
    issues = []
    if cell.context not in CONTEXTS:
        issues.append(Issue(f"{where}.context", f"unknown cell context {cell.context!r}{context_hint(cell.context)}; "
                                                f"expected one of: {', '.join(CONTEXTS)}"))
    else:
        needed = [EXPRESSION_PARAMETERS[k] for k in {**CONTEXTS[cell.context].expression, **cell.expression}
                  if k in EXPRESSION_PARAMETERS]
        missing = sorted({pid for pid in needed if model.kind(pid) != "parameter"})
        if missing:
            issues.append(Issue(f"{where}.context", f"the model has no expression parameter(s) {', '.join(missing)} "
                                                    f"that context {cell.context!r} sets"))
    for key in cell.expression:
        if key not in EXPRESSION_PARAMETERS:
            issues.append(Issue(f"{where}.expression.{key}", f"unknown expression key {key!r}"
                                f"{did_you_mean(key, EXPRESSION_PARAMETERS)}; expected one of: "
                                f"{', '.join(EXPRESSION_PARAMETERS)}"))
    for sid in cell.initial:
        if model.kind(sid) != "species":
            issues.append(Issue(f"{where}.initial.{sid}", f"unknown species {sid!r}{model.suggest(sid, ('species',))}"))
    for pid in cell.parameters:
        if model.kind(pid) not in ("parameter", "compartment"):
            extra = " (it is computed by a rule; set what it depends on)" if model.kind(pid) == "assigned" else ""
            issues.append(Issue(f"{where}.parameters.{pid}", f"unknown parameter {pid!r}{extra}"
                                f"{model.suggest(pid, ('parameter', 'compartment'))}"))
    return issues


def _check_stimulus(stim: dict, where: str, model: Model) -> list[Issue]:
    medium = [s for s, c in model.species.items() if c == "medium"]
    return [Issue(f"{where}.{sid}", f"unknown extracellular species {sid!r}{did_you_mean(sid, medium)}; "
                                    f"expected one of: {', '.join(medium)}")
            for sid in stim if sid not in medium]


def check_scenario(scenario: Scenario, model: Model) -> list[Issue]:
    """Every problem of names and references in ``scenario`` against ``model`` (never raises)."""
    issues = _check_cell(scenario.cell, "cell", model) + _check_stimulus(scenario.stimulus, "stimulus", model)
    selectable = set(model.all_ids())
    for i, r in enumerate(scenario.readouts or []):
        if r not in selectable:
            issues.append(Issue(f"readouts[{i}]", f"unknown readout {r!r}{did_you_mean(r, selectable)}"))
    if scenario.readouts is None:
        missing = [r for r in READOUTS if r not in selectable]
        if missing:
            issues.append(Issue("readouts", f"the model lacks standard readout(s) {', '.join(missing)}; "
                                            "list the readouts to record explicitly"))
    for a, arm in enumerate(scenario.arms):
        if arm.cell is not None:
            issues += _check_cell(arm.cell, f"arms[{a}].cell", model)
        if arm.stimulus is not None:
            issues += _check_stimulus(arm.stimulus, f"arms[{a}].stimulus", model)
        slots: dict[str, tuple[str, dict]] = {}
        options: dict[str, tuple[int, bool]] = {}
        for t, tr in enumerate(arm.treatments):
            where = f"arms[{a}].treatments[{t}]"
            drug = find_drug(tr.drug)
            if drug is None:
                issues.append(Issue(f"{where}.drug", f"unknown drug {tr.drug!r}{drug_hint(tr.drug)}"))
                continue
            for opt in OPTION_PARAMETERS:
                chosen = getattr(tr, opt)
                if chosen is not None and opt not in drug.options:
                    issues.append(Issue(f"{where}.{opt}", f"option {opt!r} does not apply to {drug.name} "
                                                          f"({drug.mechanism.value})"))
                elif opt in drug.options:
                    value = drug.options[opt] if chosen is None else chosen
                    if opt in options and options[opt][1] != value:
                        issues.append(Issue(f"{where}.{opt}", f"{opt}={value} conflicts with {opt}={options[opt][1]} "
                                                              f"of treatments[{options[opt][0]}]; one arm has one "
                                                              "antibody slot"))
                    options.setdefault(opt, (t, value))
            absent = [i for i in (drug.slot, *drug.potency) if model.kind(i) is None]
            if absent:
                issues.append(Issue(f"{where}.drug", f"the model has no {', '.join(absent)} for {drug.name} "
                                                     f"({drug.mechanism.value}) to act on"))
                continue
            prev = slots.get(drug.slot)
            if prev and (prev[0] != drug.name):
                issues.append(Issue(f"{where}.drug", f"{drug.name} and {prev[0]} act through the same model slot "
                                                     f"{drug.slot!r} with different potencies; combine one of them"))
            slots[drug.slot] = (drug.name, dict(drug.potency))
    from .engines import ENGINES  # not at module level: engines -> protocol -> scenario

    engine_names = list(ENGINES)
    names = {a.name for a in scenario.arms}
    duration = scenario.simulation.duration_min
    for e, exp in enumerate(scenario.expect):
        if exp.metric.startswith("at_") and float(exp.metric[3:]) > duration:
            issues.append(Issue(f"expect[{e}].metric", f"{exp.metric} asks for t = {float(exp.metric[3:]):g} min, "
                                                        f"after the end of the simulation ({duration:g} min)"))
        if exp.readout not in selectable:
            issues.append(Issue(f"expect[{e}].readout", f"unknown readout {exp.readout!r}"
                                                         f"{did_you_mean(exp.readout, selectable)}"))
        for key in ("arm", "vs", "normalize", "vs_normalize", "arms"):
            val = getattr(exp, key)
            for name in (val if isinstance(val, list) else [val] if val else []):
                if name not in names:
                    issues.append(Issue(f"expect[{e}].{key}", f"no arm named {name!r}{did_you_mean(name, names)}; "
                                                              f"arms are: {', '.join(sorted(names))}"))
        for key, engines in (("known_failure_engines", exp.known_failure_engines or []),
                             ("not_expressible", list(exp.not_expressible or {}))):
            for eng in engines:
                if eng not in engine_names:
                    issues.append(Issue(f"expect[{e}].{key}", f"unknown engine {eng!r}"
                                                              f"{did_you_mean(eng, engine_names)}; engines are: "
                                                              f"{', '.join(engine_names)}"))
    mech = scenario.mechanism
    if mech is not None and mech.id and scenario.claims and mech.id not in scenario.claims:
        issues.append(Issue("mechanism.id", f"{mech.id!r} is not one of the scenario's claims "
                                            f"({', '.join(scenario.claims)}){did_you_mean(mech.id, scenario.claims)}"))
    return issues


def validate_scenario(scenario: Scenario, model: Model, source: str = "<scenario>") -> Scenario:
    """Raise :class:`ScenarioError` with all issues if ``scenario`` does not fit ``model``."""
    if issues := check_scenario(scenario, model):
        raise ScenarioError(source, issues)
    return scenario
