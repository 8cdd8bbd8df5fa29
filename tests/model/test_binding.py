"""The ligand-binding readout against the closed-form one-site equilibrium with ligand depletion."""

from __future__ import annotations

import pytest
from scipy.optimize import brentq

from igfsim.model.sbml import load_model
from igfsim.runner import run_scenario
from igfsim.scenario.loading import parse_scenario

CELL_PL, MEDIUM_PL = 1.2, 2100.0  # the model's compartments (pL per cell)


def _bound_share(ligand_nM: float, sites_nM: float, kd_nM: float) -> float:
    """Share of the dish's ligand on the cells at equilibrium (amounts in pL x nM)."""
    ligand, sites = ligand_nM * MEDIUM_PL, sites_nM * CELL_PL

    def balance(bound: float) -> float:
        free = (ligand - bound) / MEDIUM_PL
        return bound - sites * free / (kd_nM + free)

    return brentq(balance, 0.0, min(ligand, sites)) / ligand


@pytest.mark.parametrize("ligand", [0.007, 0.2, 5.0])
def test_igf1_bound_fraction_is_one_site_binding_with_depletion(ligand):
    model = load_model()
    scen = parse_scenario(
        {
            "name": "binding",
            "title": "IGF1 on IGF-IR-only cells, no trafficking",
            "simulation": {"duration_min": 6000, "points": 3},
            "cell": {"context": "InsR-KO", "parameters": {"k_int_R": 0, "kdeg_R": 0}},
            "readouts": ["IGF1_bound_fraction", "R11_tot"],
            "arms": [{"name": "a", "stimulus": {"IGF1": ligand}}],
        },
        "binding",
    )
    res = run_scenario(scen, model)
    sites = float(res.get("a", "R11_tot")[0])  # IGF-IR dimers, one binding site each
    expected = _bound_share(ligand, sites, model.parameters["Kd_R11_IGF1"])
    assert float(res.get("a", "IGF1_bound_fraction")[-1]) == pytest.approx(expected, rel=1e-6)
    assert float(res.get("a", "IGF1_bound_fraction")[0]) == pytest.approx(0.0, abs=1e-12)
