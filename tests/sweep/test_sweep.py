"""Parameter sweeps: designs, labelled results, failures, executors (pool, Dask), streaming and resume, YAML, CLI."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

import igfsim
import igfsim.sweep as sweep_mod
import igfsim.sweep.execute as sweep_execute
from igfsim.cli import main
from igfsim.errors import ScenarioError
from igfsim.sweep import Axis, Sweep, SweepResult, apply_row, check_sweep, design_table, load_sweep, run_sweep
from igfsim.sweep.store import SweepStore, SweepStoreError

#: short and small: 60 min, 13 points, 2 arms, 2 readouts
SCENARIO = {
    "name": "sweep_small",
    "title": "IGF1-stimulated default cells with and without cixutumumab",
    "simulation": {"duration_min": 60, "points": 13},
    "stimulus": {"IGF1": 10},
    "readouts": ["pIGF1R", "pAkt"],
    "arms": [
        {"name": "control"},
        {"name": "cix", "treatments": [{"drug": "cixutumumab", "dose_nM": 100}]},
    ],
}
DOSE = Axis(name="dose", target="dose:cix/cixutumumab", range=(0.01, 1000), n=6, scale="log")


def small(**kw) -> Sweep:
    return Sweep(scenario=copy.deepcopy(SCENARIO), **kw)


@pytest.fixture(scope="module")
def failing_sweep() -> Sweep:
    """4 runs; a large negative dephosphorylation rate makes pre-equilibration fail at once in runs 1
    and 3 (at -1 the failure came after minutes and its CVODE path differed between threads)."""
    return small(
        axes=[
            Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 100]),
            Axis(name="kdp", target="parameter:k_dp_fast", values=[0.5, -100]),
        ],
        keep_trajectories=True,
    )


@pytest.fixture(scope="module")
def failing_serial(failing_sweep) -> SweepResult:
    return run_sweep(failing_sweep, executor="serial", progress=False)


# ------------------------------------------------------------------------------------- grids


def test_1d_log_grid_coords_and_monotone_dose_response():
    res = run_sweep(small(axes=[DOSE]), executor="serial", progress=False)
    ds = res.dataset
    assert ds["summary"].dims == ("run", "arm", "readout", "metric")
    assert list(ds["run"].values) == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(ds["dose"].values, [0.01, 0.1, 1, 10, 100, 1000], rtol=1e-12)
    assert list(ds["metric"].values) == ["auc", "final", "peak"] and list(ds["arm"].values) == ["control", "cix"]
    assert res.ok and set(ds["status"].values) == {"ok"}
    p = ds["summary"].sel(arm="cix", readout="pIGF1R", metric="auc").values
    assert np.all(np.diff(p) < 0) and p[-1] < 0.05 * p[0]  # more antibody, less IGF-IR phosphorylation
    ctrl = ds["summary"].sel(arm="control", readout="pIGF1R", metric="auc").values
    np.testing.assert_allclose(ctrl, ctrl[0], rtol=1e-9)  # the dose target touches only the cix arm
    assert ds.attrs["design"] == "grid" and ds.attrs["scenario"] == "sweep_small"


def test_2d_grid_and_unstacked_view_and_dataframe():
    insr = Axis(name="insr_a", target="expression:InsR_A", values=[0.5, 4.0])
    dose = Axis(name="dose", target="dose:*/cixutumumab", range=(0.0, 100.0), n=3)  # linear: 0, 50, 100
    res = run_sweep(small(axes=[dose, insr]), executor="serial", progress=False)
    ds = res.dataset
    assert ds.sizes["run"] == 6
    assert list(ds["dose"].values) == [0, 0, 50, 50, 100, 100] and list(ds["insr_a"].values) == [0.5, 4] * 3
    g = res.grid()
    assert g.dims == ("dose", "insr_a", "arm", "readout", "metric")
    assert (
        g.sel(dose=50.0, insr_a=4.0, arm="cix", readout="pAkt", metric="auc").item()
        == ds["summary"].isel(run=3).sel(arm="cix", readout="pAkt", metric="auc").item()
    )
    akt = g.sel(arm="cix", readout="pAkt", metric="auc")
    assert np.all(akt.diff("dose") < 0)  # the antibody lowers pAkt
    # InsR-A rich cells keep more pAkt under the antibody (relative to their control)
    rel = akt / g.sel(arm="control", readout="pAkt", metric="auc")
    assert rel.sel(dose=100.0, insr_a=4.0) > rel.sel(dose=100.0, insr_a=0.5) + 0.1
    assert res.grid("status").dims == ("dose", "insr_a")
    df = res.to_dataframe()
    assert list(df.columns) == ["run", "dose", "insr_a", "arm", "readout", "metric", "value", "status"]
    assert len(df) == 6 * 2 * 2 * 3


def test_axis_values_lin_and_log():
    assert list(Axis(name="a", target="stimulus:IGF1", range=(0, 10), n=3).grid_values()) == [0, 5, 10]
    np.testing.assert_allclose(
        Axis(name="a", target="stimulus:IGF1", range=(0.1, 10), n=3, scale="log").grid_values(), [0.1, 1, 10]
    )
    with pytest.raises(ValueError, match="log"):
        Axis(name="a", target="stimulus:IGF1", range=(0, 10), n=3, scale="log")
    with pytest.raises(ValueError, match="exactly one"):
        Axis(name="a", target="stimulus:IGF1", values=[1], range=(0, 1))
    with pytest.raises(ValueError, match="bad target"):
        Axis(name="a", target="dose:cixutumumab")
    with pytest.raises(ValueError, match="reserved"):
        Axis(name="arm", target="stimulus:IGF1", values=[1])


def test_apply_row_reaches_arm_overrides_and_keeps_arm_contexts():
    sc = dict(copy.deepcopy(SCENARIO), cell={"context": "InsR-A-high"})
    sc["arms"] = [
        {"name": "a", "stimulus": {"IGF2": 1}, "cell": {"parameters": {"k_dp_fast": 0.4}}},
        {"name": "b", "cell": {"context": "default"}},
        {"name": "c", "stimulus": {"IGF1": 1, "IGF2": 1}},
    ]
    base = Sweep(scenario=sc).scenario
    v = apply_row(
        base, ["stimulus:IGF1", "parameter:k_dp_fast", "initial:IGF2"], [3, 0.7, 0.2], {"expression": {"IGF1R": 2.0}}
    )
    assert v.stimulus["IGF1"] == 3  # arm b inherits the scenario's medium
    assert v.arms[0].stimulus == {"IGF2": 1}  # an arm's own medium without IGF1 keeps it absent
    assert v.arms[2].stimulus == {"IGF1": 3, "IGF2": 1}  # ... one that lists it gets the swept value
    assert v.arms[0].cell.parameters["k_dp_fast"] == 0.7 and v.cell.parameters["k_dp_fast"] == 0.7
    assert v.cell.expression["IGF1R"] == 2.0 and v.arms[1].cell.expression["IGF1R"] == 2.0
    assert v.cell.initial["IGF2"] == 0.2
    assert "context" not in v.arms[0].cell.model_fields_set  # still inherits InsR-A-high
    assert v.arms[1].cell.context == "default"
    assert v.arms[2].cell is None  # no cell of its own: it inherits the scenario's (swept) cell


def test_apply_row_dose_wildcard_and_scale(igf_model):
    sc = dict(copy.deepcopy(SCENARIO), cell={"parameters": {"kp_R": 2.0}})
    sc["arms"] = [
        {"name": "cix", "treatments": [{"drug": "cixutumumab", "dose_nM": 100}]},
        {"name": "cix_b", "treatments": [{"drug": "IMC-A12", "dose_nM": 5}], "cell": {"parameters": {"kp_R": 3.0}}},
        {"name": "control"},
    ]
    base = Sweep(scenario=sc).scenario
    v = apply_row(base, ["dose:*/cixutumumab", "scale:kp_R"], [7.0, 10.0], model=igf_model)
    assert [a.treatments[0].dose_nM for a in v.arms[:2]] == [7.0, 7.0]  # every arm, aliases included
    # scale: x10 on each arm's effective value (scenario cell 2.0, arm cix_b's own 3.0)
    assert [a.cell.parameters["kp_R"] for a in v.arms] == [20.0, 30.0, 20.0]
    with pytest.raises(ValueError, match="need the model"):
        apply_row(base, ["scale:kp_R"], [2.0])
    with pytest.raises(ValueError, match="arm 'control' has no cixutumumab treatment"):
        apply_row(base, ["dose:control/cixutumumab"], [1.0])


def test_stimulus_axis_leaves_an_arm_own_medium_alone():
    """An arm that gives its own stimulus without the swept species does not get it (here: IGF2 only)."""
    sc = copy.deepcopy(SCENARIO)
    sc["arms"] = [{"name": "igf1"}, {"name": "igf2_only", "stimulus": {"IGF2": 1}}]
    res = run_sweep(
        Sweep(scenario=sc, axes=[Axis(name="igf1", target="stimulus:IGF1", values=[0.1, 10])], metrics=["auc"]),
        executor="serial",
        progress=False,
    )
    auc = res.dataset["summary"].sel(readout="pIGF1R", metric="auc")
    assert auc.sel(arm="igf1").values[1] > 2 * auc.sel(arm="igf1").values[0]
    assert auc.sel(arm="igf2_only").values[1] == auc.sel(arm="igf2_only").values[0]


def test_scale_axis_runs_and_multiplies_the_effective_value(igf_model):
    scaled = run_sweep(
        small(axes=[Axis(name="kp", target="scale:k_dp_fast", values=[1.0, 2.0])], metrics=["auc"]),
        executor="serial",
        progress=False,
    )
    absolute = run_sweep(
        small(
            axes=[Axis(name="kp", target="parameter:k_dp_fast", values=[igf_model.parameters["k_dp_fast"] * 2])],
            metrics=["auc"],
        ),
        executor="serial",
        progress=False,
    )
    from igfsim.result.metrics import metric

    plain = igfsim.run_scenario(small().scenario, igf_model)
    s = scaled.dataset["summary"].values  # (run, arm, readout, metric)
    for i, arm in enumerate(plain.arms):  # x1 is the scenario itself
        assert s[0, i, :, 0].tolist() == [metric(plain.times, plain.get(arm, r), "auc") for r in plain.readouts]
    np.testing.assert_array_equal(s[1], absolute.dataset["summary"].values[0])  # x2 of the model value
    assert not np.allclose(s[0], s[1])
    with pytest.raises(ValueError, match="scale values must be >= 0"):
        run_sweep(small(axes=[Axis(name="kp", target="scale:k_dp_fast", values=[-1.0])]), executor="serial")


# ----------------------------------------------------------------------------- random designs


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_random_design_seeded(design):
    axes = [
        Axis(name="dose", target="dose:cix/cixutumumab", range=(0.1, 1000), scale="log"),
        Axis(name="igf1", target="stimulus:IGF1", range=(1, 10)),
    ]
    a, b, c = (design_table(small(axes=axes, design=design, n=6, seed=s))[1] for s in (7, 7, 8))
    assert a.shape == (6, 2) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert a[:, 0].min() >= 0.1 and a[:, 0].max() <= 1000 and a[:, 1].min() >= 1 and a[:, 1].max() <= 10
    if design == "lhs":  # one sample per stratum of each axis
        assert sorted(np.floor((np.log10(a[:, 0]) + 1) / 4 * 6).astype(int)) == list(range(6))
    r1 = run_sweep(small(axes=axes, design=design, n=3, seed=7, metrics=["auc"]), executor="serial", progress=False)
    r2 = run_sweep(small(axes=axes, design=design, n=3, seed=7, metrics=["auc"]), executor="serial", progress=False)
    assert r1.dataset.identical(r2.dataset)
    with pytest.raises(ValueError, match="grid"):
        r1.grid()


def test_lognormal_distribution():
    ax = Axis(name="kd", target="parameter:k_dp_fast", distribution={"lognormal": {"median": 0.5, "sigma": 0.3}})
    _, rows = design_table(small(axes=[ax], design="lhs", n=400, seed=1))
    logs = np.log(rows[:, 0])
    assert abs(np.median(logs) - np.log(0.5)) < 0.02 and abs(logs.std() - 0.3) < 0.02
    with pytest.raises(ValueError, match="lognormal"):
        Axis(name="kd", target="parameter:k_dp_fast", distribution={"lognormal": {"median": -1, "sigma": 0.3}})


def test_panel_crossed_with_axes():
    panel = {
        "IGF1R_rich": {"expression": {"IGF1R": 2.0, "InsR_A": 0.5}},
        "InsR_A_rich": {"expression": {"IGF1R": 0.5, "InsR_A": 4.0}},
    }
    res = run_sweep(
        small(axes=[Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 100])], panel=panel),
        executor="serial",
        progress=False,
    )
    ds = res.dataset
    assert list(ds["panel"].values) == ["IGF1R_rich"] * 2 + ["InsR_A_rich"] * 2
    g = res.grid()
    assert g.dims == ("panel", "dose", "arm", "readout", "metric")
    akt = g.sel(readout="pAkt", metric="auc")
    rel = akt.sel(arm="cix") / akt.sel(arm="control")
    assert rel.sel(panel="InsR_A_rich", dose=100.0) > rel.sel(panel="IGF1R_rich", dose=100.0)
    assert "panel" in res.to_dataframe().columns


def test_panel_without_axes():
    panel = {"low": {"expression": {"InsR_A": 0.5}}, "high": {"expression": {"InsR_A": 4.0}}}
    res = run_sweep(small(panel=panel, metrics=["auc"]), executor="serial", progress=False)
    assert list(res.dataset["panel"].values) == ["low", "high"] and res.ok
    g = res.grid()
    assert g.dims == ("panel", "arm", "readout", "metric") and list(g["panel"].values) == ["low", "high"]


# --------------------------------------------------------------------------- failures, executors


def test_failed_run_is_recorded_and_the_sweep_finishes(failing_serial):
    ds = failing_serial.dataset
    assert list(ds["status"].values) == ["ok", "failed", "ok", "failed"]
    msg = str(ds["message"].values[1])
    assert ("diverged" in msg or "pre-equilibration failed" in msg) and ds["message"].values[0] == ""
    assert np.isnan(ds["summary"].isel(run=1)).all() and np.isnan(ds["trajectory"].isel(run=3)).all()
    assert np.isfinite(ds["summary"].isel(run=[0, 2])).all()
    assert failing_serial.n_failed == 2 and not failing_serial.ok
    # summaries come from the trajectories
    np.testing.assert_allclose(
        ds["summary"].sel(metric="final").isel(run=0).values, ds["trajectory"].isel(run=0, time=-1).values
    )


@pytest.mark.slow
def test_process_pool_equals_serial(failing_sweep, failing_serial):
    pooled = run_sweep(failing_sweep, n_workers=2, batch_size=1, progress=False)
    assert pooled.dataset.identical(failing_serial.dataset)


@pytest.mark.slow
def test_runs_made_here_while_the_pool_starts_equal_serial(monkeypatch, failing_sweep, failing_serial):
    """While a new pool starts, this process runs rows itself (here: two, the pool held back until
    then); the rest of that batch goes to the pool; every run is done once and as serially."""
    import time

    from igfsim.sweep import close_pool, pool, worker
    from igfsim.sweep.executors import OwnedPool

    here: list[int] = []
    real_row, real_until = worker._run_row, worker.run_until

    def counted(setup, row, model):
        here.append(row.run)
        return real_row(setup, row, model)

    class HeldBack(OwnedPool):
        def __init__(self, *args) -> None:
            deadline = time.monotonic() + 120
            while len(here) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            super().__init__(*args)

    monkeypatch.setattr(worker, "_run_row", counted)  # this process only: workers are unpatched
    monkeypatch.setattr(pool, "run_until", lambda task, model, stop: real_until(task, model, lambda: len(here) >= 2))
    monkeypatch.setattr(pool, "OwnedPool", HeldBack)
    close_pool()
    try:
        pooled = run_sweep(failing_sweep, n_workers=2, batch_size=4, progress=False)  # one batch of 4
        assert here == [0, 1]
        again = run_sweep(failing_sweep, n_workers=2, batch_size=4, progress=False)  # the pool is kept
        assert here == [0, 1]
    finally:
        close_pool()
    assert pooled.dataset.identical(failing_serial.dataset)
    assert again.dataset.identical(failing_serial.dataset)


@pytest.mark.slow
def test_dask_local_cluster_equals_serial(failing_sweep, failing_serial):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cl,
        distributed.Client(cl) as client,
    ):
        res = run_sweep(failing_sweep, executor=client, batch_size=1, progress=False)
    assert res.dataset.identical(failing_serial.dataset)


# -------------------------------------------------------------------------- streaming and resume


def test_stream_to_disk_interrupt_and_resume(tmp_path, monkeypatch, failing_sweep, failing_serial):
    out = tmp_path / "sw"
    real, calls = sweep_execute._run_batch, []

    def interrupted(task):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(sweep_execute, "_run_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(failing_sweep, executor="serial", batch_size=1, out=out, progress=False)
    monkeypatch.setattr(sweep_execute, "_run_batch", real)
    assert SweepStore(out).completed_runs() == {0, 1}
    partial = SweepResult.open(out)
    assert list(partial.dataset["run"].values) == [0, 1]
    with pytest.raises(SweepStoreError, match="resume"):
        run_sweep(failing_sweep, executor="serial", out=out, progress=False)
    other = failing_sweep.model_copy(update={"seed": 1})
    with pytest.raises(SweepStoreError, match="different sweep"):
        run_sweep(other, executor="serial", out=out, resume=True, progress=False)
    res = run_sweep(failing_sweep, executor="serial", batch_size=1, out=out, resume=True, progress=False)
    runs = [
        r
        for f in sorted((out / "parts").glob("*.parquet"))
        for r in set(__import__("pyarrow.parquet").parquet.read_table(f).column("run").to_pylist())
    ]
    assert sorted(runs) == [0, 1, 2, 3]  # every run in exactly one part
    assert res.dataset.data_vars.keys() == {"summary"}  # trajectories are read only when asked for
    assert res.dataset.identical(failing_serial.dataset.drop_vars(["trajectory", "time"]))
    assert SweepResult.open(out, trajectories=True).dataset.identical(failing_serial.dataset)
    for run in (0, 3):
        np.testing.assert_array_equal(
            res.trajectories_of([run])[run], failing_serial.dataset["trajectory"].sel(run=run).values
        )
    again = run_sweep(failing_sweep, executor="serial", out=out, resume=True, progress=False)  # nothing left
    assert again.n_runs == 4


def test_manifest_file_layout(tmp_path, igf_model):
    """manifest.json keeps its layout (format igfsim-sweep/2): format first, then these keys in this order."""
    import json

    from igfsim.sweep.records import SweepManifest

    sw = small(axes=[Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 100])], metrics=["auc"])
    res = run_sweep(sw, executor="serial", out=tmp_path / "sw", progress=False)
    expected = {
        "format": "igfsim-sweep/2",
        "scenario": "sweep_small",
        "engine": "roadrunner",
        "design": "grid",
        "seed": 0,
        "axes": ["dose"],
        "targets": ["dose:cix/cixutumumab"],
        "arms": ["control", "cix"],
        "readouts": ["pIGF1R", "pAkt"],
        "metrics": ["auc"],
        "times": [5.0 * i for i in range(13)],
        "panel": None,
        "design_values": [[1.0], [100.0]],
        "keep_trajectories": False,
        "spec_hash": sweep_mod.sweep_hash(sw, igf_model),
        "model_sha256": igf_model.sha256,
    }
    assert (tmp_path / "sw" / "manifest.json").read_text(encoding="utf-8") == json.dumps(expected, indent=1)
    assert SweepManifest.from_json(expected) == res.manifest and res.manifest.to_json() == expected
    assert res.meta == expected  # the mapping view that reports read
    with pytest.raises(ValueError, match="missing key"):
        SweepManifest.from_json({k: v for k, v in expected.items() if k != "times"})


OLD_FOLDER = Path(__file__).resolve().parents[1] / "data" / "sweep_written_by_0.1.0"


def test_folder_written_by_0_1_0_opens(tmp_path):
    """The on-disk format (manifest, sweep.json, Parquet parts) is still read: dims, coords, statuses."""
    old = SweepResult.open(OLD_FOLDER)
    assert old.n_runs == 54 and old.n_ok == 54 and old.manifest.scenario == "cixutumumab_vs_insr_a"
    summary = old.dataset["summary"]
    assert summary.dims == ("run", "arm", "readout", "metric")
    assert np.isfinite(summary.values).all() and set(old.manifest.axes) <= set(old.dataset.coords)


@pytest.mark.slow
def test_folder_written_by_0_1_0_resumes_to_the_same_numbers(tmp_path):
    import shutil

    old = SweepResult.open(OLD_FOLDER)
    sw = load_sweep(Path(__file__).resolve().parents[2] / "sweeps" / "cixutumumab_vs_insr_a.yaml")
    if sw.load_model().sha256 != old.manifest.model_sha256:
        pytest.skip("the bundled model changed since the folder was written: its numbers no longer apply")
    fresh = run_sweep(sw, executor="serial", progress=False)
    assert old.manifest == fresh.manifest
    np.testing.assert_allclose(fresh.dataset["summary"].values, old.dataset["summary"].values, rtol=1e-9)
    folder = tmp_path / "sw"
    shutil.copytree(OLD_FOLDER, folder)
    (folder / "parts" / "part-000003.parquet").unlink()  # as if interrupted: resume runs that part again
    resumed = run_sweep(sw, executor="serial", out=folder, resume=True, progress=False)
    assert resumed.dataset.identical(old.dataset)


# ---------------------------------------------------------------------------------- YAML and CLI

SWEEP_YAML = """
scenario: scenario.yaml
axes:
  - {name: dose, target: "dose:cix/cixutumumab", values: [1, 100]}
