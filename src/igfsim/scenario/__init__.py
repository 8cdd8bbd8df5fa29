"""Scenarios: the file schema, the drug catalogue, cell contexts, readouts, and translation to a protocol."""

from __future__ import annotations

from igfsim.scenario.checks import check_scenario, validate_scenario
from igfsim.scenario.contexts import CONTEXTS, EXPRESSION_PARAMETERS, CellContext
from igfsim.scenario.drugs import CATALOG, DRUGS, Drug, ModeOfAction, find_drug
from igfsim.scenario.loading import load_scenario, parse_scenario
from igfsim.scenario.readouts import READOUTS, unit_of
from igfsim.scenario.schema import (
    METRIC_RE,
    METRICS_HELP,
    Arm,
    Cell,
    Expectation,
    Finite,
    NonNeg,
    ResistanceMechanism,
    Scenario,
    Simulation,
    Treatment,
)
from igfsim.scenario.translate import build_protocol, cell_overrides


def __getattr__(name: str) -> object:
    if name == "Mechanism":  # 0.1 name of the scenario's mechanism block; goes in 0.3.0
        import warnings

        warnings.warn(
            "igfsim.scenario.Mechanism is now ResistanceMechanism (a drug's is ModeOfAction)",
            DeprecationWarning,
            stacklevel=2,
        )
        return ResistanceMechanism
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "METRICS_HELP",
    "METRIC_RE",
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
    "Finite",
    "NonNeg",
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
