"""Additions: an extracellular species added to the medium at a later minute (two-step stimulation)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import igfsim
from igfsim.errors import ScenarioError
from igfsim.scenario.translate import build_protocol

TWO_STEP = {
    "name": "two_step",
    "title": "insulin 1.2 nM, then 8.8 nM more at 4 min",
    "simulation": {"duration_min": 10, "points": 101},
    "cell": {"context": "InsR-B-high"},
    "readouts": ["pIRS1", "pInsR", "insulin"],
    "arms": [
        {"name": "one_step", "stimulus": {"insulin": 1.2}},
        {
            "name": "two_step",
            "stimulus": {"insulin": 1.2},
            "additions": [{"minute": 4, "species": "insulin", "nM": 8.8}],
        },
    ],
}


def _scenario(**arm_changes) -> igfsim.Scenario:
    d = copy.deepcopy(TWO_STEP)
    d["arms"][1].update(arm_changes)
    return igfsim.parse_scenario(d, "two_step.yaml")


def test_an_addition_is_an_add_event_at_its_minute(igf_model):
    sc = _scenario()
    proto = build_protocol(igf_model, sc, sc.arm("two_step"))
    (event,) = [e for e in proto.events if e.time == 4.0]
    assert [(c.target, c.value, c.kind, c.mode) for c in event.changes] == [("insulin", 8.8, "species", "add")]


@pytest.mark.parametrize("engine", ["roadrunner", "scipy"])
def test_the_second_dose_adds_to_the_medium_and_changes_nothing_before_it(engine, igf_model):
    res = igfsim.run_scenario(_scenario(), model=igf_model, engine=engine)
    t = np.asarray(res.times)
    before, after = t < 4.0, t >= 4.0
    one, two = res.get("one_step", "insulin"), res.get("two_step", "insulin")
    np.testing.assert_allclose(two[before], one[before], rtol=1e-9)
    k = int(np.flatnonzero(after)[0])
    assert two[k] == pytest.approx(one[k] + 8.8, rel=1e-6)  # added to what the medium held, not set
    p1, p2 = res.get("one_step", "pIRS1"), res.get("two_step", "pIRS1")
    np.testing.assert_allclose(p2[before], p1[before], rtol=1e-9)
    assert p2[-1] > p1[-1] + 0.05  # more insulin, more IRS1 phosphorylation


def test_both_ode_engines_agree_on_a_two_step_protocol(igf_model):
    rr = igfsim.run_scenario(_scenario(), model=igf_model, engine="roadrunner")
    sp = igfsim.run_scenario(_scenario(), model=igf_model, engine="scipy")
    np.testing.assert_allclose(sp.get("two_step", "pIRS1"), rr.get("two_step", "pIRS1"), rtol=1e-4, atol=1e-6)


def test_bad_additions_are_reported_together_with_their_keys(igf_model):
    sc = _scenario(
        additions=[{"minute": 40, "species": "insulinn", "nM": 1}, {"minute": 0, "species": "IGF1", "nM": 1}]
    )
    msg = "\n".join(str(i) for i in igfsim.check_scenario(sc, igf_model))
    assert "arms[1].additions[0].species: unknown extracellular species 'insulinn'; did you mean 'insulin'?" in msg
    assert "arms[1].additions[0].minute: 40 min is outside the run" in msg
    assert "arms[1].additions[1].minute: 0 min is outside the run" in msg


@pytest.mark.parametrize("bad", [{"nM": 0}, {"nM": -1}, {"nM": float("nan")}, {"minute": float("inf")}, {"extra": 1}])
def test_an_addition_without_a_positive_finite_dose_and_minute_is_refused(bad):
    add = {"minute": 4, "species": "insulin", "nM": 8.8, **bad}
    with pytest.raises(ScenarioError, match=r"additions"):
        _scenario(additions=[add])
