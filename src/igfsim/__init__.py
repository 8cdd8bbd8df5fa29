"""igfsim: simulate IGF-IR/InsR signalling and the resistance of cancer cells to IGF-axis drugs.

The public API:

>>> from igfsim import load_model, load_scenario, run_scenario, check_expectations  # doctest: +SKIP

Layout (each sub-package imports only those listed after it; ``tests/test_layers.py`` and the
import-linter contract in ``pyproject.toml`` check this): ``cli`` -> ``report``, ``export`` ->
``analysis`` -> ``sweep`` -> ``runner`` -> ``result`` -> ``scenario`` -> ``engines`` -> ``model`` ->
``errors``, ``resources``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from igfsim import _moved
from igfsim._version import __version__

if TYPE_CHECKING:  # the names below are imported on first use (``import igfsim`` stays light)
    from igfsim.analysis.expectations import ExpectationOutcome, check_expectations
    from igfsim.errors import EngineUnavailableError, IgfsimError, ModelError, ScenarioError, SimulationError
    from igfsim.model import Model, check_provenance, load_model, load_model_string
    from igfsim.result import ScenarioResult, compute_metrics, metric
    from igfsim.runner import run_scenario
    from igfsim.scenario import (
        CATALOG,
        CONTEXTS,
        DRUGS,
        READOUTS,
        Scenario,
        check_scenario,
        find_drug,
        load_scenario,
        parse_scenario,
    )

#: public name -> the module that defines it
_HOME = {
    "ExpectationOutcome": "igfsim.analysis.expectations",
    "check_expectations": "igfsim.analysis.expectations",
    **dict.fromkeys(
        ["EngineUnavailableError", "IgfsimError", "ModelError", "ScenarioError", "SimulationError"], "igfsim.errors"
    ),
    **dict.fromkeys(["Model", "check_provenance", "load_model", "load_model_string"], "igfsim.model"),
    **dict.fromkeys(["ScenarioResult", "compute_metrics", "metric"], "igfsim.result"),
    "run_scenario": "igfsim.runner",
    **dict.fromkeys(
        [
            "CATALOG",
            "CONTEXTS",
            "DRUGS",
            "READOUTS",
            "Scenario",
            "check_scenario",
            "find_drug",
            "load_scenario",
            "parse_scenario",
        ],
        "igfsim.scenario",
    ),
}

_moved.install()


def __getattr__(name: str) -> Any:
    """The public API and the sub-packages, imported when first used."""
    if name in _HOME:
        value = getattr(import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    try:
        return import_module(f"igfsim.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"igfsim.{name}":
            raise
    raise AttributeError(f"module 'igfsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


__all__ = [
    "CATALOG",
    "CONTEXTS",
    "DRUGS",
    "READOUTS",
    "EngineUnavailableError",
    "ExpectationOutcome",
    "IgfsimError",
    "Model",
    "ModelError",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "SimulationError",
    "check_expectations",
    "check_provenance",
    "check_scenario",
    "compute_metrics",
    "find_drug",
    "load_model",
    "load_model_string",
    "load_scenario",
    "metric",
    "parse_scenario",
    "run_scenario",
    "__version__",
]
