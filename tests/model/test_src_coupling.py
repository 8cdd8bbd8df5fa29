"""Src couplings of the ODE model: Src -> Shc -> Ras/ERK and ligand-independent Src -> IGF-IR
phosphorylation, which counts in pIGF1R but signals through the receptor kinase (a TKI blocks it)."""

from __future__ import annotations

import numpy as np
import pytest

import igfsim


def _run(parameters: dict[str, float], treatments: list[dict]) -> igfsim.ScenarioResult:
    """Integrin-high cells in a tissue-like volume with IGF1 10 nM (Src active, as in C06), 2 h."""
    sc = igfsim.parse_scenario(
        {
            "name": "src_coupling",
            "title": "Src couplings",
            "simulation": {"duration_min": 120, "points": 121, "preequilibrate": True},
            "stimulus": {"IGF1": 10},
            "cell": {"context": "integrin-high", "parameters": {"medium": 2.4, **parameters}},
            "readouts": ["pIGF1R", "pIRS1", "pShc", "pSrc"],
            "arms": [{"name": "treated", "treatments": treatments}],
        },
        "src_coupling",
    )
    return igfsim.run_scenario(sc)


def _auc(res, readout: str) -> float:
    return float(np.trapezoid(res.get("treated", readout), res.times))


MAB = {"drug": "cixutumumab", "dose_nM": 100, "start_min": -60}
DASATINIB = {"drug": "dasatinib", "dose_nM": 100, "start_min": -60}
LINSITINIB = {"drug": "linsitinib", "dose_nM": 1000, "start_min": -60}


def test_src_phosphorylates_antibody_blocked_igf1r_and_dasatinib_removes_it():
    with_src, without = _run({}, [MAB]), _run({"k_R_Src": 0}, [MAB])
    assert _auc(with_src, "pSrc") > 0.1 * 120  # Src is active here
    assert _auc(with_src, "pIGF1R") > 2 * _auc(without, "pIGF1R")
    src_part = _auc(with_src, "pIGF1R") - _auc(without, "pIGF1R")
    both, both_without = _run({}, [MAB, DASATINIB]), _run({"k_R_Src": 0}, [MAB, DASATINIB])
    assert _auc(both, "pIGF1R") - _auc(both_without, "pIGF1R") < 0.1 * src_part


def test_a_receptor_tki_blocks_the_signal_of_src_phosphorylated_igf1r():
    """Under linsitinib the Src-phosphorylated receptor still shows in pIGF1R, but IRS1 does not see it."""
    with_src, without = _run({}, [LINSITINIB]), _run({"k_R_Src": 0}, [LINSITINIB])
    assert _auc(with_src, "pIGF1R") > 1.1 * _auc(without, "pIGF1R")
    assert _auc(with_src, "pIRS1") == pytest.approx(_auc(without, "pIRS1"), rel=0.02)


def test_src_feeds_shc_under_the_antibody():
    with_src, without = _run({}, [MAB]), _run({"w_Shc_Src": 0}, [MAB])
    assert _auc(with_src, "pShc") > 1.5 * _auc(without, "pShc")
