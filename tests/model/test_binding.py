"""The ligand-binding readout against the closed-form one-site equilibrium with ligand depletion."""

from __future__ import annotations

import pytest
from scipy.optimize import brentq

from igfsim.model.sbml import load_model
from igfsim.runner import run_scenario
from igfsim.scenario.loading import parse_scenario

CELL_PL, MEDIUM_PL = 1.2, 2100.0  # the model's compartments (pL per cell)


def _bound(ligand_nM: float, sites: dict[str, float], kds: dict[str, float]) -> float:
    """Ligand on the cells (nM in the cell volume) at equilibrium with independent site classes, with depletion."""
    ligand = ligand_nM * MEDIUM_PL  # amounts in pL x nM

    def balance(bound: float) -> float:
        free = (ligand - bound) / MEDIUM_PL
        return bound - sum(CELL_PL * sites[k] * free / (kds[k] + free) for k in sites)

    return brentq(balance, 0.0, min(ligand, CELL_PL * sum(sites.values()))) / CELL_PL


def _bound_share(ligand_nM: float, sites_nM: float, kd_nM: float) -> float:
    """Share of the dish's ligand on the cells at equilibrium with one site class."""
    return _bound(ligand_nM, {"site": sites_nM}, {"site": kd_nM}) * CELL_PL / (ligand_nM * MEDIUM_PL)


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


@pytest.mark.parametrize("ligand", [0.05, 2.0, 100.0])
def test_insulin_on_cells_is_binding_to_every_receptor_class_with_depletion(ligand):
    model = load_model()
    classes = ("R11", "RAA", "RBB", "H1A", "H1B")
    scen = parse_scenario(
        {
            "name": "insulin_binding",
            "title": "insulin on IR-B-rich cells, no trafficking",
            "simulation": {"duration_min": 20000, "points": 3},
            "cell": {"context": "InsR-B-high", "parameters": {"k_int_R": 0, "kdeg_R": 0}},
            "readouts": ["insulin_on_cells", *(f"{c}_tot" for c in classes)],
            "arms": [{"name": "a", "stimulus": {"insulin": ligand}}],
        },
        "insulin_binding",
    )
    res = run_scenario(scen, model)
    sites = {c: float(res.get("a", f"{c}_tot")[0]) for c in classes}  # dimers, one insulin site each
    assert sites["RBB"] > 10 * sites["RAA"] > 0  # the context is what the test means: IR-B-rich
    values = model.parameters
    kd_ir = values["Kd_IR_insulin"]
    kds = {
        "R11": values["Kd_R11_IGF1"] * values["ratio_R11_insulin_IGF1"],
        "RAA": kd_ir,
        "RBB": kd_ir,
        "H1A": values["Kd_hybrid_IGF1"] * values["ratio_hybrid_insulin_IGF1"],
        "H1B": values["Kd_hybrid_IGF1"] * values["ratio_hybrid_insulin_IGF1"],
    }
    expected = _bound(ligand, sites, kds)
    assert float(res.get("a", "insulin_on_cells")[-1]) == pytest.approx(expected, rel=1e-6)
    assert float(res.get("a", "insulin_on_cells")[0]) == pytest.approx(0.0, abs=1e-12)
