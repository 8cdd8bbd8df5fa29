"""Cell fate in the bundled model: how IGF-dependent a cell is belongs to its context."""

from __future__ import annotations

import pytest

from igfsim.runner import run_scenario
from igfsim.scenario.contexts import CONTEXTS
from igfsim.scenario.loading import parse_scenario


def _final(context: str, readout: str = "PROLIF") -> dict[str, float]:
    sc = parse_scenario(
        {
            "name": "fate",
            "title": "t",
            "simulation": {"duration_min": 240, "points": 5},
            "cell": {"context": context},
            "readouts": [readout],
            "arms": [
                {"name": "no_ligand", "stimulus": {}},
                {"name": "IGF1", "stimulus": {"IGF1": 1}},
                {
                    "name": "IGF1_cixutumumab",
                    "stimulus": {"IGF1": 1},
                    "treatments": [{"drug": "cixutumumab", "dose_nM": 100, "start_min": -60}],
                },
            ],
        }
    )
    res = run_scenario(sc)
    return {arm: float(res.get(arm, readout)[-1]) for arm in res.arms}


@pytest.mark.parametrize("readout", ["PROLIF", "SURV"])
def test_without_ligand_fate_rests_on_the_context_drive(readout):
    drive = {"default": 0.45, "IGF-dependent": 0.1, "serum-free": 0.0}
    if readout == "SURV":
        drive = {"default": 0.5, "IGF-dependent": 0.1, "serum-free": 0.0}
    for context, level in drive.items():
        assert CONTEXTS[context].parameters.get(f"drive_{readout}", drive["default"]) == level
        assert _final(context, readout)["no_ligand"] == pytest.approx(level, abs=0.02)


def test_an_antibody_alone_leaves_default_cells_growing_but_not_igf_dependent_ones():
    default, dependent = _final("default"), _final("IGF-dependent")
    assert default["IGF1_cixutumumab"] / default["IGF1"] >= 0.5  # most lines keep half (PPTP)
    assert dependent["IGF1_cixutumumab"] / dependent["IGF1"] < 0.5
    assert dependent["IGF1"] > 0.5  # with IGF1 an IGF-dependent cell proliferates
