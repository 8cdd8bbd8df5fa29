"""The target grammar: what a sweep axis, a sensitivity input or a report panel changes in a scenario.

One grammar, used by sweeps, sensitivity analysis and the report::

    dose:<arm>/<drug>     dose_nM of that drug's treatment(s) in that arm (``*`` = every arm; drug
                          name or alias)
    stimulus:<species>    a medium species' stimulus concentration (nM)
    expression:<key>      an expression multiplier (a key of ``cell.expression``)
    initial:<species>     a species' initial concentration (nM)
    parameter:<id>        a model parameter or compartment, absolute value
    scale:<id>            a multiplier on a parameter's effective value in each arm

:func:`parse_target` turns the text into a frozen :class:`Target`; :func:`check_target` lists every
problem of a target against a scenario and a model, without raising; :func:`apply_targets` makes
the scenario variant with every target set to its value (the one applier of sweeps and
sensitivity analysis).

How a value reaches the arms ("axes win over arms": a target's value is what every arm it
concerns simulates):

* ``dose`` sets ``dose_nM`` of every treatment with that drug (name or alias) in the named arm, or
  in every arm for ``dose:*/<drug>``; a dose target that changes no treatment is an error.
* ``stimulus`` sets the species in the scenario's stimulus (every arm without a stimulus of its
  own inherits it) and in the arm stimuli that *list* the species. An arm that gives its own
  stimulus mapping replaces the scenario's medium, so a species it leaves out is absent from that
  arm by design (an unstimulated control, an IGF2-only arm) and stays absent.
* ``expression``, ``initial`` and ``parameter`` set the key in the scenario's cell and in every arm
  that has a cell of its own (so the value wins over an arm's own setting of the key; an arm's
  context is kept, expression values multiply it as in a scenario file).
* ``scale`` multiplies the parameter's *effective* value in each arm -- the model value, then the
  context, drug potencies and options, then cell settings, after every other target and the panel
  cell are applied -- and writes the product into the arm's cell; it needs the model.

A target given twice: the later value wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from igfsim.errors import did_you_mean
from igfsim.scenario.catalog import Catalog, catalog_for, load_catalog
from igfsim.scenario.checks import validate_scenario
from igfsim.scenario.schema import Scenario
from igfsim.scenario.translate import build_protocol

if TYPE_CHECKING:
    from igfsim.model.sbml import Model


class TargetKind(StrEnum):
    """What a target changes."""

    DOSE = "dose"
    STIMULUS = "stimulus"
    EXPRESSION = "expression"
    INITIAL = "initial"
    PARAMETER = "parameter"
    SCALE = "scale"


#: every arm (``dose:*/<drug>``)
ALL_ARMS = "*"
GRAMMAR_HELP = (
    "dose:<arm>/<drug> (or dose:*/<drug>), stimulus:<species>, expression:<key>, initial:<species>, "
    "parameter:<id> or scale:<id>"
)
_DOSE_RE = re.compile(r"^dose:([^/\s]+)/(\S+)$")
_OTHER_RE = re.compile(r"^(stimulus|expression|initial|parameter|scale):(\S+)$")


@dataclass(frozen=True)
class Target:
    """One parsed target: its kind, the id or key it names and, for doses, the arm (or ``*``)."""

    kind: TargetKind
    key: str
    arm: str | None = None

    def __str__(self) -> str:
        return f"dose:{self.arm}/{self.key}" if self.kind is TargetKind.DOSE else f"{self.kind}:{self.key}"

    @property
    def drug(self) -> str:
        """The drug named by a dose target."""
        if self.kind is not TargetKind.DOSE:
            raise ValueError(f"target {self} is not a dose target")
        return self.key

    def applies_to_arm(self, arm: str) -> bool:
        """Whether a dose target changes arm ``arm`` (its own arm, or every arm for ``*``)."""
        return self.kind is TargetKind.DOSE and self.arm in (ALL_ARMS, arm)


def parse_target(text: str, kinds: tuple[TargetKind, ...] = tuple(TargetKind)) -> Target:
    """Parse ``text``; raises ValueError naming the grammar (or the allowed kinds) when it does not fit."""
    text = str(text)
    if m := _DOSE_RE.match(text):
        target = Target(TargetKind.DOSE, m[2], m[1])
    elif m := _OTHER_RE.match(text):
        target = Target(TargetKind(m[1]), m[2])
    else:
        raise ValueError(f"bad target {text!r}; expected one of {_help(kinds)}")
    if target.kind not in kinds:
        raise ValueError(f"target kind {target.kind.value!r} is not supported here ({text!r}); expected {_help(kinds)}")
    return target


def _help(kinds: tuple[TargetKind, ...]) -> str:
    if set(kinds) == set(TargetKind):
        return GRAMMAR_HELP
    forms = {
        TargetKind.DOSE: "dose:<arm>/<drug> (or dose:*/<drug>)",
        TargetKind.STIMULUS: "stimulus:<species>",
        TargetKind.EXPRESSION: "expression:<key>",
        TargetKind.INITIAL: "initial:<species>",
        TargetKind.PARAMETER: "parameter:<id>",
        TargetKind.SCALE: "scale:<id>",
    }
    return ", ".join(forms[k] for k in kinds)


def dose_arms(target: Target, arm_names: list[str]) -> list[str]:
    """The arms a dose target changes, in scenario order (empty when it names no arm there)."""
    return [a for a in arm_names if target.applies_to_arm(a)]


def check_target(target: Target, scenario: Scenario, model: Model) -> list[str]:
    """Every problem of ``target`` against ``scenario`` and ``model``, as messages (never raises)."""
    kind, key = target.kind, target.key
    if kind is TargetKind.DOSE:
        return _check_dose(target, scenario)
    if kind is TargetKind.STIMULUS:
        medium = [s for s, c in model.species.items() if c == model.mapping.medium]
        return [] if key in medium else [f"unknown extracellular species {key!r}{did_you_mean(key, medium)}"]
    if kind is TargetKind.EXPRESSION:
        keys = model.mapping.expression
        if key in keys:
            return []
        expected = f"expected one of: {', '.join(keys)}" if keys else f"{model.mapping.what()} declares none"
        return [f"unknown expression key {key!r}{did_you_mean(key, keys)}; {expected}"]
    if kind is TargetKind.INITIAL:
        return [] if model.kind(key) == "species" else [f"unknown species {key!r}{model.suggest(key, ('species',))}"]
    if kind is TargetKind.SCALE:
        return [] if key in model.parameters else [f"no model parameter {key!r}{did_you_mean(key, model.parameters)}"]
    if model.kind(key) in ("parameter", "compartment"):
        return []
    return [f"unknown parameter {key!r}{model.suggest(key, ('parameter', 'compartment'))}"]


def _check_dose(target: Target, scenario: Scenario) -> list[str]:
    arms = [(a.name, [t.drug for t in a.treatments]) for a in scenario.arms]
    problem = _dose_problem(target, arms, catalog_for(scenario))
    return [problem] if problem else []


def _dose_problem(target: Target, arms: Sequence[tuple[str, Sequence[str]]], catalog: Catalog) -> str | None:
    """Why dose ``target`` changes no treatment among ``arms`` (name, treatment drugs), or None."""
    drug = catalog.find_drug(target.key)
    arm_names = [name for name, _ in arms]
    if drug is None:
        return f"unknown drug {target.key!r}"
    if target.arm != ALL_ARMS and target.arm not in arm_names:
        hint = did_you_mean(str(target.arm), arm_names)
        return f"no arm named {target.arm!r}{hint}; arms are: {', '.join(arm_names)}"
    if not any(
        target.applies_to_arm(name) and any(same_drug(d, drug.name, catalog) for d in drugs) for name, drugs in arms
    ):
        if target.arm == ALL_ARMS:
            return f"no arm has a {drug.name} treatment to set the dose of"
        return f"arm {target.arm!r} has no {drug.name} treatment to set the dose of"
    return None


def same_drug(name: str, canonical: str, catalog: Catalog) -> bool:
    """Whether ``name`` (a name or alias) is the drug called ``canonical`` in ``catalog``."""
    d = catalog.find_drug(name)
    return d is not None and d.name == canonical


# ------------------------------------------------------------------------------------ applying

#: the ``cell`` field each cell target writes
_CELL_FIELDS = {TargetKind.EXPRESSION: "expression", TargetKind.INITIAL: "initial", TargetKind.PARAMETER: "parameters"}
#: ``{field: {id: value}}`` of a cell (e.g. a sweep's panel member): expression, initial, parameters
CellValues = Mapping[str, Mapping[str, float]]


def apply_targets(
    scenario: Scenario,
    targets: Sequence[str | Target],
    values: Sequence[float],
    *,
    model: Model | None = None,
    panel_cell: CellValues | None = None,
) -> Scenario:
    """A copy of ``scenario`` with each target set to its value (see the module docstring).

    ``panel_cell`` (``{"expression" | "initial" | "parameters": {id: value}}``) is written first, as a
    cell target of each key; then the targets in order, ``scale`` targets last (they multiply the
    effective values that result). ``model`` is needed by ``scale`` targets only. Raises ValueError
    (pydantic's ValidationError for values the schema rejects, ScenarioError for a ``scale`` variant
    that does not check against the model). The original is not changed.
    """
    parsed = [t if isinstance(t, Target) else parse_target(t) for t in targets]
    if len(parsed) != len(values):
        raise ValueError(f"{len(parsed)} targets but {len(values)} values")
    data = _editable(scenario)
    for key, mapping in (panel_cell or {}).items():
        for sid, v in mapping.items():
            _set_cell(data, key, sid, float(v))
    scales: list[tuple[str, float]] = []
    for target, v in zip(parsed, values, strict=True):
        if target.kind is TargetKind.SCALE:
            scales.append((target.key, float(v)))
        else:
            _SETTERS[target.kind](data, target, float(v))
    variant = Scenario.model_validate(data)
    return _apply_scales(variant, scales, model) if scales else variant


def _editable(scenario: Scenario) -> dict[str, Any]:
    # exclude_unset: an arm's cell that names no context must keep inheriting the scenario's
    data = scenario.model_dump(exclude_unset=True)
    data["arms"] = [{**a, "treatments": a.get("treatments", [])} for a in data["arms"]]
    data.setdefault("cell", {})
    return data


def _set_cell(data: dict[str, Any], field: str, key: str, value: float) -> None:
    """``cell.<field>[key]`` in the scenario's cell and in every arm that has a cell of its own."""
    for cell in [data["cell"], *(a["cell"] for a in data["arms"] if a.get("cell") is not None)]:
        cell.setdefault(field, {})[key] = value


