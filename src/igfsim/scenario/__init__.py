"""Scenarios: the file schema, the drug catalogue, cell contexts, readouts, and translation to a protocol."""

from __future__ import annotations

from igfsim.scenario.checks import check_scenario, validate_scenario
from igfsim.scenario.contexts import CONTEXTS, EXPRESSION_PARAMETERS, CellContext
from igfsim.scenario.drugs import CATALOG, DRUGS, Drug, ModeOfAction, find_drug
from igfsim.scenario.loading import load_scenario, parse_scenario
from igfsim.scenario.readouts import READOUTS, unit_of
from igfsim.scenario.schema import (
    Arm,
    Cell,
    Expectation,
    ResistanceMechanism,
    Scenario,
    Simulation,
    Treatment,
)
from igfsim.scenario.translate import build_protocol, cell_overrides

__all__ = [
    "CATALOG",
    "CONTEXTS",
    "DRUGS",
    "EXPRESSION_PARAMETERS",
    "READOUTS",
    "Arm",
    "Cell",
    "CellContext",
    "Drug",
    "Expectation",
    "ModeOfAction",
    "ResistanceMechanism",
    "Scenario",
    "Simulation",
    "Treatment",
    "build_protocol",
    "cell_overrides",
    "check_scenario",
    "find_drug",
    "load_scenario",
    "parse_scenario",
    "unit_of",
    "validate_scenario",
]