metrics: [auc, final]
"""
SCENARIO_YAML = """
name: sweep_small
title: small
simulation: {duration_min: 60, points: 13}
stimulus: {IGF1: 10}
readouts: [pIGF1R, pAkt]
arms:
  - {name: control}
  - {name: cix, treatments: [{drug: cixutumumab, dose_nM: 100}]}
"""


def test_load_sweep_file_relative_scenario_and_inline(tmp_path, write_yaml):
    write_yaml(tmp_path, SCENARIO_YAML)
    sw = load_sweep(write_yaml(tmp_path, SWEEP_YAML, "sweep.yaml"))
    assert sw.scenario.name == "sweep_small" and sw.axes[0].values == [1, 100] and sw.metrics == ["auc", "final"]
    inline = SWEEP_YAML.replace(
        "scenario: scenario.yaml", "scenario:\n" + "\n".join("  " + line for line in SCENARIO_YAML.strip().splitlines())
    )
    assert load_sweep(write_yaml(tmp_path, inline, "inline.yaml")).scenario == sw.scenario


@pytest.mark.parametrize(
    ("change", "where", "text"),
    [
        (("metrics: [auc, final]", "metrics: [auc]\nbogus: 1"), "bogus", "unknown key"),
        (("values: [1, 100]}", "values: [1, 100], step: 2}"), "axes[0].step", "unknown key"),
        (('"dose:cix/cixutumumab"', '"dosage:cix"'), "axes[0].target", "bad target"),
        (('"dose:cix/cixutumumab"', '"dose:cixx/cixutumumab"'), "axes[0].target", "no arm named 'cixx'"),
        (('"dose:cix/cixutumumab"', '"dose:cix/linsitinib"'), "axes[0].target", "linsitinib treatment"),
        (('"dose:cix/cixutumumab"', '"parameter:k_nope"'), "axes[0].target", "unknown parameter"),
        (("metrics: [auc, final]", "metrics: [auc]\ndesign: lhs"), "n", "needs 'n'"),
        (("metrics: [auc, final]", "metrics: [auc]\narms: [cixx]"), "arms[0]", "no arm named"),
    ],
)
def test_load_sweep_errors_name_the_key(tmp_path, write_yaml, change, where, text):
    write_yaml(tmp_path, SCENARIO_YAML)
    path = write_yaml(tmp_path, SWEEP_YAML.replace(*change), "sweep.yaml")
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert any(i.where == where and text in i.message for i in info.value.issues), info.value.issues
    assert str(path) in str(info.value)


def test_inline_scenario_errors_are_prefixed(tmp_path, write_yaml):
    text = "scenario: {name: x, title: t, arms: [{name: a, bogus: 1}]}\naxes: []\n"
    with pytest.raises(ScenarioError) as info:
        load_sweep(write_yaml(tmp_path, text, "s.yaml"))
    assert info.value.issues[0].where == "scenario.arms[0].bogus"


def test_cli_exit_codes(tmp_path, write_yaml, capsys):
    write_yaml(tmp_path, SCENARIO_YAML)
    good = write_yaml(tmp_path, SWEEP_YAML, "good.yaml")
    assert main(["sweep", str(good), "--out", str(tmp_path / "o1"), "--workers", "1", "--no-progress"]) == 0
    assert "2 run(s) ok, 0 failed" in capsys.readouterr().out
    assert SweepResult.open(tmp_path / "o1").n_ok == 2
    bad_runs = write_yaml(
        tmp_path,
        SWEEP_YAML.replace('"dose:cix/cixutumumab", values: [1, 100]', '"parameter:k_dp_fast", values: [0.5, -1]'),
        "fail.yaml",
    )
    assert main(["sweep", str(bad_runs), "--out", str(tmp_path / "o2"), "--workers", "1", "--no-progress"]) == 3
    captured = capsys.readouterr()
    assert "1 run(s) ok, 1 failed" in captured.out
    assert "diverged" in captured.err or "pre-equilibration failed" in captured.err
    bad_input = write_yaml(tmp_path, SWEEP_YAML + "oops: 1\n", "bad.yaml")
    assert main(["sweep", str(bad_input), "--out", str(tmp_path / "o3"), "--no-progress"]) == 2
    assert "oops" in capsys.readouterr().err
    # an existing output folder without --resume is bad input; with --resume nothing is rerun
    assert main(["sweep", str(good), "--out", str(tmp_path / "o1"), "--workers", "1", "--no-progress"]) == 2
    assert main(["sweep", str(good), "--out", str(tmp_path / "o1"), "--workers", "1", "--no-progress", "--resume"]) == 0


def test_bundled_example_sweep_loads():
    sw = load_sweep(Path(__file__).resolve().parents[2] / "sweeps" / "cixutumumab_vs_insr_a.yaml")
    panel, rows = design_table(sw)
    assert rows.shape == (54, 2) and panel == [None] * 54


def test_points_design_runs_explicit_rows():
    axes = [
        Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 10, 100]),
        Axis(name="igf1", target="stimulus:IGF1", values=[5, 5, 20]),
    ]
    panel, rows = design_table(small(axes=axes, design="points"))
    assert rows.tolist() == [[1, 5], [10, 5], [100, 20]] and panel == [None] * 3
    issues = sweep_mod.check_sweep(
        small(axes=[axes[0], Axis(name="igf1", target="stimulus:IGF1", values=[5])], design="points"),
        igfsim.load_model(),
    )
    assert [i.where for i in issues] == ["axes[1]"]


def test_grid_of_a_one_axis_sweep_is_indexed_by_that_axis():
    sc = igfsim.parse_scenario(
        {
            "name": "g1",
            "title": "one axis",
            "simulation": {"duration_min": 30, "points": 4},
            "stimulus": {"IGF1": 1},
            "readouts": ["pIGF1R"],
            "arms": [{"name": "cix", "treatments": [{"drug": "cixutumumab", "dose_nM": 1}]}],
        },
        "g1",
    )
    res = run_sweep(
        Sweep(scenario=sc, axes=[Axis(name="dose", target="dose:cix/cixutumumab", values=[0.1, 1, 10])]),
        executor="serial",
        progress=False,
    )
    g = res.grid()
    assert g.dims[0] == "dose" and list(g["dose"].values) == [0.1, 1, 10]
    auc = g.sel(arm="cix", readout="pIGF1R", metric="auc").values
    assert auc[0] > auc[1] > auc[2]
    assert list(res.grid("status").values) == ["ok", "ok", "ok"]


def test_a_sweep_folder_reads_without_igfsim_as_tidy_tables(tmp_path):
    """pandas (through pyarrow) reads the parts as tables with named columns: run, panel, the axes, status,
    arm, readout, metric, value; and the trajectories as run, arm, time, readout, value (docs/sweeps.md)."""
    import pandas as pd

    sw = small(
        axes=[Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 100])],
        panel={"low": {"expression": {"InsR_A": 0.5}}, "high": {"expression": {"InsR_A": 5}}},
        metrics=["auc", "final"],
        keep_trajectories=True,
    )
    res = run_sweep(sw, executor="serial", batch_size=1, out=tmp_path / "sw", progress=False)
    frame = pd.read_parquet(tmp_path / "sw" / "parts")
    assert list(frame.columns) == ["run", "panel", "dose", "status", "message", "arm", "readout", "metric", "value"]
    assert len(frame) == 4 * 2 * 2 * 2  # runs x arms x readouts x metrics
    row = frame[(frame.run == 3) & (frame.arm == "cix") & (frame.readout == "pAkt") & (frame.metric == "final")]
    assert row.panel.item() == "high" and row.dose.item() == 100.0 and row.status.item() == "ok"
    assert row.value.item() == res.dataset["summary"].sel(run=3, arm="cix", readout="pAkt", metric="final").item()
    traj = pd.read_parquet(tmp_path / "sw" / "trajectories")
    assert list(traj.columns) == ["run", "arm", "time", "readout", "value"]
    one = traj[(traj.run == 2) & (traj.arm == "control") & (traj.readout == "pIGF1R")].sort_values("time")
    arm, readout = res.manifest.arms.index("control"), res.manifest.readouts.index("pIGF1R")
    np.testing.assert_array_equal(one.value.to_numpy(), res.trajectories_of([2])[2][arm, :, readout])
    np.testing.assert_array_equal(
        one.value.to_numpy(),
        SweepResult.open(tmp_path / "sw", trajectories=True)
        .dataset["trajectory"]
        .sel(run=2, arm="control", readout="pIGF1R")
        .values,
    )
    reopened = SweepResult.open(tmp_path / "sw")
    assert reopened.dataset.identical(res.dataset)


def test_a_second_writer_of_a_sweep_folder_is_refused(tmp_path):
    """While one process writes a sweep folder (it holds DIR/.lock), a second sweep or resume into the
    same folder is refused at once; before, the two interleaved and lost or duplicated runs."""
    sw = small(axes=[Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 100])], metrics=["auc"])
    out = tmp_path / "sw"
    with SweepStore(out).locked():
        with pytest.raises(SweepStoreError, match="another igfsim process is writing this sweep folder"):
            run_sweep(sw, executor="serial", out=out, resume=True, progress=False)
    assert run_sweep(sw, executor="serial", out=out, progress=False).n_ok == 2  # free again


def test_a_damaged_part_is_named_and_resume_runs_its_runs_again(tmp_path):
    sw = small(axes=[Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 10, 100])], metrics=["auc"])
    out = tmp_path / "sw"
    full = run_sweep(sw, executor="serial", out=out, batch_size=1, progress=False)
    part = sorted((out / "parts").glob("part-*.parquet"))[1]
    part.write_bytes(part.read_bytes()[:100])  # cut off, as a full disk or a crash leaves it
    with pytest.raises(SweepStoreError, match=rf"{part.name}: damaged part .*--resume"):
        SweepResult.open(out).n_ok  # noqa: B018 - read lazily: the first look at the runs reads the parts
    with pytest.warns(RuntimeWarning, match="set aside, its runs run again"):
        resumed = run_sweep(sw, executor="serial", out=out, resume=True, progress=False)
    assert resumed.n_ok == 3 and resumed.dataset.identical(full.dataset)
    assert (out / "parts" / f".damaged-{part.name}").exists()  # kept for inspection, out of the way


def test_an_inline_scenario_is_name_checked_with_the_sweep(igf_model):
    """An unknown context or drug in a sweep's scenario is reported with the sweep's other problems,
    under ``scenario.``; it used to surface as a KeyError, or as every run failing."""
    scenario = copy.deepcopy(SCENARIO)
    scenario["cell"] = {"context": "MCF-7"}
    scenario["arms"][1]["treatments"][0]["drug"] = "cixutumab"
    sw = Sweep(scenario=scenario, axes=[Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 100])])
    wheres = {i.where: i.message for i in check_sweep(sw, igf_model)}
    assert "unknown cell context 'MCF-7'" in wheres["scenario.cell.context"]
    assert "unknown drug 'cixutumab'" in wheres["scenario.arms[1].treatments[0].drug"]


def test_a_bit_flipped_part_that_still_reads_is_caught_by_its_checksum(tmp_path):
    """A part changed after it was written (one flipped bit in a value: Parquet still reads it, with a
    wrong number) no longer matches its sha256 in parts.sha256: opening names it, resume runs it again."""
    import pyarrow.parquet as pq

    sw = small(axes=[Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 10, 100])], metrics=["auc"])
    out = tmp_path / "sw"
    full = run_sweep(sw, executor="serial", out=out, batch_size=1, progress=False)
    ledger = (out / "parts.sha256").read_text().splitlines()
    assert sorted(line.split("  ")[1] for line in ledger) == [f"parts/part-00000{i}.parquet" for i in range(3)]
    part = out / "parts" / "part-000002.parquet"
    value = pq.read_table(part).column("value").to_numpy()[0]
    data = bytearray(part.read_bytes())
    at = bytes(data).find(np.float64(value).tobytes())
    assert at > 0
    data[at] ^= 0x01  # the lowest bit of the mantissa: still a valid file and a plausible value
    part.write_bytes(bytes(data))
    assert pq.read_table(part).column("value").to_numpy()[0] != value  # a reader alone would not notice
    with pytest.raises(SweepStoreError, match=rf"{part.name}: damaged part \(its sha256 differs"):
        SweepResult.open(out).n_ok  # noqa: B018 - read lazily
    with pytest.warns(RuntimeWarning, match="sha256 differs.*set aside"):
        resumed = run_sweep(sw, executor="serial", out=out, resume=True, progress=False)
    assert resumed.n_ok == 3 and resumed.dataset.identical(full.dataset)


def test_the_checksums_are_sha256sum_lines(tmp_path):
    import shutil
    import subprocess

    if shutil.which("sha256sum") is None:
        pytest.skip("no sha256sum")
    sw = small(axes=[Axis(name="dose", target="dose:cix/cixutumumab", values=[1, 100])], keep_trajectories=True)
    run_sweep(sw, executor="serial", out=tmp_path / "sw", batch_size=1, progress=False)
    done = subprocess.run(["sha256sum", "-c", "parts.sha256"], cwd=tmp_path / "sw", capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == 4  # two summary parts, two trajectory parts


def test_a_stored_sweep_reads_trajectories_only_when_asked(tmp_path, monkeypatch, failing_sweep):
    """``status``, ``n_ok``, ``dataset`` and ``grid()`` of a folder read the summaries only; one run's
    trajectories are read from the parts that hold them, filtered to that run."""
    out = tmp_path / "sw"
    run_sweep(failing_sweep, executor="serial", batch_size=1, out=out, progress=False)
    reads = []
    real = SweepStore._trajectory_blocks

    def counted(self, manifest, files, runs=None):
        reads.append(runs)
        return real(self, manifest, files, runs)

    monkeypatch.setattr(SweepStore, "_trajectory_blocks", counted)
    res = SweepResult.open(out)
    assert (res.n_runs, res.n_failed) == (4, 2) and "trajectory" not in res.dataset
    assert reads == []
    one = res.run_result(2)
    assert reads == [[2]] and one.values.shape == (len(res.manifest.arms), len(res.manifest.times), 2)
    assert np.isfinite(one.values).all()
