"""Physical invariants of the bundled model: conserved pools, non-negativity, bounded fractions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import igfsim
from igfsim.engines import get_engine
from igfsim.resources import bundled_scenarios_dir
from igfsim.scenario.translate import build_protocol

#: receptor and IRS turnover switched off (endocytosis and recycling stay): receptor pools become closed
NO_TURNOVER = {"kdeg_R": 0, "kdeg_EGFR_act": 0, "k_lys_R": 0, "k_mAb_downreg": 0, "kdeg_IRS": 0, "kdeg_IRS_S": 0}
#: ... and no endocytosis, which degrades the ligand it takes in: ligand mass becomes closed too
NO_UPTAKE = {**NO_TURNOVER, "k_int_R": 0}

RECEPTOR_POOLS = {
    "IGF-IR protomers": "2*R11_tot + H1A_tot + H1B_tot",
    "InsR protomers": "2*RAA_tot + 2*RBB_tot + H1A_tot + H1B_tot",
    "EGFR": "EGFR_tot",
    "IGF-IIR": "IGF2R + IGF2R_IGF2",
    "integrin avb3": "ITG + ITG_IGF1",
    "IRS": "IRS + IRS_P + IRS_S",
}

DOWNSTREAM_POOLS = {
    "ErbB3": "ErbB3 + ErbB3_P",
    "Shc": "Shc + Shc_P",
    "SOS": "SOS + SOS_a",
    "Ras": "Ras + Ras_GTP",
    "Raf": "Raf + Raf_P",
    "MEK": "MEK + MEK_p1 + MEK_P",
    "ERK": "ERK + ERK_p1 + ERK_P",
    "PI3K": "PI3K + PI3K_a",
    "PIP": "PIP2 + PIP3",
    "Akt": "Akt + Akt_p1 + Akt_P",
    "mTORC1": "mTORC1 + mTORC1_a",
    "S6K": "S6K + S6K_P",
    "FOXO": "FOXO_n + FOXO_c",
    "Src": "Src + Src_P",
    "FAK": "FAK + FAK_P",
    "STAT3": "STAT3 + STAT3_P",
    "IGF-IIR": "IGF2R + IGF2R_IGF2",
    "integrin avb3": "ITG + ITG_IGF1",
}

ASSIGNED_TOTALS = ("R11_tot", "RAA_tot", "RBB_tot", "H1A_tot", "H1B_tot", "EGFR_tot")

#: fraction readouts (0..1); IGF1R_total and InsR_total are amounts relative to the default cell
FRACTIONS = [r for r in igfsim.READOUTS if r not in ("IGF1R_total", "InsR_total")]


def _treated_scenario(cell: dict) -> igfsim.Scenario:
    """Every ligand, an antibody pre-treatment washed out, and a TKI given and washed out."""
    return igfsim.parse_scenario(
        {
            "name": "invariants",
            "title": "stimulated, treated, washed out",
            "simulation": {"duration_min": 240, "points": 241},
            "stimulus": {"IGF1": 10, "IGF2": 5, "insulin": 1},
            "cell": cell,
            "arms": [
                {
                    "name": "treated",
                    "treatments": [
                        {"drug": "cixutumumab", "dose_nM": 100, "start_min": -30, "stop_min": 60},
                        {"drug": "linsitinib", "dose_nM": 1000, "start_min": 20, "stop_min": 120},
                    ],
                }
            ],
        },
        "invariants",
    )


def _trajectories(model, scenario) -> dict[str, np.ndarray]:
    arm = scenario.arms[0]
    sel = tuple(model.species) + ASSIGNED_TOTALS
    proto = dataclasses.replace(build_protocol(model, scenario, arm), selections=sel)
    out = get_engine().simulate(model, proto)
    return {s: out[:, i] for i, s in enumerate(sel)}


def _assert_constant(traj, pools, rtol=1e-8):
    for name, expr in pools.items():
        x = eval(expr, {}, traj)  # noqa: S307 - sums of model ids defined above
        assert np.all(np.isfinite(x)), f"{name}: not finite"
        assert x[0] > 0, f"{name}: empty pool"
        drift = np.max(np.abs(x - x[0])) / x[0]
        assert drift <= rtol, f"{name} ({expr}) drifts by {drift:.3g} of its value"


def test_turnover_off_keeps_nominal_receptor_amounts(igf_model):
    """Receptor initial amounts follow expression, not turnover: kdeg_R = 0 must not make them NaN."""

    def scenario(cell):
        return igfsim.parse_scenario(
            {
                "name": "nominal",
                "title": "receptor amounts",
                "cell": cell,
                "simulation": {"duration_min": 1, "points": 2, "preequilibrate": False},
                "readouts": ["IGF1R_total", "InsR_total", "R11", "RAA", "RBB", "H1A", "H1B"],
                "arms": [{"name": "a"}],
            },
            "nominal",
        )

    default = igfsim.run_scenario(scenario({}), igf_model).values[0, 0]
    res = igfsim.run_scenario(scenario({"parameters": dict(NO_TURNOVER)}), igf_model, on_error="record")
    assert res.ok, f"kdeg_R = 0 without pre-equilibration fails: {res.records[0].message}"
    off = res.values[0, 0]
    assert np.all(np.isfinite(default)) and default[0] > 0
    np.testing.assert_allclose(
        off, default, rtol=1e-9, err_msg="readouts " + ", ".join(scenario({}).readouts) + " with kdeg_R = 0"
    )


def test_receptor_pools_conserved_without_turnover(igf_model):
    # receptor amounts given explicitly so this test does not depend on their initial assignments
    cell = {"parameters": dict(NO_TURNOVER), "initial": {"R11": 10, "RAA": 2, "RBB": 3, "H1A": 4, "H1B": 5}}
    traj = _trajectories(igf_model, _treated_scenario(cell))
    _assert_constant(traj, RECEPTOR_POOLS)
    # the stimulus and drugs did act on the receptors in this run, and receptors went through endosomes
    assert np.max(traj["R11_mAb"]) > 0.01 * np.max(traj["R11_tot"])
    assert np.max(traj["R11_IGF1_p"]) > 0
    assert np.max(traj["R11_int"]) > 0.01 * np.max(traj["R11_tot"])


def test_ligand_mass_conserved_without_turnover(igf_model):
    """With no receptor turnover or endocytosis, IGF1 and insulin only move between medium and cell."""
    cell = {"parameters": dict(NO_UPTAKE), "initial": {"R11": 10, "RAA": 2, "RBB": 3, "H1A": 4, "H1B": 5}}
    traj = _trajectories(igf_model, _treated_scenario(cell))
    vol = igf_model.compartments
    for ligand in ("IGF1", "insulin"):
        amount = sum(
            vol[c] * traj[s] for s, c in igf_model.species.items() if ligand in s.split("_")
        )  # free, receptor-, integrin-, IGFBP- or antibody-bound
        assert np.max(np.abs(amount - amount[0])) <= 1e-7 * amount[0], ligand
        assert np.max(traj[f"R11_{ligand}_p"]) > 0  # some of it did bind


def test_downstream_pools_conserved(igf_model):
    traj = _trajectories(igf_model, _treated_scenario({}))
    _assert_constant(traj, DOWNSTREAM_POOLS)
    assert np.ptp(traj["Akt_P"]) > 0  # the pools did move between their states


def _bundled_arms():
    for f in sorted(bundled_scenarios_dir().glob("*.yaml")):
        sc = igfsim.load_scenario(f)
        for arm in sc.arms:
            yield pytest.param(f, arm.name, id=f"{sc.name}/{arm.name}")


@pytest.fixture(scope="module")
def bundled(igf_model):
    return {f: igfsim.load_scenario(f) for f in sorted(bundled_scenarios_dir().glob("*.yaml"))}


@pytest.mark.parametrize(("path", "arm_name"), list(_bundled_arms()))
def test_species_never_negative(igf_model, bundled, path, arm_name):
    sc = bundled[path]
    proto = dataclasses.replace(build_protocol(igf_model, sc, sc.arm(arm_name)), selections=tuple(igf_model.species))
    out = get_engine().simulate(igf_model, proto)
    worst = int(np.argmin(out.min(axis=0)))
    assert out.min() >= -1e-8, f"{proto.selections[worst]} reaches {out.min():.3g}"


@pytest.mark.parametrize("path", sorted(bundled_scenarios_dir().glob("*.yaml")), ids=lambda p: p.stem)
def test_fraction_readouts_stay_in_unit_interval(igf_model, path):
    sc = igfsim.load_scenario(path)
    sc = sc.model_copy(update={"readouts": FRACTIONS})
    res = igfsim.run_scenario(sc, igf_model)
    for r in FRACTIONS:
        v = res.values[:, :, res.readouts.index(r)]
        assert v.min() >= -1e-8 and v.max() <= 1 + 1e-8, f"{r} in [{v.min():.6g}, {v.max():.6g}]"


def _mab_fraction(model, doses) -> np.ndarray:
    sc = igfsim.parse_scenario(
        {
            "name": "mab_dose",
            "title": "antibody dose",
            "simulation": {"duration_min": 120, "points": 25},
            "stimulus": {"IGF1": 10},
            "readouts": ["R11_mAb", "R11_tot"],
            "arms": [
                {"name": f"d{i}", "treatments": [{"drug": "cixutumumab", "dose_nM": d, "start_min": -60}]}
                for i, d in enumerate(doses)
            ],
        },
        "mab_dose",
    )
    res = igfsim.run_scenario(sc, model)
    return res.values[:, :, 0] / res.values[:, :, 1]


@settings(max_examples=15, deadline=None, database=None, derandomize=True)
@given(
    low=st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=300.0)),  # 1 fM .. 300 nM
    factor=st.floats(min_value=1.0, max_value=100.0),
)
def test_antibody_bound_fraction_non_decreasing_in_dose(igf_model, low, factor):
    frac = _mab_fraction(igf_model, [low, low * factor])
    assert np.all((frac >= -1e-12) & (frac <= 1 + 1e-12))
    assert np.all(frac[1] >= frac[0] - 1e-9 - 1e-7 * frac[0]), (low, low * factor, frac[0], frac[1])


def test_antibody_bound_fraction_rises_with_dose(igf_model):
    frac = _mab_fraction(igf_model, [0.0, 0.01, 1.0, 100.0])[:, -1]
    assert frac[0] == 0 and np.all(np.diff(frac) > 0), frac
