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


def test_an_interrupted_calibration_keeps_the_starts_already_done(tmp_path: Path, monkeypatch, capsys):
    import types

    import igfsim.calibrate as cal

    def interrupted(problem, options, *, on_start_done, **_kw):
        done = types.SimpleNamespace(id="3", fval=138.5, exitflag="FTOL", n_fval=40, time=1.5, x=[0.1, -2.0])
        on_start_done(0, done)
        raise KeyboardInterrupt

    monkeypatch.setattr(cal, "calibrate", interrupted)
    out = tmp_path / "cut"
    assert main(["calibrate", str(BOEHM), "--starts", "4", "--workers", "1", "--out", str(out)]) == 130
    assert "interrupted: the starts that finished are in" in capsys.readouterr().err
    rows = (out / "starts.partial.tsv").read_text().splitlines()
    assert rows[0].split("\t") == ["start", "fval", "exitflag", "n_fval", "time_s", "x"]
    assert rows[1].split("\t") == ["3", "138.5", "FTOL", "40", "1.500", "0.1,-2.0"]


def test_a_finished_calibration_leaves_no_partial_file(tmp_path: Path):
    out = tmp_path / "b"
    assert (
        main(
            [
                "calibrate",
                str(BOEHM),
                "--starts",
                "1",
                "--max-iter",
                "5",
                "--workers",
                "1",
                "--out",
                str(out),
                "--no-plots",
                "--gradient",
                "finite-differences",
            ]
        )
        == 0
    )
    assert (out / "starts.tsv").is_file() and not (out / "starts.partial.tsv").exists()
