"""Medium changes: fresh medium every ``simulation.medium_change_min`` minutes, as in culture."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import igfsim
from igfsim.errors import ScenarioError
from igfsim.scenario.translate import MEDIUM, build_protocol

DAY = 1440.0


def _scenario(every: float | None, **arm1) -> igfsim.Scenario:
    d = {
        "name": "medium",
        "title": "IGF1 for four days with an antibody that is washed out on day 3",
        "simulation": {"duration_min": 4 * DAY, "points": 97, "medium_change_min": every},
        "stimulus": {"IGF1": 1},
        "arms": [
            {"name": "control"},
            {
                "name": "antibody",
                "treatments": [{"drug": "cixutumumab", "dose_nM": 10, "start_min": -60, "stop_min": 3 * DAY}],
                **arm1,
            },
        ],
    }
    if every is None:
        del d["simulation"]["medium_change_min"]
    return igfsim.parse_scenario(copy.deepcopy(d), "medium.yaml")


def _changes(protocol, time):
    (event,) = [e for e in protocol.events if e.time == time]
    return {ch.target: (ch.value, ch.mode) for ch in event.changes}


def test_fresh_medium_at_each_change_before_the_end(igf_model):
    proto = build_protocol(igf_model, _scenario(2 * DAY), _scenario(2 * DAY).arm("antibody"))
    # changes at day 2 only (day 4 is the end of the run); the wash-out at day 3 stays
    assert sorted(e.time for e in proto.events) == [-60.0, 0.0, 2 * DAY, 3 * DAY]
    fresh = _changes(proto, 2 * DAY)
    medium = {s for s, c in igf_model.species.items() if c == MEDIUM}
    assert set(fresh) == medium  # every medium species is set, nothing else
    assert fresh["IGF1"] == (1.0, "set") and fresh["mAb_IGF1R"] == (10.0, "set")
    assert fresh["IGF1_IGFBP"] == (0.0, "set") and fresh["IGF2"] == (0.0, "set")


def test_a_change_after_wash_out_brings_no_antibody(igf_model):
    sc = _scenario(DAY * 3.5)
    proto = build_protocol(igf_model, sc, sc.arm("antibody"))
    assert _changes(proto, 3.5 * DAY)["mAb_IGF1R"] == (0.0, "set")


def test_a_treatment_starting_at_a_change_is_added_once(igf_model):
    sc = _scenario(DAY, treatments=[{"drug": "cixutumumab", "dose_nM": 10, "start_min": DAY}])
    proto = build_protocol(igf_model, sc, sc.arm("antibody"))
    (event,) = [e for e in proto.events if e.time == DAY]
    on_slot = [(ch.value, ch.mode) for ch in event.changes if ch.target == "mAb_IGF1R"]
    assert on_slot == [(0.0, "set"), (10.0, "add")]  # fresh medium first, then the new dose
    assert _changes(proto, 2 * DAY)["mAb_IGF1R"] == (10.0, "set")  # and it stays in later medium


def test_an_arm_can_opt_out_and_no_interval_means_no_changes(igf_model):
    sc = _scenario(DAY, medium_change=False)
    assert [e.time for e in build_protocol(igf_model, sc, sc.arm("antibody")).events] == [-60.0, 0.0, 3 * DAY]
    assert len(build_protocol(igf_model, sc, sc.arm("control")).events) == 4  # t = 0 and days 1-3
    plain = _scenario(None)
    assert [e.time for e in build_protocol(igf_model, plain, plain.arm("control")).events] == [0.0]


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_a_non_positive_interval_is_refused(bad):
    with pytest.raises(ScenarioError, match="medium_change_min"):
        _scenario(bad)


def test_simulated_medium_is_refreshed(igf_model):
    """The cells deplete the medium IGF1; fresh medium restores it, and nothing before a change moves."""
    kept, changed = (
        igfsim.run_scenario(_scenario(every).model_copy(update={"readouts": ["IGF1", "pIGF1R"]}), igf_model)
        for every in (None, DAY)
    )
    t = kept.times
    at = int(np.searchsorted(t, DAY))  # the value recorded at an event time is the one just after it
    assert t[at] == DAY
    ligand_kept, ligand_changed = kept.get("control", "IGF1"), changed.get("control", "IGF1")
    np.testing.assert_allclose(ligand_kept[:at], ligand_changed[:at], rtol=1e-6)
    assert ligand_kept[at] < 0.995  # a day of uptake by the cells
    assert ligand_changed[at] == pytest.approx(1.0, rel=1e-6)  # fresh medium
    assert ligand_changed[-1] > ligand_kept[-1]
