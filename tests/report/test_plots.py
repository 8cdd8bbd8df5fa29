"""Run figures a scientist would publish: the readouts the scenario is about, grouped; solver noise drawn
as zero; the stimulus and each treatment marked; what each arm is given in the legend."""

from __future__ import annotations

import numpy as np
import pytest

import igfsim
from igfsim.report.plots import NOISE_FLOOR, figure_readouts, plot_scenario, plot_timecourse, scenario_marks
from igfsim.result.scenario_result import ArmRecord, RunStatus, ScenarioResult
from igfsim.scenario.loading import parse_scenario

SCENARIO = {
    "name": "marks",
    "title": "a drug added at 30 min and washed out at 60",
    "simulation": {"duration_min": 90, "points": 91},
    "stimulus": {"IGF1": 1.0},
    "arms": [
        {"name": "control"},
        {"name": "late", "treatments": [{"drug": "linsitinib", "dose_nM": 100, "start_min": 30, "stop_min": 60}]},
        {"name": "pre", "treatments": [{"drug": "cixutumumab", "dose_nM": 10, "start_min": -60}]},
    ],
    "expect": [{"readout": "pAkt", "metric": "final", "arm": "late", "vs": "control", "op": "<=", "value": 2}],
    "readouts": ["pIGF1R"],
}


def _result(values: np.ndarray, readouts=("pEGFR", "pAkt")) -> ScenarioResult:
    arms = ("control", "late", "pre")
    return ScenarioResult(
        scenario="marks",
        engine="roadrunner",
        arms=arms,
        times=np.linspace(0, 90, values.shape[1]),
        readouts=tuple(readouts),
        values=values,
        records=tuple(ArmRecord(a, RunStatus.OK) for a in arms),
        units={r: "fraction of pool" for r in readouts},
    )


def test_solver_noise_is_drawn_as_zero_on_an_axis_from_zero():
    values = np.full((3, 91, 2), -3.7e-33)
    values[:, :, 1] = np.linspace(0, 0.5, 91)
    res = _result(values)
    ax = plot_timecourse(res, "pEGFR")
    assert all((line.get_ydata() == 0).all() for line in ax.get_lines())
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] == pytest.approx(0.05)
    assert plot_timecourse(res, "pAkt").get_ylim() == pytest.approx((0.0, 0.54))
    assert np.isclose(res.values[0, 0, 0], -3.7e-33)  # the data themselves keep the value
    assert NOISE_FLOOR < 1e-6


def test_the_figure_shows_what_the_scenario_is_about_with_its_treatments_marked():
    scenario = parse_scenario(SCENARIO)
    res = _result(np.random.default_rng(0).random((3, 91, 3)), ("pIGF1R", "pAkt", "pERK"))
    assert figure_readouts(scenario, res) == ["pIGF1R", "pAkt"]  # listed, then read by an expectation
    marks, labels = scenario_marks(scenario)
    assert [(m.time, m.arm, m.kind) for m in marks] == [
        (0.0, None, "stimulus"),
        (30, "late", "start"),
        (60, "late", "stop"),
    ]
    assert labels["pre"] == "pre (cixutumumab 10 nM from -60 min)" and labels["control"] == "control"
    groups = igfsim.load_model().mapping.groups()
    fig = plot_scenario(res, scenario=scenario, groups=groups)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["pIGF1R · receptors", "pAkt · PI3K-Akt-mTOR"]
    ax = fig.axes[0]
    vertical = sorted(float(line.get_xdata()[0]) for line in ax.get_lines() if len(set(line.get_xdata())) == 1)
    assert vertical == [0.0, 30.0, 60.0]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "late (linsitinib 100 nM from 30 min to 60 min)" in legend and "stimulus (t = 0)" in legend


def test_groups_order_the_panels():
    res = _result(np.zeros((3, 91, 3)), ("pAkt", "pIGF1R", "pS6K"))
    groups = {"pAkt": "PI3K", "pIGF1R": "receptors", "pS6K": "PI3K"}
    fig = plot_scenario(res, groups=groups)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == [
        "pAkt · PI3K",
        "pS6K · PI3K",
        "pIGF1R · receptors",
    ]
