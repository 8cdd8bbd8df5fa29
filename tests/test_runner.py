"""run_scenario and its labelled result (xarray, pandas, failure records)."""

from __future__ import annotations

import numpy as np
import pytest

import igfsim


@pytest.fixture(scope="module")
def run(igf_model):
    sc = igfsim.parse_scenario(
        {
            "name": "minimal",
            "title": "t",
            "simulation": {"duration_min": 60, "points": 61},
            "stimulus": {"IGF1": 10},
            "readouts": ["pIGF1R", "pAkt", "IGF1", "R11_tot"],
            "arms": [
                {"name": "control"},
                {"name": "cixutumumab", "treatments": [{"drug": "cixutumumab", "dose_nM": 100}]},
            ],
        },
        "minimal",
    )
    return sc, igfsim.run_scenario(sc, igf_model)


def test_result_shape_and_labels(run):
    sc, res = run
    assert res.arms == ("control", "cixutumumab")
    assert res.readouts == ("pIGF1R", "pAkt", "IGF1", "R11_tot")
    assert res.values.shape == (2, 61, 4)
    np.testing.assert_allclose(res.times, np.linspace(0, 60, 61))
    assert res.ok and [r.status for r in res.records] == ["ok", "ok"]
    assert res.engine == "roadrunner" and res.attrs["model_sha256"]
    assert res.units["IGF1"] == "nM"


def test_get_is_the_right_slice(run):
    _, res = run
    np.testing.assert_array_equal(res.get("cixutumumab", "pAkt"), res.values[1, :, 1])


def test_stimulus_and_drug_act(run):
    _, res = run
    assert res.get("control", "IGF1")[0] == pytest.approx(10.0, rel=1e-6)  # value just after the stimulus
    # nothing bound yet at t = 0: only the ligand-free share that basal Src phosphorylates (k_R_Src)
    assert res.get("control", "pIGF1R")[0] < 1e-3 < res.get("control", "pIGF1R")[15]
    assert res.get("control", "pIGF1R")[15] > res.get("cixutumumab", "pIGF1R")[15]


def test_to_xarray(run):
    _, res = run
    da = res.to_xarray()
    assert da.dims == ("arm", "time", "readout")
    assert list(da.coords["arm"].values) == list(res.arms)
    assert list(da.coords["status"].values) == ["ok", "ok"]
    np.testing.assert_array_equal(da.sel(arm="cixutumumab", readout="pAkt").values, res.get("cixutumumab", "pAkt"))
    assert da.attrs["engine"] == "roadrunner" and da.attrs["time_units"] == "min"
    # self-describing: units and long names per readout, time in minutes; the array is not named after the scenario
    assert da.name == "value" and da.coords["time"].attrs == {"long_name": "time", "units": "min"}
    assert da.sel(readout="pAkt").coords["units"].item() == "fraction of pool"
    assert da.sel(readout="IGF1").coords["units"].item() == "nM"
    assert "Akt phosphorylated" in da.sel(readout="pAkt").coords["long_name"].item()


def test_to_dataset_carries_cf_units_and_long_names_through_netcdf(run, tmp_path):
    import matplotlib
    import xarray as xr

    matplotlib.use("Agg")
    _, res = run
    ds = res.to_dataset()
    assert set(ds.data_vars) == set(res.readouts)
    assert ds["pAkt"].attrs["units"] == "fraction of pool" and ds["IGF1"].attrs["units"] == "nM"
    ds.to_netcdf(tmp_path / "run.nc")
    with xr.open_dataset(tmp_path / "run.nc") as back:
        assert back["pAkt"].attrs == ds["pAkt"].attrs and back.time.attrs["units"] == "min"
        np.testing.assert_array_equal(back["pAkt"].sel(arm="control").values, res.get("control", "pAkt"))
    line = ds["pAkt"].sel(arm="control").plot()[0]
    assert "[fraction of pool]" in " ".join(line.axes.get_ylabel().split()) and line.axes.get_xlabel() == "time [min]"


