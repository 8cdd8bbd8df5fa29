"""Reading PEtab problems: the benchmark problems load; bad ones are refused naming file, row and key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from igfsim.calibrate import load_problem
from igfsim.errors import CalibrationError

from .conftest import BOEHM, FUJITA


def _edit(path: Path, edit) -> None:
    df = pd.read_csv(path, sep="\t")
    edit(df)
    df.to_csv(path, sep="\t", index=False)


def test_benchmark_problems_load_with_their_estimated_parameters():
    boehm, fujita = load_problem(BOEHM), load_problem(FUJITA)
    assert len(boehm.parameter_ids) == 9 and "ratio" not in boehm.parameter_ids  # ratio is fixed
    assert boehm.n_measurements == 48 and not boehm.flattened
    # Fujita 2010 has numeric noise parameters per time point: flattened for per-condition mapping
    assert len(fujita.parameter_ids) == 19 and fujita.flattened
    assert (boehm.lower_scaled == -5).all() and (boehm.upper_scaled == 5).all()  # log10 of 1e-5 .. 1e5


def test_every_problem_of_a_file_is_reported_at_once_with_file_row_and_key(boehm_copy: Path):
    folder = boehm_copy.parent
    meas = folder / "measurementData_Boehm_JProteomeRes2014.tsv"
    params = folder / "parameters_Boehm_JProteomeRes2014.tsv"

    def bad_measurements(df):
        df.loc[2, "observableId"] = "pSTAT5A_rell"
        df.loc[3, "simulationConditionId"] = "no_such_condition"

    def bad_parameters(df):
        df.loc[0, "lowerBound"] = 1.0  # the nominal 0.027 now lies below the bounds
        df.loc[len(df)] = {
            "parameterId": "k_phoss",
            "parameterScale": "log10",
            "lowerBound": 1e-5,
            "upperBound": 1e5,
            "nominalValue": 1.0,
            "estimate": 1,
        }

    _edit(meas, bad_measurements)
    _edit(params, bad_parameters)
    with pytest.raises(CalibrationError) as info:
        load_problem(boehm_copy)
    msg = str(info.value)
    assert msg.startswith("4 problem(s) in calibration input")
    assert "measurementData_Boehm_JProteomeRes2014.tsv, row 4, observableId: 'pSTAT5A_rell'" in msg
    assert "did you mean 'pSTAT5A_rel'?" in msg
    assert "row 5, simulationConditionId: 'no_such_condition' is not in experimentalCondition" in msg
    assert "parameterId Epo_degradation_BaF3: nominalValue 0.0269825 lies outside the bounds [1, 100000]" in msg
    assert "parameterId k_phoss: unknown parameter" in msg and "did you mean 'k_phos'?" in msg


def test_bounds_that_a_log_scale_cannot_take_are_refused(boehm_copy: Path):
    params = boehm_copy.parent / "parameters_Boehm_JProteomeRes2014.tsv"

    def edit(df):
        df["upperBound"] = df["upperBound"].astype(float)
        df.loc[1, "lowerBound"] = 0.0
        df.loc[2, "upperBound"] = 1e-6  # below its lower bound 1e-5

    _edit(params, edit)
    with pytest.raises(CalibrationError) as info:
        load_problem(boehm_copy)
    msg = str(info.value)
    assert "k_exp_hetero: parameterScale log10 needs a positive lowerBound, got 0" in msg
    assert "k_exp_homo: lowerBound 1e-05 is not below upperBound 1e-06" in msg


def test_a_condition_column_the_model_lacks_is_named(boehm_copy: Path):
    cond = boehm_copy.parent / "experimentalCondition_Boehm_JProteomeRes2014.tsv"
    _edit(cond, lambda df: df.insert(len(df.columns), "Epo0", 1.0))
    with pytest.raises(CalibrationError, match=r"experimentalCondition_Boehm_JProteomeRes2014.tsv, column Epo0: not a"):
        load_problem(boehm_copy)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("format_version: 3.0.0\nproblems: []\n", "expected PEtab format_version 1 or 2, got '3.0.0'"),
        ("- not a mapping\n", "expected a PEtab problem mapping"),
        ("format_version: 1\nproblems: [{}, {}]\n", "exactly one problem"),
        (
            "format_version: 1\nparameter_file: p.tsv\nproblems: [{sbml_files: [m.xml]}]\n",
            "problems[0].condition_files",
        ),
        ("format_version: 1\n  bad: [\n", "not valid YAML"),
    ],
)
def test_problem_files_that_are_not_usable_get_one_clear_line(tmp_path: Path, text: str, expected: str):
    f = tmp_path / "problem.yaml"
    f.write_text(text)
    with pytest.raises(CalibrationError) as info:
        load_problem(f)
    assert str(f) in str(info.value) and expected in str(info.value)


def test_missing_table_files_are_listed(boehm_copy: Path):
    (boehm_copy.parent / "observables_Boehm_JProteomeRes2014.tsv").unlink()
    (boehm_copy.parent / "parameters_Boehm_JProteomeRes2014.tsv").unlink()
    with pytest.raises(CalibrationError) as info:
        load_problem(boehm_copy)
    msg = str(info.value)
    assert "observable_files: observables_Boehm_JProteomeRes2014.tsv: file not found" in msg
    assert "parameter_file: parameters_Boehm_JProteomeRes2014.tsv: file not found" in msg
