"""Exact gradients through AMICI: agreement with the libRoadRunner objective, pickling, multi-start, refusals.

The tests that simulate need AMICI (``pip install "igfsim[amici]"``; CI installs it) and compile
the Boehm 2014 model once into the per-user cache (``IGFSIM_CACHE_DIR``); they are skipped, with the
reason, where AMICI is missing. The refusal tests run everywhere.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from igfsim.calibrate import CalibrationOptions, Gradient, Optimizer, SolverSettings, calibrate, load_problem
from igfsim.calibrate.datasets import load_data_problem
from igfsim.calibrate.objective import build_problem, library_quiet
from igfsim.calibrate.sensitivities import SensitivitiesUnavailableError, amici_available, model_folder

from .conftest import BOEHM

DATA = Path(__file__).resolve().parents[2] / "data"
needs_amici = pytest.mark.skipif(not amici_available(), reason='AMICI not installed (pip install "igfsim[amici]")')


@pytest.fixture(scope="module")
def boehm():
    return load_problem(BOEHM)


@pytest.fixture(scope="module")
def amici_boehm(boehm):
    return build_problem(boehm, Gradient.SENSITIVITIES, SolverSettings())


@needs_amici
def test_amici_value_and_gradient_agree_with_the_roadrunner_objective(boehm, amici_boehm):
    fd = build_problem(boehm, Gradient.FINITE_DIFFERENCES, SolverSettings())
    rng = np.random.default_rng(3)
    x = boehm.nominal_scaled + rng.uniform(-0.3, 0.3, size=len(boehm.nominal_scaled))  # off the optimum
    x = np.clip(x, boehm.lower_scaled, boehm.upper_scaled)
    with library_quiet():
        f_amici, g_amici = amici_boehm.objective(x, sensi_orders=(0, 1))
        f_rr, g_fd = fd.objective(x, sensi_orders=(0, 1))
    assert f_amici == pytest.approx(f_rr, rel=1e-6)
    assert np.linalg.norm(g_amici) > 1.0  # a real slope here, not a zero vector
    np.testing.assert_allclose(g_amici, g_fd, rtol=1e-3, atol=1e-3 * np.linalg.norm(g_fd))


@needs_amici
def test_amici_objective_survives_pickling_without_hdf5(boehm, amici_boehm):
    x = boehm.nominal_scaled
    again = pickle.loads(pickle.dumps(amici_boehm.objective))
    with library_quiet():
        f0, g0 = amici_boehm.objective(x, sensi_orders=(0, 1))
        f1, g1 = again(x, sensi_orders=(0, 1))
    assert f1 == pytest.approx(f0, rel=1e-12)
    np.testing.assert_allclose(g1, g0, rtol=1e-8, atol=1e-10)
    assert again.amici_solver.get_relative_tolerance() == SolverSettings().rtol  # igfsim's settings carried


@needs_amici
def test_compiled_model_is_cached_by_problem_content(boehm, amici_boehm, boehm_copy):
    folder = model_folder(boehm)
    assert folder.is_dir() and any(folder.iterdir())  # compiled by the fixture
    assert model_folder(load_problem(boehm_copy)) == folder  # same content elsewhere: same compiled model
    data = next(boehm_copy.parent.glob("measurementData_*.tsv"))
    table = pd.read_csv(data, sep="\t")
    table.loc[0, "measurement"] += 1.0
    table.to_csv(data, sep="\t", index=False)
    assert model_folder(load_problem(boehm_copy)) != folder


@needs_amici
@pytest.mark.slow
def test_multistart_with_sensitivities_on_worker_processes_reaches_the_optimum_from_near_starts(boehm_copy):
    # bounds narrowed to 0.5 log10 units around the published optimum: every start must come back to it
    table_file = next(boehm_copy.parent.glob("parameters_*.tsv"))
    table = pd.read_csv(table_file, sep="\t", index_col=0)
    table[["lowerBound", "upperBound"]] = table[["lowerBound", "upperBound"]].astype(float)
    for pid, row in table[(table["estimate"] == 1) & (table["parameterScale"] == "log10")].iterrows():
        table.loc[pid, "lowerBound"] = max(row["lowerBound"], row["nominalValue"] / 10**0.5)
        table.loc[pid, "upperBound"] = min(row["upperBound"], row["nominalValue"] * 10**0.5)
    table.to_csv(table_file, sep="\t")
    options = CalibrationOptions(n_starts=4, seed=2, gradient=Gradient.SENSITIVITIES, fallback=None)
    res = calibrate(load_problem(boehm_copy), options, n_workers=2, progress=False)  # spawn pool: pickled
    assert res.gradient is Gradient.SENSITIVITIES
    assert res.summary()["gradient"].startswith("exact: AMICI")
    assert res.nominal_fval == pytest.approx(138.222, abs=1e-3)  # start checks and nominal value: AMICI too
    assert res.n_failed == 0
    assert res.best.fval == pytest.approx(138.222, abs=0.01)
    assert res.n_at_best(0.1) >= 3
    assert all(s.n_grad > 0 for s in res.starts)


def test_sensitivities_are_refused_for_an_igfsim_data_problem_with_the_file_named(tmp_path):
    f = tmp_path / "problem.yaml"
    f.write_text(
        yaml.safe_dump(
            {"data": [str(DATA / "d01_brannmark2010_insulin_time_courses.yaml")], "parameters": [{"id": "kp_R"}]}
        )
    )
    problem = load_data_problem(f)
    with pytest.raises(SensitivitiesUnavailableError, match=r"data problem.*finite-differences") as err:
        Gradient.SENSITIVITIES.resolve(problem)
    assert str(problem.path) in str(err.value)
    assert Gradient.AUTO.resolve(problem) is Gradient.FINITE_DIFFERENCES


def test_without_amici_sensitivities_are_refused_and_auto_falls_back(boehm, monkeypatch):
    import igfsim.calibrate.sensitivities as sens

    monkeypatch.setattr(sens, "amici_available", lambda: False)
    with pytest.raises(SensitivitiesUnavailableError, match=r"igfsim\[amici\]") as err:
        Gradient.SENSITIVITIES.resolve(boehm)
    assert str(BOEHM) in str(err.value)
    assert Gradient.AUTO.resolve(boehm) is Gradient.FINITE_DIFFERENCES


def test_a_gradient_optimiser_without_a_gradient_is_refused():
    with pytest.raises(ValueError, match="gradient"):
        CalibrationOptions(optimizer=Optimizer.FIDES, gradient=Gradient.NONE)


@needs_amici
def test_a_cache_folder_others_may_write_to_is_refused(boehm, tmp_path, monkeypatch):
    monkeypatch.setenv("IGFSIM_CACHE_DIR", str(tmp_path))
    (tmp_path / "amici").mkdir(mode=0o700)
    (tmp_path / "amici").chmod(0o777)
    with pytest.raises(SensitivitiesUnavailableError, match="writable by you only"):
        model_folder(boehm)
