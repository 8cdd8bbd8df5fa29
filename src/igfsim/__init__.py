"""igfsim: simulate IGF-IR/InsR signalling and the resistance of cancer cells to IGF-axis drugs.

The public API:

>>> from igfsim import load_model, load_scenario, run_scenario, check_expectations  # doctest: +SKIP
"""

from __future__ import annotations

from .analysis import ExpectationOutcome, check_expectations, compute_metrics, metric
from .contexts import CONTEXTS
from .drugs import CATALOG, DRUGS, find_drug
from .errors import EngineUnavailableError, IgfsimError, ModelError, ScenarioError, SimulationError
from .model import Model, check_provenance, load_model, load_model_string
from .readouts import READOUTS
from .result import ScenarioResult
from .runner import run_scenario
from .scenario import Scenario, check_scenario, load_scenario, parse_scenario

__version__ = "0.1.0"

__all__ = [
    "CATALOG", "CONTEXTS", "DRUGS", "READOUTS", "EngineUnavailableError", "ExpectationOutcome",
    "IgfsimError", "Model", "ModelError", "Scenario", "ScenarioError", "ScenarioResult",
    "SimulationError", "check_expectations", "check_provenance", "check_scenario", "compute_metrics",
    "find_drug", "load_model", "load_model_string", "load_scenario", "metric", "parse_scenario",
    "run_scenario", "__version__",
]