def _set_cell_target(data: dict[str, Any], target: Target, value: float) -> None:
    _set_cell(data, _CELL_FIELDS[target.kind], target.key, value)


def _set_stimulus(data: dict[str, Any], target: Target, value: float) -> None:
    """The scenario's stimulus, and arm stimuli that list the species (one that leaves it out keeps it absent)."""
    data.setdefault("stimulus", {})[target.key] = value
    for arm in data["arms"]:
        if arm.get("stimulus") is not None and target.key in arm["stimulus"]:
            arm["stimulus"][target.key] = value


def _set_dose(data: dict[str, Any], target: Target, value: float) -> None:
    catalog = load_catalog(data.get("catalog", ()))
    problem = _dose_problem(target, [(a["name"], [t["drug"] for t in a["treatments"]]) for a in data["arms"]], catalog)
    drug = catalog.find_drug(target.key)
    if problem is not None or drug is None:  # (an unknown drug is a problem)
        raise ValueError(f"target {target}: {problem}")
    for arm in data["arms"]:
        if target.applies_to_arm(arm["name"]):
            for t in arm["treatments"]:
                if same_drug(t["drug"], drug.name, catalog):
                    t["dose_nM"] = value


_SETTERS: dict[TargetKind, Callable[[dict[str, Any], Target, float], None]] = {
    TargetKind.DOSE: _set_dose,
    TargetKind.STIMULUS: _set_stimulus,
    TargetKind.EXPRESSION: _set_cell_target,
    TargetKind.INITIAL: _set_cell_target,
    TargetKind.PARAMETER: _set_cell_target,
}


