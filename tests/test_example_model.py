"""The shipped second model (examples/models/igf1r_akt_mini) end to end: its own mapping, logical model
and a drug that only a user catalogue has, through run, compare, sweep and export."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import yaml

import igfsim
from igfsim.cli import main
from igfsim.scenario.loading import load_scenario
from igfsim.sweep import SweepResult

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "examples" / "models"
MINI = MODELS / "igf1r_akt_mini.antimony"
SCENARIO = MODELS / "mini_akt_inhibitor.yaml"


def test_the_example_model_runs_its_scenario_in_every_engine_and_they_agree(capsys):
    assert main(["compare", str(SCENARIO), "--model", str(MINI)]) == 0
    out = capsys.readouterr().out
    assert "4 pass (of 4)" in out and "6/6 arm x node pairs" in out


def test_the_akt_inhibitor_acts_through_the_models_own_slot():
    model = igfsim.load_model(MINI)
    res = igfsim.run_scenario(load_scenario(SCENARIO), model)
    assert res.get("capivasertib", "pAkt")[-1] < 0.2 * res.get("control", "pAkt")[-1]
    np.testing.assert_allclose(res.get("capivasertib", "pIGF1R"), res.get("control", "pIGF1R"), rtol=1e-6)
    boolean = igfsim.run_scenario(load_scenario(SCENARIO), model, engine="boolean")
    assert boolean.get("capivasertib", "pAkt")[-1] == 0 and boolean.get("control", "pAkt")[-1] == 1


def test_compare_refuses_a_model_without_a_logical_model_before_simulating(tmp_path, capsys):
    shutil.copy(MINI, tmp_path)
    mapping = yaml.safe_load((MODELS / "igf1r_akt_mini.mapping.yaml").read_text(encoding="utf-8"))
    del mapping["boolean"]
    (tmp_path / "igf1r_akt_mini.mapping.yaml").write_text(yaml.safe_dump(mapping), encoding="utf-8")
    assert main(["compare", str(SCENARIO), "--model", str(tmp_path / MINI.name)]) == 2
    out, err = capsys.readouterr()
    assert "the Boolean engine has no logical model of this model" in err and "boolean.bnet" in err
    assert "roadrunner" not in out  # nothing ran


def test_a_sweep_and_the_exports_work_on_the_example_model(tmp_path, capsys):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        yaml.safe_dump(
            {
                "scenario": str(SCENARIO),
                "model": str(MINI),
                "arms": ["capivasertib"],
                "axes": [{"name": "dose", "target": "dose:capivasertib/capivasertib", "values": [1, 10, 100]}],
                "metrics": ["final"],
            }
        ),
        encoding="utf-8",
    )
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "sw"), "--workers", "1", "--no-progress"]) == 0
    res = SweepResult.open(tmp_path / "sw")
    assert res.n_ok == 3
    pakt = res.dataset["summary"].sel(arm="capivasertib", readout="pAkt", metric="final").values
    assert pakt[0] > pakt[1] > pakt[2]  # more Akt inhibitor, less pAkt
    capsys.readouterr()
    for fmt, name in (("sbml", "mini.xml"), ("bnet", "mini.bnet"), ("petab", "mini_petab")):
        args = ["export", "--format", fmt, "--model", str(MINI), "--out", str(tmp_path / name)]
        assert main([*args, *(["--scenario", str(SCENARIO)] if fmt == "petab" else [])]) == 0, fmt
    assert "pAkt, pIGF1R & !AKTi" in (tmp_path / "mini.bnet").read_text(encoding="utf-8")


def test_a_report_of_the_example_model_reads_its_mapping(tmp_path):
    assert main(["run", str(SCENARIO), "--model", str(MINI), "--out", str(tmp_path / "run"), "--quiet", "--png"]) == 0
    png = tmp_path / "run" / "mini_akt_inhibitor" / "timecourse.png"
    assert png.is_file() and png.stat().st_size > 10_000
    out = tmp_path / "report.html"
    assert main(["report", str(tmp_path / "run"), "--out", str(out), "--scenarios", str(MODELS)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "mini_akt_inhibitor" in text and "igf1r_akt_mini.antimony" in text
    assert "capivasertib 1000 nM from -60 min" in text  # the scenario (found beside the model) and its catalogue