def test_to_dataframe(run):
    _, res = run
    df = res.to_dataframe()
    assert list(df.columns) == ["arm", "time", *res.readouts]
    assert len(df) == 2 * 61
    sub = df[df["arm"] == "cixutumumab"]
    np.testing.assert_array_equal(sub["time"].to_numpy(), res.times)
    np.testing.assert_array_equal(sub["pAkt"].to_numpy(), res.get("cixutumumab", "pAkt"))


def test_run_from_path_matches_run_from_object(igf_model, tmp_path, write_yaml):
    path = write_yaml(
        tmp_path,
        "name: p\ntitle: t\nsimulation: {duration_min: 10, points: 11}\n"
        "stimulus: {IGF1: 1}\nreadouts: [pAkt]\narms: [{name: a}]\n",
    )
    a = igfsim.run_scenario(path, igf_model)
    b = igfsim.run_scenario(igfsim.load_scenario(path), igf_model)
    np.testing.assert_array_equal(a.values, b.values)


def test_failing_arm_is_recorded_or_raised(igf_model):
    sc = igfsim.parse_scenario(
        {
            "name": "mixed",
            "title": "t",
            "simulation": {"duration_min": 10, "points": 11},
            "readouts": ["pAkt"],
            "arms": [{"name": "ok"}, {"name": "broken", "cell": {"parameters": {"k_dp_fast": -1}}}],
        },
        "mixed",
    )
    res = igfsim.run_scenario(sc, igf_model, on_error="record")
    assert not res.ok
    assert [r.status for r in res.records] == ["ok", "failed"]
    assert "mixed/broken" in res.records[1].message
    assert np.all(np.isfinite(res.get("ok", "pAkt"))) and np.all(np.isnan(res.get("broken", "pAkt")))
    with pytest.raises(igfsim.SimulationError, match="mixed/broken"):
        igfsim.run_scenario(sc, igf_model)


def test_arm_cell_and_stimulus_override_the_scenario(igf_model):
    sc = igfsim.parse_scenario(
        {
            "name": "merge",
            "title": "t",
            "simulation": {"duration_min": 5, "points": 6, "preequilibrate": False},
            "stimulus": {"IGF1": 10},
            "cell": {"context": "InsR-A-high", "expression": {"IGF1R": 2}},
            "readouts": ["IGF1R_total", "InsR_total", "IGF1", "IGF2"],
            "arms": [
                {"name": "base"},
                {"name": "ko", "cell": {"context": "InsR-KO"}, "stimulus": {"IGF2": 3}},
                {"name": "expr", "cell": {"expression": {"InsR_A": 0.5}}},
            ],
        },
        "merge",
    )
    res = igfsim.run_scenario(sc, igf_model)
    at0 = {a: dict(zip(res.readouts, res.values[i, 0], strict=True)) for i, a in enumerate(res.arms)}
    # the context and expression multiply nominal amounts; an arm's context replaces the scenario's
    assert at0["ko"]["InsR_total"] == 0 and at0["base"]["InsR_total"] > 0
    assert at0["ko"]["IGF1R_total"] == pytest.approx(at0["base"]["IGF1R_total"], rel=1e-9)
    assert at0["expr"]["IGF1R_total"] == pytest.approx(at0["base"]["IGF1R_total"], rel=1e-9)
    assert at0["base"]["IGF1R_total"] == pytest.approx(2.0, rel=1e-9)  # expression 2 x nominal
    p = igf_model.parameters
    ir_a = igfsim.CONTEXTS["InsR-A-high"].expression["InsR_A"] * p["IRA_tot0"]
    ir_b = igfsim.CONTEXTS["InsR-A-high"].expression["InsR_B"] * p["IRB_tot0"]
    nominal = p["IRA_tot0"] + p["IRB_tot0"]
    assert at0["base"]["InsR_total"] == pytest.approx((ir_a + ir_b) / nominal, rel=1e-9)
    assert at0["expr"]["InsR_total"] == pytest.approx((0.5 * ir_a + ir_b) / nominal, rel=1e-9)
    # an arm's stimulus replaces the scenario's
    assert at0["ko"]["IGF2"] == pytest.approx(3) and at0["ko"]["IGF1"] == 0
    assert at0["base"]["IGF1"] == pytest.approx(10) and at0["base"]["IGF2"] == 0