def _apply_scales(variant: Scenario, scales: list[tuple[str, float]], model: Model | None) -> Scenario:
    """Each arm's cell gets ``parameter = effective value x multiplier`` for every ``scale`` target."""
    if model is None:
        raise ValueError("scale:<id> targets need the model (for the effective parameter values)")
    validate_scenario(variant, model, f"<variant of {variant.name}>")  # build_protocol needs a valid scenario
    for key, _ in scales:
        if key not in model.parameters:
            raise ValueError(f"scale:{key}: no model parameter {key!r}{did_you_mean(key, model.parameters)}")
    data = variant.model_dump(exclude_unset=True)
    for arm_obj, arm in zip(variant.arms, data["arms"], strict=True):
        effective = build_protocol(model, variant, arm_obj).overrides
        if arm.get("cell") is None:
            arm["cell"] = {}
        params = arm["cell"].setdefault("parameters", {})
        for key, mult in scales:
            params[key] = float(effective.get(key, model.parameters[key])) * mult
    return Scenario.model_validate(data)


def parse_overrides(items: Sequence[str], model: Model) -> list[tuple[Target, float]]:
    """``ID=VALUE`` settings (the command line's ``--set``) as targets: a parameter or compartment of
    ``model`` sets its value, a species its initial amount (nM). :class:`ScenarioError` lists every
    item that is not ``ID=VALUE`` with a finite number and a settable id."""
    import math

    from igfsim.errors import Issue, ScenarioError

    out, issues = [], []
    for item in items:
        sid, sep, text = item.partition("=")
        sid = sid.strip()
        try:
            value = float(text) if sep else math.nan
        except ValueError:
            value = math.nan
        kind = model.kind(sid)
        if not sep or not math.isfinite(value):
            issues.append(Issue(item, "expected ID=VALUE with a finite number, e.g. --set Kd_R11_IGF1=0.3"))
        elif kind in ("parameter", "compartment"):
            out.append((Target(TargetKind.PARAMETER, sid), value))
        elif kind == "species":
            out.append((Target(TargetKind.INITIAL, sid), value))
        else:
            why = " (computed by a rule; set what it depends on)" if kind == "assigned" else ""
            issues.append(Issue(item, f"{sid!r} is no parameter or species of the model{why}{model.suggest(sid)}"))
    if issues:
        raise ScenarioError("--set", issues)
    return out


def with_overrides(scenario: Scenario, overrides: Sequence[tuple[Target, float]]) -> Scenario:
    """``scenario`` with :func:`parse_overrides`' settings applied to its cell and every arm's cell."""
    if not overrides:
        return scenario
    return apply_targets(scenario, [t for t, _ in overrides], [v for _, v in overrides])
