"""The observation block of scenario files: shape errors, units, bounds and tolerance."""

from __future__ import annotations

import pytest

from igfsim.errors import ScenarioError
from igfsim.model.sbml import load_model
from igfsim.scenario.checks import check_scenario
from igfsim.scenario.loading import parse_scenario
from igfsim.scenario.observation import Observation

PUB = {"value": 10.0, "unit": "nM", "citation": "A et al. 2000", "figure": "Fig 1", "digitised": "text"}


def _obs(**kw):
    base = {
        "id": "V1",
        "quantity": "ic50",
        "readout": "pIGF1R",
        "drug": "linsitinib",
        "control": "control",
        "published": PUB,
        "tolerance_fold": 3,
        "tolerance_reason": "why",
    }
    base.update(kw)
    return Observation.model_validate(base)


def test_fold_tolerance_brackets_the_published_value():
    o = _obs()
    assert o.within(10) and o.within(3.4) and o.within(29.9)
    assert not o.within(3.2) and not o.within(31)


def test_absolute_tolerance_and_bounds():
    pub = dict(PUB, unit="fraction", value=0.5)
    o = _obs(
        quantity="ratio",
        drug=None,
        control=None,
        arm="a",
        vs="b",
        published=pub,
        tolerance_fold=None,
        tolerance_abs=0.1,
    )
    assert o.within(0.41) and not o.within(0.39) and not o.within(0.61)
    low = _obs(
        quantity="ratio",
        drug=None,
        control=None,
        arm="a",
        vs="b",
        published=dict(pub, limit="at_least"),
        tolerance_fold=None,
        tolerance_abs=0.1,
    )
    assert low.within(0.41) and low.within(5.0) and not low.within(0.39)
    assert low.tolerance_text().startswith(">=")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tolerance_abs": 0.1}, "exactly one of"),
        ({"tolerance_fold": None}, "exactly one of"),
        ({"published": dict(PUB, unit="uM")}, "published in 'nM'"),
        ({"drug": None}, "needs 'drug'"),
        ({"arm": "x"}, "does not apply"),
        (
            {"ic50_kind": "relative", "quantity": "ec50", "drug": None, "control": None, "ligand": "IGF1"},
            "ic50 observations only",
        ),
        ({"metric": "peek"}, "unknown metric"),
        ({"tolerance_fold": 1.0}, "greater than 1"),
    ],
)
def test_shape_errors_name_the_problem(change, message):
    with pytest.raises(ValueError, match=message):
        _obs(**change)


def _scenario(observations, arms=None):
    return parse_scenario(
        {
            "name": "v",
            "title": "t",
            "stimulus": {"IGF1": 1},
            "arms": arms
            or [
                {"name": "control"},
                {"name": "low", "treatments": [{"drug": "linsitinib", "dose_nM": 10}]},
                {"name": "high", "treatments": [{"drug": "linsitinib", "dose_nM": 100}]},
            ],
            "observations": observations,
        }
    )


def test_every_reference_problem_of_an_observation_is_reported():
    model = load_model(None)
    bad = [
        dict(_obs().model_dump(mode="json"), id="A", control="contrl", readout="pIGF1RR"),
        dict(_obs().model_dump(mode="json"), id="B", drug="dasatinib"),
        dict(
            _obs().model_dump(mode="json"),
            id="C",
            quantity="ec50",
            drug=None,
            control=None,
            ligand="IGF9",
        ),
    ]
    issues = {(i.where, i.message.split(" ")[1]) for i in check_scenario(_scenario(bad), model)}
    wheres = {w for w, _ in issues}
    assert "observations[0].control" in wheres and "observations[0].readout" in wheres
    assert "observations[1].drug" in wheres
    assert "observations[2].ligand" in wheres


def test_observation_ids_must_be_unique_and_readouts_are_recorded():
    one = _obs().model_dump(mode="json")
    with pytest.raises(ScenarioError, match="observation ids must be unique"):
        _scenario([one, one])
    s = _scenario([dict(one, readout="pS6K")])
    assert "pS6K" in s.selected_readouts()