def test_cell_parameters_win_over_drug_potency(minimal_scenario_dict):
    """A scenario can try another kinase Ki for a drug: cell.parameters override the catalogue."""
    base = {
        **minimal_scenario_dict,
        "stimulus": {"IGF1": 10},
        "readouts": ["pIGF1R"],
        "expect": [],
        "arms": [{"name": "control"}, {"name": "linsitinib", "treatments": [{"drug": "linsitinib", "dose_nM": 1000}]}],
    }
    default = igfsim.run_scenario(igfsim.parse_scenario(base, "default"))
    potent = igfsim.run_scenario(
        igfsim.parse_scenario({**base, "cell": {"parameters": {"Ki_dual_IGF1R": 0.5}}}, "potent")
    )
    assert potent.get("linsitinib", "pIGF1R")[15] < 0.5 * default.get("linsitinib", "pIGF1R")[15]


def test_empty_pool_reads_zero_not_nan(minimal_scenario_dict):
    sc = igfsim.parse_scenario(
        {
            **minimal_scenario_dict,
            "readouts": ["pIRS1", "pSTAT3", "pAkt"],
            "expect": [],
            "cell": {"expression": {"IRS": 0, "STAT3": 0}},
        },
        "empty",
    )
    res = igfsim.run_scenario(sc)
    assert np.all(res.get("control", "pIRS1") == 0) and np.all(res.get("control", "pSTAT3") == 0)
    assert np.all(np.isfinite(res.values))


def test_conflicting_antibody_options_in_one_arm_are_rejected(igf_model, minimal_scenario_dict):
    sc = igfsim.parse_scenario(
        {
            **minimal_scenario_dict,
            "expect": [],
            "arms": [
                {"name": "control"},
                {
                    "name": "two",
                    "treatments": [
                        {"drug": "cixutumumab", "dose_nM": 10, "binds_hybrids": False},
                        {"drug": "cixutumumab", "dose_nM": 10, "start_min": 30},
                    ],
                },
            ],
        },
        "conflict",
    )
    issues = igfsim.check_scenario(sc, igf_model)
    assert any("arms[1].treatments[1].binds_hybrids" in i.where for i in issues)


def test_write_csv_matches_pandas_byte_for_byte(tmp_path):
    """``ScenarioResult.write_csv`` (what ``igfsim run`` writes) gives pandas' ``to_csv`` bytes without pandas."""
    from igfsim.result.scenario_result import ArmRecord, RunStatus, ScenarioResult

    arms = ("control", 'odd, "name"')
    values = np.array(
        [
            [[0.0, -0.0, 1.23456789012], [np.nan, 1e-300, -2.5e12]],
            [[np.inf, 3.0, 7.0], [1 / 3, -np.inf, 123456789.0]],
        ]
    )
    res = ScenarioResult(
        scenario="s",
        engine="roadrunner",
        arms=arms,
        times=np.array([0.0, 0.5]),
        readouts=("pAkt", "pERK", "x,y"),
        values=values,
        records=tuple(ArmRecord(a, RunStatus.OK, "", 0.0) for a in arms),
    )
    ours, theirs = tmp_path / "ours.csv", tmp_path / "pandas.csv"
    res.write_csv(ours)
    res.to_dataframe().to_csv(theirs, index=False, float_format="%.8g")
    assert ours.read_bytes() == theirs.read_bytes()
