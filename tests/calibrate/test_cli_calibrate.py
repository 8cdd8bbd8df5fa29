"""``igfsim calibrate``: exit codes, what it writes, profiles, and the report section it feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from igfsim.calibrate import CalibrationOptions, Gradient, calibrate
from igfsim.calibrate.profile import profile, profile_table
from igfsim.cli import main

from .conftest import BOEHM


def test_calibrate_writes_tables_figures_and_a_report_section(tmp_path: Path, capsys):
    out = tmp_path / "boehm"
    code = main(["calibrate", str(BOEHM), "--starts", "2", "--max-iter", "30", "--workers", "1", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Boehm_JProteomeRes2014: 9 parameters, 48 measurements; 2 starts of fides" in printed
    assert "objective at the table's nominal values: 138.222" in printed
    for name in ("best_parameters.tsv", "starts.tsv", "fit.tsv", "calibration.json", "waterfall.png", "fit.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["n_starts"] == 2 and summary["optimizer"] == "fides"
    assert main(["report", str(out), "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text()
    assert "Calibration boehm" in html and "Convergence (best starts)" in html and "k_phos" in html
    # a second run into the same folder is refused unless --overwrite
    assert main(["calibrate", str(BOEHM), "--starts", "1", "--workers", "1", "--out", str(out)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err


def test_a_bad_problem_exits_2_naming_file_and_key(boehm_copy: Path, capsys):
    params = boehm_copy.parent / "parameters_Boehm_JProteomeRes2014.tsv"
    df = pd.read_csv(params, sep="\t")
    df.loc[0, "parameterId"] = "Epo_degradation"
    df.to_csv(params, sep="\t", index=False)
    assert main(["calibrate", str(boehm_copy), "--workers", "1", "--out", str(boehm_copy.parent / "o")]) == 2
    err = capsys.readouterr().err
    assert "parameters_Boehm_JProteomeRes2014.tsv, parameterId Epo_degradation: unknown parameter" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("args", "match"), [(["--starts", "0"], "n_starts"), (["--rtol", "2"], "rtol")])
def test_options_out_of_range_exit_2(args, match, tmp_path: Path, capsys):
    assert main(["calibrate", str(BOEHM), *args, "--out", str(tmp_path / "o")]) == 2
    assert match in capsys.readouterr().err


@pytest.mark.slow
def test_profiles_separate_an_identifiable_from_a_non_identifiable_boehm_parameter():
    """k_phos is bounded by the data; k_imp_homo is not bounded above (its profile stays flat to the bound)."""
    options = CalibrationOptions(n_starts=4, seed=0, gradient=Gradient.FINITE_DIFFERENCES)
    res = calibrate(BOEHM, options, n_workers=2, progress=False)
    assert res.best.fval < 138.23
    profs = {p.parameter: p for p in profile(res, parameters=["k_phos", "k_imp_homo"], n_workers=2, progress=False)}
    phos, imp = profs["k_phos"], profs["k_imp_homo"]
    assert phos.identifiable and phos.ci_linear[0] < 15766.5 < phos.ci_linear[1]
    assert phos.ci_linear[1] / phos.ci_linear[0] < 3  # a tight interval
    assert not imp.closed[1] and not imp.identifiable
    table = profile_table(list(profs.values()))
    assert set(table["parameterId"]) == {"k_phos", "k_imp_homo"}
    assert list(table.loc[table["parameterId"] == "k_imp_homo", "identifiable"]) == [False]
