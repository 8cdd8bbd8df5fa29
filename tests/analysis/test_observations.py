"""Simulated values of observations: crossings, IC50/EC50 on real runs, the suite summary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from igfsim.analysis.observations import ValidationSummary, check_observations, crossing
from igfsim.model.sbml import load_model
from igfsim.runner import run_scenario
from igfsim.scenario.loading import parse_scenario

PUB = {"citation": "A et al. 2000", "figure": "Fig 1", "digitised": "text"}


def test_crossing_interpolates_in_log_dose_and_in_linear_time():
    assert crossing([1, 10, 100], [1.0, 0.8, 0.2], 0.5) == pytest.approx(10**1.5)
    assert crossing([0, 2, 4], [0.0, 0.2, 1.0], 0.6, log=False) == pytest.approx(3.0)
    assert math.isinf(crossing([1, 10], [1.0, 0.9], 0.5))
    assert crossing([1, 10], [0.5, 0.9], 0.5) == 1


@pytest.fixture(scope="module")
def model():
    return load_model(None)


def test_ic50_and_ec50_come_from_the_simulated_arms(model):
    doses = [1, 10, 100, 1000]
    scenario = parse_scenario(
        {
            "name": "v",
            "title": "t",
            "simulation": {"duration_min": 20, "points": 41},
            "stimulus": {"IGF1": 1},
            "readouts": ["pIGF1R"],
            "arms": [{"name": "control"}]
            + [{"name": f"d{d}", "treatments": [{"drug": "NVP-AEW541", "dose_nM": d, "start_min": -60}]} for d in doses]
            + [{"name": f"L{c}", "stimulus": {"IGF1": c}} for c in (0.01, 0.1, 1, 10)],
            "observations": [
                {
                    "id": "IC",
                    "quantity": "ic50",
                    "readout": "pIGF1R",
                    "metric": "at_15",
                    "drug": "NVP-AEW541",
                    "control": "control",
                    "published": dict(PUB, value=86, unit="nM"),
                    "tolerance_fold": 2,
                    "tolerance_reason": "r",
                },
                {
                    "id": "EC",
                    "quantity": "ec50",
                    "readout": "pIGF1R",
                    "metric": "at_15",
                    "ligand": "IGF1",
                    "published": dict(PUB, value=0.2, unit="nM"),
                    "tolerance_fold": 100,
                    "tolerance_reason": "r",
                },
            ],
        }
    )
    result = run_scenario(scenario, model)
    ic, ec = check_observations(result, scenario)
    rel = [np.interp(15, result.times, result.get(f"d{d}", "pIGF1R")) for d in doses]
    ref = np.interp(15, result.times, result.get("control", "pIGF1R"))
    i = next(k for k, r in enumerate(rel) if r / ref < 0.5)
    assert doses[i - 1] < ic.simulated < doses[i]  # bracketed by the arms that straddle half of control
    assert ic.ratio == pytest.approx(ic.simulated / 86)
    assert 0.01 < ec.simulated < 10


def test_summary_leaves_anchors_out_of_the_share(model):
    scenario = parse_scenario(
        {
            "name": "v",
            "title": "t",
            "simulation": {"duration_min": 30, "points": 61},
            "stimulus": {"IGF1": 1},
            "readouts": ["pAkt"],
            "arms": [{"name": "a"}],
            "observations": [
                {
                    "id": f"T{i}",
                    "quantity": "tpeak",
                    "readout": "pAkt",
                    "arm": "a",
                    "published": dict(PUB, value=v, unit="min"),
                    "tolerance_fold": 1.5,
                    "tolerance_reason": "r",
                    "anchor": anchor,
                }
                for i, (v, anchor) in enumerate([(1000.0, None), (1e-3, "sets k"), (1000.0, "sets k")])
            ],
        }
    )
    outcomes = check_observations(run_scenario(scenario, model), scenario)
    summary = ValidationSummary(tuple(outcomes))
    assert len(summary.validation) == 1 and len(summary.anchors) == 2
    assert summary.n_within == 0 and summary.share_within == 0
    assert "0/1" in summary.line() and "2 calibration anchor(s)" in summary.line()
