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
problem of a target against a scenario and a model, without raising.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from igfsim.errors import did_you_mean
from igfsim.scenario.contexts import EXPRESSION_PARAMETERS
from igfsim.scenario.drugs import find_drug

if TYPE_CHECKING:
    from igfsim.model.sbml import Model
    from igfsim.scenario.schema import Scenario


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
        medium = [s for s, c in model.species.items() if c == "medium"]
        return [] if key in medium else [f"unknown extracellular species {key!r}{did_you_mean(key, medium)}"]
    if kind is TargetKind.EXPRESSION:
        if key in EXPRESSION_PARAMETERS:
            return []
        return [
            f"unknown expression key {key!r}{did_you_mean(key, EXPRESSION_PARAMETERS)}; expected one of: "
            f"{', '.join(EXPRESSION_PARAMETERS)}"
        ]
    if kind is TargetKind.INITIAL:
        return [] if model.kind(key) == "species" else [f"unknown species {key!r}{model.suggest(key, ('species',))}"]
    if kind is TargetKind.SCALE:
        return [] if key in model.parameters else [f"no model parameter {key!r}{did_you_mean(key, model.parameters)}"]
    if model.kind(key) in ("parameter", "compartment"):
        return []
    return [f"unknown parameter {key!r}{model.suggest(key, ('parameter', 'compartment'))}"]


def _check_dose(target: Target, scenario: Scenario) -> list[str]:
    drug = find_drug(target.key)
    arm_names = [a.name for a in scenario.arms]
    if drug is None:
        return [f"unknown drug {target.key!r}"]
    if target.arm != ALL_ARMS and target.arm not in arm_names:
        return [
            f"no arm named {target.arm!r}{did_you_mean(str(target.arm), arm_names)}; arms are: {', '.join(arm_names)}"
        ]
    has = [
        a.name
        for a in scenario.arms
        if target.applies_to_arm(a.name) and any(same_drug(t.drug, drug.name) for t in a.treatments)
    ]
    if not has:
        where = "no arm" if target.arm == ALL_ARMS else f"arm {target.arm!r}"
        return [f"{where} has a {drug.name} treatment to set the dose of"]
    return []


def same_drug(name: str, canonical: str) -> bool:
    """Whether ``name`` (a name or alias) is the drug called ``canonical``."""
    d = find_drug(name)
    return d is not None and d.name == canonical
