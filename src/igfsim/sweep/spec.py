"""Sweep specification: axes, targets, designs (grid, Latin hypercube, Sobol, points), panels,
validation against a model, YAML loading, and how one design row changes a scenario.

An axis's ``target`` is one of the grammar of :mod:`igfsim.scenario.targets` (``dose:<arm>/<drug>``
or ``dose:*/<drug>``, ``stimulus:``, ``expression:``, ``initial:``, ``parameter:``, ``scale:``); how a
value reaches the arms is :func:`igfsim.scenario.targets.apply_targets`' (axes win over arms; an arm
with a stimulus of its own keeps a species it leaves out absent; ``scale:`` multiplies each arm's
effective value).

Execution lives in :mod:`igfsim.sweep.execute`; :mod:`igfsim.sweep` re-exports the public names
(``Axis``, ``Sweep``, ``load_sweep``, ``check_sweep``, ``design_table``, ``apply_row``, ``sweep_hash``).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from igfsim.errors import IgfsimError, Issue, ScenarioError, did_you_mean
from igfsim.model.sbml import Model, load_model
from igfsim.scenario.catalog import catalog_for, resolve_catalog_paths
from igfsim.scenario.checks import check_cell, check_scenario
from igfsim.scenario.loading import (
    format_loc,
    issues_from_pydantic,
    load_scenario,
    no_arm,
    parse_scenario,
    read_yaml_file,
)
from igfsim.scenario.schema import METRIC_RE, METRICS_HELP, Cell, Count, Finite, Scenario, Seed
from igfsim.scenario.targets import CellValues, Target, TargetKind, apply_targets, check_target, parse_target

#: the target kinds a sweep axis may take (the grammar lives in :mod:`igfsim.scenario.targets`)
TARGET_KINDS = tuple(TargetKind)
#: target kinds whose values are concentrations, doses or multipliers
NON_NEGATIVE_KINDS = (
    TargetKind.DOSE,
    TargetKind.STIMULUS,
    TargetKind.EXPRESSION,
    TargetKind.INITIAL,
    TargetKind.SCALE,
)
#: names used by the dataset's own dimensions and coordinates
#: the columns of the stored parts besides the axes (igfsim.sweep.store), which an axis name may not take
RESERVED = ("run", "arm", "readout", "metric", "time", "panel", "status", "message", "value")
PANEL_KEYS = ("expression", "initial", "parameters")


class Axis(BaseModel):
    """One swept quantity: explicit ``values``, a ``range`` (+ ``n`` and ``scale`` for grids), or a
    log-normal ``distribution`` (random designs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    target: str
    values: Annotated[list[Finite], Field(min_length=1)] | None = None
    range: tuple[Finite, Finite] | None = None
    n: Count | None = None
    scale: Literal["lin", "log"] = "lin"
    distribution: dict | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if v in RESERVED:
            raise ValueError(f"axis name {v!r} is reserved; avoid {', '.join(RESERVED)}")
        return v

    @field_validator("target")
    @classmethod
    def _target(cls, v: str) -> str:
        parse_target(v, TARGET_KINDS)
        return v

    @field_validator("distribution")
    @classmethod
    def _distribution(cls, v: dict | None) -> dict | None:
        if v is None:
            return v
        inner = v.get("lognormal")
        if set(v) != {"lognormal"} or not isinstance(inner, dict) or set(inner) != {"median", "sigma"}:
            raise ValueError("expected {lognormal: {median: <m>, sigma: <s>}}")
        med, sig = (float(v["lognormal"][k]) for k in ("median", "sigma"))
        if not (med > 0 and sig >= 0 and math.isfinite(med) and math.isfinite(sig)):
            raise ValueError("lognormal needs median > 0 and sigma >= 0")
        return {"lognormal": {"median": med, "sigma": sig}}

    @model_validator(mode="after")
    def _shape(self):
        given = [k for k in ("values", "range", "distribution") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'values', 'range' or 'distribution'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.range is not None:
            lo, hi = self.range
            if not lo < hi:
                raise ValueError(f"range must be [low, high] with low < high, got [{lo:g}, {hi:g}]")
            if self.scale == "log" and lo <= 0:
                raise ValueError(f"scale 'log' needs a range above 0, got [{lo:g}, {hi:g}]")
        elif self.n is not None:
            raise ValueError("'n' goes with 'range' (the number of grid points)")
        return self

    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value the axis can take (inf for a log-normal)."""
        if self.values is not None:
            return min(self.values), max(self.values)
        if self.range is not None:
            return self.range
        return 0.0, math.inf

    def grid_values(self) -> np.ndarray:
        """The grid points of this axis."""
        if self.values is not None:
            return np.asarray(self.values, dtype=float)
        if self.range is None or self.n is None:
            raise ValueError(f"axis {self.name!r}: a grid needs 'values' or 'range' with 'n'")
        lo, hi = self.range
        return np.geomspace(lo, hi, self.n) if self.scale == "log" else np.linspace(lo, hi, self.n)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map samples in (0, 1) onto this axis (random designs)."""
        u = np.clip(np.asarray(u, dtype=float), 1e-12, 1 - 1e-12)
        if self.distribution is not None:
            from scipy.stats import norm

            p = self.distribution["lognormal"]
            return p["median"] * np.exp(p["sigma"] * norm.ppf(u))
        if self.range is None:
            raise ValueError(f"axis {self.name!r}: a random design needs 'range' or 'distribution'")
        lo, hi = self.range
        return lo * (hi / lo) ** u if self.scale == "log" else lo + (hi - lo) * u


class Sweep(BaseModel):
    """A scenario plus axes and a design. ``scenario`` may be a path to a scenario file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: Scenario
    axes: list[Axis] = Field(default_factory=list)
    design: Literal["grid", "lhs", "sobol", "points"] = "grid"
    n: Count | None = None
    seed: Seed = 0
    panel: dict[str, dict[str, dict[str, Finite]]] | None = None
    metrics: Annotated[list[str], Field(min_length=1)] = Field(default_factory=lambda: ["auc", "final", "peak"])
    keep_trajectories: bool = False
    engine: str = "roadrunner"
    arms: Annotated[list[str], Field(min_length=1)] | None = None
    #: extension: Antimony/SBML model file (default: the bundled model)
    model: str | None = None
    #: the model's mapping file (default: ``<model>.mapping.yaml`` beside it)
    mapping: str | None = None
    #: drug and cell catalogue files read over the bundled one, after the scenario's own
    catalog: tuple[str, ...] = ()

    @field_validator("scenario", mode="before")
    @classmethod
    def _load(cls, v):
        return load_scenario(v) if isinstance(v, str | Path) else v

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if not METRIC_RE.match(m)]
        if bad:
            raise ValueError(f"unknown metric(s) {', '.join(map(repr, bad))}; expected {METRICS_HELP}")
        if len(set(v)) != len(v):
            raise ValueError("metrics are repeated")
        return v

    def load_model(self) -> Model:
        """The model this sweep runs on."""
        return load_model(self.model, mapping=self.mapping)


# ------------------------------------------------------------------------------------- checks


def _check_value_range(axis: Axis, kind: TargetKind) -> str | None:
    lo, _ = axis.bounds()
    if kind in NON_NEGATIVE_KINDS and lo < 0:
        return f"{kind} values must be >= 0, got {lo:g}"
    return None


def check_sweep(sweep: Sweep, model: Model) -> list[Issue]:
    """Every problem of ``sweep`` against its scenario and ``model`` (never raises); the scenario's own
    names are checked too (an unknown context, drug or readout of an inline scenario is a ``scenario.``
    issue, not a failure of every run)."""
    return [
        *_in_scenario(check_scenario(sweep.scenario, model)),
        *_check_axes(sweep, model),
        *_check_design(sweep),
        *_check_arms(sweep),
        *_check_panel(sweep, model),
        *_check_metrics(sweep),
        *_check_engine(sweep),
    ]


def _check_axes(sweep: Sweep, model: Model) -> list[Issue]:
    """Names, targets and values of every axis, and what the design asks of them."""
    issues: list[Issue] = []
    names = [a.name for a in sweep.axes]
    for i, axis in enumerate(sweep.axes):
        where = f"axes[{i}]"
        if names.count(axis.name) > 1:
            issues.append(Issue(f"{where}.name", f"axis name {axis.name!r} is repeated"))

        target = parse_target(axis.target, TARGET_KINDS)
        issues += [Issue(f"{where}.target", msg) for msg in check_target(target, sweep.scenario, model)]
        if msg := _check_value_range(axis, target.kind):
            issues.append(Issue(where, msg))
        if msg := _check_axis_design(sweep, axis):
            issues.append(Issue(where, msg))
    return issues


def _check_axis_design(sweep: Sweep, axis: Axis) -> str | None:
    """What is wrong with ``axis`` for the sweep's design, if anything."""
    if sweep.design == "grid" and axis.values is None and (axis.range is None or axis.n is None):
        return "a grid axis needs 'values' or 'range' with 'n'"
    if sweep.design == "points" and (axis.values is None or len(axis.values) != len(sweep.axes[0].values or ())):
        return "design 'points' needs 'values' of the same length on every axis (run i takes the i-th value of each)"
    if sweep.design in ("lhs", "sobol") and (axis.values is not None or axis.n is not None):
        return f"design {sweep.design!r} samples 'range' or 'distribution'; 'values' and 'n' are for grids"
    return None


def _check_design(sweep: Sweep) -> list[Issue]:
    """``n`` and the axes against the design."""
    issues: list[Issue] = []
    if sweep.design in ("grid", "points") and sweep.n is not None:
        issues.append(
            Issue("n", "'n' is the sample count of a random design (lhs, sobol); a grid's size comes from its axes")
        )
    if sweep.design in ("lhs", "sobol"):
        if sweep.n is None:
            issues.append(Issue("n", f"design {sweep.design!r} needs 'n' (the number of samples)"))
        if not sweep.axes:
            issues.append(Issue("axes", f"design {sweep.design!r} needs at least one axis"))
    if (runs := planned_runs(sweep)) > MAX_RUNS:
        issues.append(
            Issue(
                "axes" if sweep.design in ("grid", "points") else "n",
                f"the sweep would have {runs:,} runs, more than the {MAX_RUNS:,} igfsim plans in one sweep; "
                "split it into several sweeps",
            )
        )
    return issues


#: the most runs one sweep may plan (checked before its design table is built)
MAX_RUNS = 1_000_000


def planned_runs(sweep: Sweep) -> int:
    """How many runs the design asks for (exact integers: a huge grid is counted, not built)."""
    members = len(sweep.panel) if sweep.panel else 1
    if sweep.design == "grid":
        size = math.prod(len(a.values) if a.values is not None else (a.n or 1) for a in sweep.axes)
    elif sweep.design == "points":
        size = len(sweep.axes[0].values or ()) if sweep.axes else 1
    else:
        size = sweep.n or 0
    return members * size


def _check_arms(sweep: Sweep) -> list[Issue]:
    arm_names = {a.name for a in sweep.scenario.arms}
    return [Issue(f"arms[{j}]", no_arm(a, arm_names)) for j, a in enumerate(sweep.arms or []) if a not in arm_names]


def _check_panel(sweep: Sweep, model: Model) -> list[Issue]:
    """Every panel member's keys and cell settings."""
    issues: list[Issue] = []
    for member, cell in (sweep.panel or {}).items():
        for key in cell:
            if key not in PANEL_KEYS:
                issues.append(
                    Issue(
                        f"panel.{member}.{key}",
                        f"unknown key {key!r}{did_you_mean(key, PANEL_KEYS)}; expected one of: {', '.join(PANEL_KEYS)}",
                    )
                )
        try:
            probe = Cell.model_validate({k: v for k, v in cell.items() if k in PANEL_KEYS})
        except ValidationError as err:
            issues += [Issue(f"panel.{member}.{format_loc(e['loc'])}", e["msg"]) for e in err.errors()]
            continue
        issues += check_cell(probe, f"panel.{member}", model, catalog_for(sweep.scenario))
    if sweep.panel is not None and not sweep.panel:
        issues.append(Issue("panel", "a panel needs at least one member"))
    return issues


def _check_metrics(sweep: Sweep) -> list[Issue]:
    duration = sweep.scenario.simulation.duration_min
    return [
        Issue(f"metrics[{j}]", f"{m} is after the end of the simulation ({duration:g} min)")
        for j, m in enumerate(sweep.metrics)
        if m.startswith("at_") and float(m[3:]) > duration
    ]


def _check_engine(sweep: Sweep) -> list[Issue]:
    from igfsim.engines import ENGINES

    if sweep.engine in ENGINES:
        return []
    return [
        Issue(
            "engine",
            f"unknown engine {sweep.engine!r}{did_you_mean(sweep.engine, ENGINES)}; engines are: {', '.join(ENGINES)}",
        )
    ]


# -------------------------------------------------------------------------------------- YAML


def load_sweep(path: str | Path, model: Model | None = None, *, catalogs: Sequence[str | Path] = ()) -> Sweep:
    """Read a sweep file and check it against its scenario and model (bundled unless ``model:``);
    ``catalogs`` (relative to the working folder) are read after the sweep file's ``catalog:``."""
    p = Path(path)
    data = read_yaml_file(p)
    if not isinstance(data, dict):
        raise ScenarioError(str(p), [Issue("(top level)", "expected a mapping of keys")])
    data = dict(data)
    sc = data.get("scenario")
    if sc is None:
        raise ScenarioError(str(p), [Issue("scenario", "required key is missing (a scenario file or mapping)")])
    scenario_issues: list[Issue] = []
    if isinstance(sc, str):
        data["scenario"] = load_scenario(p.parent / sc)  # errors name the scenario file
    elif isinstance(sc, dict):
        try:
            data["scenario"] = parse_scenario(sc, str(p), p.parent)
        except ScenarioError as err:  # reported with the sweep's own problems below
            scenario_issues = _in_scenario(err.issues)
    else:
        raise ScenarioError(str(p), [Issue("scenario", "expected a path to a scenario file or a mapping")])
    for key in ("model", "mapping"):
        if isinstance(data.get(key), str):
            data[key] = str(p.parent / data[key])
    if isinstance(data.get("catalog"), str):
        data["catalog"] = [data["catalog"]]
    if catalogs:
        data["catalog"] = [*data.get("catalog", []), *resolve_catalog_paths([str(c) for c in catalogs], Path.cwd())]
    if isinstance(data.get("catalog"), list) and all(isinstance(c, str) for c in data["catalog"]):
        data["catalog"] = resolve_catalog_paths(data["catalog"], p.parent)
        if isinstance(data["scenario"], Scenario):
            own = data["scenario"].catalog
            data["scenario"] = data["scenario"].model_copy(
                update={"catalog": (*own, *(c for c in data["catalog"] if c not in own))}
            )
    sweep: Sweep | None = None
    if not scenario_issues:
        with contextlib.suppress(ValidationError):  # its problems are gathered below, with the others
            sweep = Sweep.model_validate(data)
    if sweep is None:
        raise ScenarioError(str(p), [*scenario_issues, *_scenario_names(data, model), *_own_issues(data)])
    if issues := check_sweep(sweep, model or sweep.load_model()):
        raise ScenarioError(str(p), issues)
    return sweep


def _in_scenario(issues: Sequence[Issue]) -> list[Issue]:
    """A scenario's issues as issues of the sweep that holds it inline."""
    return [Issue(f"scenario.{i.where}", i.message) for i in issues]


class _SweepKeys(Sweep):
    """A sweep's own keys, read while its inline scenario is known to be wrong (so one pass reports both)."""

    scenario: Any = None


def _scenario_names(data: dict, model: Model | None) -> list[Issue]:
    """The name problems of a sweep's parsed scenario, checked against ``model`` or the sweep's own
    (none if that model does not load: its own error comes once the sweep's keys are right)."""
    scenario = data["scenario"]
    if not isinstance(scenario, Scenario):
        return []
    if model is None:
        paths = [data.get(k) for k in ("model", "mapping")]
        if not all(v is None or isinstance(v, str) for v in paths):
            return []
        try:
            model = load_model(paths[0], mapping=paths[1])
        except IgfsimError:
            return []
    return _in_scenario(check_scenario(scenario, model))


#: the keys that set a sweep's size
DESIGN_KEYS = ("axes", "design", "n", "panel")


def _own_issues(data: dict) -> list[Issue]:
    """The structural problems of a sweep's keys other than its scenario, and its size if its design
    keys are sound (a huge grid is reported even beside a typo elsewhere)."""
    try:
        return _check_design(_SweepKeys.model_validate(data))
    except ValidationError as err:
        issues = [i for i in issues_from_pydantic(err, Sweep, data) if not i.where.startswith("scenario")]
    try:
        design = _SweepKeys.model_validate({k: data[k] for k in DESIGN_KEYS if k in data})
    except ValidationError:
        return issues
    return [*issues, *_check_design(design)]


# ------------------------------------------------------------------------------------- design


def design_table(sweep: Sweep) -> tuple[list[str | None], np.ndarray]:
    """The runs: panel member per run (None without a panel) and an array ``(runs, axes)`` of values.

    Panel members are crossed with the design rows (panel-major); a grid's first axis varies slowest.
    """
    axes = sweep.axes
    if sweep.design == "grid":
        product = list(itertools.product(*[a.grid_values() for a in axes]))  # no axes: one empty row
        rows = np.array(product, dtype=float).reshape(len(product), len(axes))
    elif sweep.design == "points":  # explicit design rows: the i-th value of every axis
        rows = np.column_stack([np.asarray(a.values, dtype=float) for a in axes]) if axes else np.zeros((1, 0))
    else:
        from scipy.stats import qmc

        rng = np.random.default_rng(sweep.seed)
        if sweep.design == "lhs":
            u = qmc.LatinHypercube(d=len(axes), rng=rng).random(sweep.n)
        else:
            with warnings.catch_warnings():  # n not a power of 2: fine for a design, Sobol warns about balance
                warnings.simplefilter("ignore", UserWarning)
                u = qmc.Sobol(d=len(axes), scramble=True, rng=rng).random(sweep.n)
        rows = np.column_stack([a.from_unit(u[:, j]) for j, a in enumerate(axes)])
    members: list[str | None] = list(sweep.panel) if sweep.panel else [None]
    panel = [m for m in members for _ in range(len(rows))]
    return panel, np.tile(rows, (len(members), 1))


def sweep_hash(sweep: Sweep, model: Model) -> str:
    """A hash of everything that determines the results (spec and model), for resuming."""
    spec = sweep.model_dump(mode="json", exclude={"model", "mapping"})
    files = [*catalog_for(sweep.scenario).files, model.mapping.source]
    contents = [hashlib.sha256(Path(f).read_bytes()).hexdigest() if f else "" for f in files]
    text = json.dumps(
        {"spec": spec, "model": model.sha256, "catalogues and mapping": contents}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def apply_row(
    scenario: Scenario,
    targets: Sequence[str | Target],
    values: Sequence[float],
    panel_cell: CellValues | None = None,
    *,
    model: Model | None = None,
) -> Scenario:
    """The scenario variant of one run: panel cell first, then every axis value (axes win over arms).

    :func:`igfsim.scenario.targets.apply_targets` with the sweep's target kinds; ``model`` is needed
    for ``scale:`` axes. An arm with its own stimulus keeps a species it leaves out absent.
    """
    parsed = [t if isinstance(t, Target) else parse_target(t, TARGET_KINDS) for t in targets]
    return apply_targets(scenario, parsed, values, model=model, panel_cell=panel_cell)
