"""Results of simulations: labelled trajectories per arm and the metrics taken from them."""

from __future__ import annotations

from igfsim.result.metrics import STANDARD_METRICS, compute_metrics, metric
from igfsim.result.scenario_result import ArmRecord, ScenarioResult

__all__ = ["STANDARD_METRICS", "ArmRecord", "ScenarioResult", "compute_metrics", "metric"]
