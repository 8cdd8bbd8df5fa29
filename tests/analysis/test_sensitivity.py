"""Morris and Sobol' on analytic functions; scenario metric evaluators and expectation robustness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import igfsim
from igfsim.analysis.sensitivity import (
    apply_values,
    expectation_robustness,
    lognormal_ensemble,
    morris,
    scenario_metric_evaluator,
    sobol,
)
from igfsim.resources import bundled_scenarios_dir

LINEAR = {"names": ["x1", "x2", "x3"], "bounds": [[0, 1]] * 3}


def linear(x):
    return 3.0 * x[:, 0] + x[:, 1]  # x3 is inert


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


ISHIGAMI = {"names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}


def test_morris_ranks_a_linear_function_and_is_reproducible():
    t = morris(linear, LINEAR, n_trajectories=10, seed=42)
    assert list(t.index) == ["x1", "x2", "x3"]
    assert t.loc["x1", "mu_star"] == pytest.approx(3.0) and t.loc["x2", "mu_star"] == pytest.approx(1.0)
    assert t.loc["x3", "mu_star"] == 0.0 and t["sigma"].max() < 1e-9  # linear: no interactions
    assert t.attrs["n_evaluations"] == 40
    pd.testing.assert_frame_equal(t, morris(linear, LINEAR, n_trajectories=10, seed=42))


def test_morris_log_uniform_and_multiple_outputs():
    problem = {"names": ["k", "c"], "bounds": [[1e-2, 1e2], [0, 1]], "dists": ["logunif", "unif"]}
    seen = []

    def f(x):
        seen.append(x.copy())
        return np.column_stack([np.log10(x[:, 0]), x[:, 1]])

    t = morris(f, problem, n_trajectories=6, seed=1, outputs=["logk", "c"])
    assert seen[0][:, 0].min() >= 1e-2 - 1e-12 and seen[0][:, 0].max() <= 1e2 + 1e-9
    # SALib's effects are per full input range: 4 decades of k x 1 per decade
    assert t.loc[("logk", "k"), "mu_star"] == pytest.approx(4.0)
    assert t.loc[("logk", "c"), "mu_star"] == 0.0 and t.loc[("c", "k"), "mu_star"] == 0.0
    with pytest.raises(ValueError, match="0 < low"):
        morris(f, {"names": ["k"], "bounds": [[0, 1]], "dists": ["logunif"]}, n_trajectories=2, seed=0)


def test_sobol_ishigami_indices_and_reproducibility():
    t = sobol(ishigami, ISHIGAMI, n_base=1024, seed=3)
    # analytic: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    assert t.loc["x1", "S1"] == pytest.approx(0.314, abs=0.05)
    assert t.loc["x2", "S1"] == pytest.approx(0.442, abs=0.05)
    assert abs(t.loc["x3", "S1"]) < 0.05
    assert list(t["ST"].sort_values(ascending=False).index) == ["x1", "x2", "x3"]
    assert t.loc["x3", "ST"] == pytest.approx(0.244, abs=0.05)
    assert (t["ST_conf"] > 0).all()
    pd.testing.assert_frame_equal(t, sobol(ishigami, ISHIGAMI, n_base=1024, seed=3))
    t2 = sobol(linear, LINEAR, n_base=256, seed=0, second_order=True)
    assert t2.loc["x1", "ST"] > t2.loc["x2", "ST"] > 0.05 > t2.loc["x3", "ST"]
    assert t2.attrs["S2"].shape == (3, 3)
    with pytest.raises(ValueError, match="power of 2"):
        sobol(linear, LINEAR, n_base=100, seed=0)
    with pytest.raises(ValueError, match="non-finite"):
        sobol(lambda x: np.full(len(x), np.nan), LINEAR, n_base=8, seed=0)


def test_sensitivity_figures():
    import matplotlib.pyplot as plt

    from igfsim.report.sweep_plots import plot_morris, plot_sobol

    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_morris(morris(linear, LINEAR, n_trajectories=4, seed=0), ax=a1) is a1
    assert plot_sobol(sobol(linear, LINEAR, n_base=64, seed=0), ax=a2) is a2
    plt.close(fig)


# ---------------------------------------------------------------------------- scenario adapters


@pytest.fixture(scope="module")
def c01_short(igf_model) -> igfsim.Scenario:
    """c01 cut to 60 min and two arms (control, cixutumumab) with the expectations between them."""
    sc = igfsim.load_scenario(bundled_scenarios_dir() / "c01_mab_vs_dual_tki.yaml")
    d = sc.model_dump(exclude_unset=True)
    d["simulation"] = {"duration_min": 60, "points": 61}
    d["arms"] = d["arms"][:2]
    d["expect"] = [e for e in d["expect"] if {e.get("arm"), e.get("vs")} <= {"control", "cixutumumab"}]
    # one claim just below its nominal value (whatever the model), so that the ensemble can split on it
    nominal = igfsim.run_scenario(igfsim.parse_scenario(d), igf_model)
    ratio = np.interp(15, nominal.times, nominal.get("cixutumumab", "pAkt")) / np.interp(
        15, nominal.times, nominal.get("control", "pAkt")
    )
    near = {"readout": "pAkt", "metric": "at_15", "arm": "cixutumumab", "vs": "control", "op": ">="}
    d["expect"].append({**near, "value": ratio - 0.002})
    return igfsim.parse_scenario(d)


def test_apply_values(c01_short, igf_model):
    v = apply_values(
        c01_short,
        ["parameter:kp_R", "expression:IRS", "dose:cixutumumab/IMC-A12", "stimulus:IGF2", "scale:Kd_mAb_IGF1R"],
        [2.0, 3.0, 5.0, 1.0, 10.0],
        model=igf_model,
    )
    assert v.cell.parameters["kp_R"] == 2.0 and v.cell.expression["IRS"] == 3.0
    assert v.cell.context == "InsR-A-high" and v.stimulus == {"IGF2": 1.0}
    assert v.arm("cixutumumab").treatments[0].dose_nM == 5.0
    kd = igf_model.parameters["Kd_mAb_IGF1R"]
    assert v.arm("control").cell.parameters["Kd_mAb_IGF1R"] == pytest.approx(10 * kd)
    assert c01_short.cell.parameters == {}  # the original is untouched
    with pytest.raises(ValueError, match="bad target"):
        apply_values(c01_short, ["kp_R"], [1.0])
    with pytest.raises(ValueError, match="no .*treatment"):
        apply_values(c01_short, ["dose:control/cixutumumab"], [1.0])
    with pytest.raises(ValueError, match="no arm has a linsitinib treatment"):
        apply_values(c01_short, ["dose:*/linsitinib"], [1.0])
    assert apply_values(c01_short, ["dose:*/IMC-A12"], [7.0]).arm("cixutumumab").treatments[0].dose_nM == 7.0


def _pigf1r_vs_control(scenario, model=None, *, targets=("dose:cixutumumab/cixutumumab", "scale:kp_R"), **kw):
    """pIGF1R at 15 min under cixutumumab relative to control, over ``targets``."""
    return scenario_metric_evaluator(
        scenario,
        arm="cixutumumab",
        vs="control",
        readout="pIGF1R",
        metric="at_15",
        targets=list(targets),
        model=model,
        **kw,
    )


def test_scenario_metric_evaluator(c01_short, igf_model):
    ev = _pigf1r_vs_control(c01_short, igf_model)
    x = np.array([[0.3, 1.0], [3.0, 1.0], [100.0, 1.0], [100.0, 2.0]])
    y = ev(x)
    assert y.shape == (4,) and np.all((y >= 0) & (y <= 1.05))
    assert y[0] > y[1] > y[2]  # more antibody, less pIGF1R relative to control
    np.testing.assert_array_equal(y, ev(x))
    serial = _pigf1r_vs_control(c01_short, igf_model, executor="serial")
    np.testing.assert_array_equal(y[:2], serial(x[:2]))
    with pytest.raises(ValueError, match="executor"):
        scenario_metric_evaluator(
            c01_short,
            arm="control",
            readout="pAkt",
            metric="auc",
            targets=["scale:kp_R"],
            model=igf_model,
            executor="threads",
        )(np.ones((1, 1)))
    with pytest.raises(ValueError, match="columns"):
        ev(np.ones((2, 3)))
    with pytest.raises(igfsim.ScenarioError):
        scenario_metric_evaluator(
            c01_short,
            arm="control",
            readout="pAkt",
            metric="auc",
            targets=["parameter:no_such_parameter"],
            model=igf_model,
        )
    # plugged into Morris: 2 trajectories x 3 points
    t = morris(
        ev,
        {"names": ["dose", "kp"], "bounds": [[1, 1000], [0.5, 2]], "dists": ["logunif", "unif"]},
        n_trajectories=2,
        seed=0,
    )
    assert t.loc["dose", "mu_star"] > 0 and np.isfinite(t.values).all()


def test_scenario_metric_evaluator_runs_through_the_sweep(c01_short, igf_model):
    from concurrent.futures import ThreadPoolExecutor

    def make(targets, **kw):
        return _pigf1r_vs_control(c01_short, targets=targets, **kw)

    x = np.array([[1.0, 0.6], [30.0, 0.6], [30.0, -1.0]])  # the negative rate makes run 2 diverge
    serial = make(["dose:cixutumumab/cixutumumab", "parameter:k_dp_fast"], model=igf_model)
    y = serial(x)
    assert np.isfinite(y[:2]).all() and np.isnan(y[2])  # a failed run is recorded, and gives NaN
    with ThreadPoolExecutor(2) as pool:  # any Executor: the sweep ships the model's SBML with the tasks
        pooled = make(["dose:cixutumumab/cixutumumab", "parameter:k_dp_fast"], model=igf_model, executor=pool)
        np.testing.assert_array_equal(pooled(x), y)
    wildcard = make(["dose:*/cixutumumab", "parameter:k_dp_fast"], model=igf_model, batch_size=1)
    np.testing.assert_array_equal(wildcard(x), y)  # only the cixutumumab arm has the drug
    assert serial(np.zeros((0, 2))).shape == (0,)
    nominal = make([], model=igf_model)(np.zeros((3, 0)))  # no targets: one run stands for every row
    assert nominal.shape == (3,) and np.isfinite(nominal).all() and len(set(nominal)) == 1
    with pytest.raises(igfsim.ScenarioError, match="no arm named 'cix'"):
        make(["dose:cix/cixutumumab"], model=igf_model)


def test_lognormal_ensemble(igf_model):
    m1 = lognormal_ensemble(igf_model, ["kp_R", "kdp_R"], 0.3, 4, seed=5)
    assert m1 == lognormal_ensemble(igf_model, ["kp_R", "kdp_R"], 0.3, 4, seed=5)
    assert m1 != lognormal_ensemble(igf_model, ["kp_R", "kdp_R"], 0.3, 4, seed=6)
    assert len(m1) == 4 and all(set(m) == {"kp_R", "kdp_R"} and min(m.values()) > 0 for m in m1)
    vals = lognormal_ensemble(igf_model, ["kp_R"], {"kp_R": 0.0}, 2, seed=0, kind="value")
    assert vals == [{"kp_R": igf_model.parameters["kp_R"]}] * 2
    big = lognormal_ensemble(None, ["k"], 0.5, 4000, seed=1)
    assert np.std(np.log([m["k"] for m in big])) == pytest.approx(0.5, rel=0.05)
    with pytest.raises(ValueError, match="did you mean"):
        lognormal_ensemble(igf_model, ["kp_RR"], 0.3, 2, seed=0)


def test_expectation_robustness(c01_short, igf_model):
    members = lognormal_ensemble(igf_model, ["kp_R", "kdp_R", "k_Akt_act"], 0.5, 4, seed=11)
    r = expectation_robustness(c01_short, members, model=igf_model)
    tab = r.table
    assert len(tab) == len(c01_short.expect) and (tab["n_evaluated"] == 4).all()
    assert tab["percent_holds"].between(0, 100).all() and not r.failed
    assert (tab["nominal"] == "pass").all()
    assert tab.loc[0, "percent_holds"] == 100.0  # the antibody blocks pIGF1R whatever the rates
    assert 0 < tab.loc[3, "percent_holds"] < 100  # the near-threshold claim splits the ensemble
    assert tab.loc[3, "observed_p05"] <= tab.loc[3, "observed_median"] <= tab.loc[3, "observed_p95"]
    assert r.holds.shape == (4, len(c01_short.expect))
    r2 = expectation_robustness(c01_short, members, model=igf_model)
    pd.testing.assert_frame_equal(tab, r2.table)
    same = expectation_robustness(c01_short, [{"kp_R": 1.0}], model=igf_model)
    assert (same.table["percent_holds"] == 100.0).all()  # multiplier 1 = the nominal scenario


def test_expectation_robustness_mixed_members_and_failures(c01_short, igf_model):
    members = [{"kp_R": 1.0}, {"parameter:k_dp_fast": -1.0}, {}, {"kp_R": 1.0, "expression:IRS": 1.0}]
    r = expectation_robustness(c01_short, members, model=igf_model)
    assert r.failed == (1,)  # the diverging member; the others are the nominal scenario
    assert (r.table["n_evaluated"] == 3).all() and (r.table["percent_holds"] == 100.0).all()
    assert r.holds.loc[1].isna().all() and r.holds.drop(index=1).eq(1.0).all().all()
    np.testing.assert_array_equal(r.observed.loc[0].values, r.observed.loc[2].values)
    np.testing.assert_array_equal(r.observed.loc[0].values, r.observed.loc[3].values)
    with pytest.raises(ValueError, match="executor"):
        expectation_robustness(c01_short, members, model=igf_model, executor="threads")


def test_rows_a_sweep_cannot_run_give_nan_and_the_others_run(c01_short, igf_model):
    """A negative dose or scale and a NaN input are per-row failures (NaN), as before 0.2, not an error
    for the whole evaluation; the runnable rows keep their values."""
    ev = _pigf1r_vs_control(c01_short, igf_model)
    good = np.array([[3.0, 1.0], [100.0, 1.0]])
    mixed = np.array([[3.0, 1.0], [-1.0, 1.0], [100.0, np.nan], [100.0, 1.0], [3.0, -2.0]])
    y = ev(mixed)
    assert np.isnan(y[[1, 2, 4]]).all()
    np.testing.assert_array_equal(y[[0, 3]], ev(good))
    assert np.isnan(ev(mixed[[1, 2]])).all()  # no runnable row at all: no sweep, all NaN
