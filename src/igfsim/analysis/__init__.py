"""Analysis of results: expectation verdicts, engine consistency, dose-response, synergy, sensitivity.

The sub-modules ``doseresponse``, ``synergy`` and ``sensitivity`` are imported on use
(``from igfsim.analysis.doseresponse import fit_hill``) so that ``import igfsim`` stays light.
"""

from __future__ import annotations

from igfsim.analysis.expectations import (
    ExpectationOutcome,
    check_expectation,
    check_expectations,
    describe,
    scenario_header,
    verdict_counts,
)
from igfsim.result.metrics import STANDARD_METRICS, compute_metrics, metric  # where they used to live

__all__ = [
    "STANDARD_METRICS",
    "ExpectationOutcome",
    "check_expectation",
    "check_expectations",
    "compute_metrics",
    "describe",
    "metric",
    "scenario_header",
    "verdict_counts",
]
