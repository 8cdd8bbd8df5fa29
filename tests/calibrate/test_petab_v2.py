"""PEtab version 2 problems: read and checked by the petab library, simulated by AMICI through pyPESTO.

The Boehm 2014 benchmark, converted to version 2 by the petab library's own converter, must give the
published objective; its objective must survive pickling into workers; bad input must be named. The
simulating tests need AMICI (CI installs it) and are skipped, with the reason, without it.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igfsim.calibrate import CalibrationOptions, Gradient, SolverSettings, calibrate, load_problem
from igfsim.calibrate.fit import objective_at, start_points
from igfsim.calibrate.objective import library_quiet
from igfsim.calibrate.petab_v2 import PetabV2Problem
from igfsim.calibrate.problem import quiet_petab
from igfsim.calibrate.sensitivities import amici_available
from igfsim.errors import CalibrationError

from .conftest import BOEHM

needs_amici = pytest.mark.skipif(not amici_available(), reason='AMICI not installed (pip install "igfsim[amici]")')


def _convert(dest: Path) -> Path:
    from petab.v2.petab1to2 import petab1to2

    with library_quiet(), quiet_petab():
        petab1to2(BOEHM, dest)
    return dest / BOEHM.name


@pytest.fixture(scope="module")
def boehm_v2(tmp_path_factory) -> Path:
    return _convert(tmp_path_factory.mktemp("boehm_v2"))


@needs_amici
def test_a_v2_problem_gives_the_published_objective_and_a_complete_fit_table(boehm_v2, reference):
    problem = load_problem(boehm_v2)
    assert isinstance(problem, PetabV2Problem)
    assert problem.scales == ["lin"] * 9 and problem.n_measurements == 48
    nominal = problem.nominal_scaled
    assert objective_at(problem, nominal) == pytest.approx(reference["Boehm_JProteomeRes2014"]["nllh"], rel=1e-6)
    fit = problem.fit_table(tuple(nominal), SolverSettings())
    assert len(fit) == 48 and np.all(np.isfinite(fit["simulation"]))
    sd = {"pSTAT5A_rel": "sd_pSTAT5A_rel", "pSTAT5B_rel": "sd_pSTAT5B_rel", "rSTAT5A_rel": "sd_rSTAT5A_rel"}
    sigma = fit["observableId"].map(lambda o: problem.petab_problem.get_x_nominal_dict()[sd[o]])
    r = (fit["measurement"] - fit["simulation"]) / sigma
    nll = float(np.sum(0.5 * np.log(2 * math.pi * sigma**2) + 0.5 * r**2))
    assert nll == pytest.approx(reference["Boehm_JProteomeRes2014"]["nllh"], rel=1e-6)  # the table is the fit
    table = problem.parameter_table(tuple(nominal * 2))
    assert table.loc["k_phos", "nominalValue"] == pytest.approx(2 * nominal[problem.parameter_ids.index("k_phos")])


@needs_amici
def test_the_v2_objective_survives_pickling_with_and_without_finite_differences(boehm_v2):
    problem = load_problem(boehm_v2)
    x = problem.nominal_scaled * 1.1
    for gradient in (Gradient.SENSITIVITIES, Gradient.FINITE_DIFFERENCES):
        objective = problem.build(gradient, SolverSettings()).objective
        again = pickle.loads(pickle.dumps(objective))
        with library_quiet():
            f0, g0 = objective(x, sensi_orders=(0, 1))
            f1, g1 = again(x, sensi_orders=(0, 1))
        assert f1 == pytest.approx(f0, rel=1e-10) and np.linalg.norm(g0) > 1.0
        np.testing.assert_allclose(g1, g0, rtol=1e-6, atol=1e-8)


@needs_amici
def test_a_v2_multistart_runs_on_worker_processes(boehm_v2):
    problem = load_problem(boehm_v2)
    options = CalibrationOptions(n_starts=2, seed=1, max_iter=20)
    res = calibrate(problem, options, n_workers=2, progress=False)
    assert len(res.starts) == 2 and res.gradient == "sensitivities"
    assert res.nominal_fval == pytest.approx(138.222, abs=1e-3)
    assert all(np.all((problem.lower_scaled <= s.x0) & (s.x0 <= problem.upper_scaled)) for s in res.starts)


def test_v2_starts_are_uniform_in_the_bounds_and_follow_the_seed(boehm_v2):
    if not amici_available():
        pytest.skip('AMICI not installed (pip install "igfsim[amici]")')
    problem = load_problem(boehm_v2)
    a = start_points(problem, 200, seed=4, check=False)
    b = start_points(problem, 200, seed=4, check=False)
    np.testing.assert_array_equal(a, b)
    lb, ub = problem.lower_scaled, problem.upper_scaled
    assert np.all((lb <= a) & (a <= ub))
    assert np.allclose(a.mean(axis=0) / ((lb + ub) / 2), 1.0, atol=0.15)  # linear, not log-uniform


@needs_amici
@pytest.mark.parametrize(
    ("lower", "expected"),
    [
        (2e4, "k_phos: nominalValue 15766.5 lies outside the bounds [20000, 100000]"),
        (1e6, "parameter table, k_phos: Lower bound must be less than or equal to upper bound"),
    ],
)
def test_v2_bounds_that_exclude_the_nominal_value_or_are_inverted_are_named(boehm_v2, tmp_path, lower, expected):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(boehm_v2.parent, copy)
    table = copy / "parameters_Boehm_JProteomeRes2014.tsv"
    df = pd.read_csv(table, sep="\t")
    df.loc[df["parameterId"] == "k_phos", "lowerBound"] = lower
    df.to_csv(table, sep="\t", index=False)
    with pytest.raises(CalibrationError) as info:
        load_problem(copy / BOEHM.name)
    assert str(copy / BOEHM.name) in str(info.value) and expected in str(info.value)


def test_a_v2_problem_without_amici_is_refused_with_the_reason(boehm_v2, monkeypatch):
    import igfsim.calibrate.sensitivities as sens

    monkeypatch.setattr(sens, "amici_available", lambda: False)
    with pytest.raises(CalibrationError) as info:
        load_problem(boehm_v2)
    text = str(info.value)
    assert str(boehm_v2) in text and "format_version" in text and "igfsim[amici]" in text


@needs_amici
def test_a_v2_problem_that_estimates_nothing_is_refused(boehm_v2, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(boehm_v2.parent, copy)
    table = copy / "parameters_Boehm_JProteomeRes2014.tsv"
    df = pd.read_csv(table, sep="\t")
    df["estimate"] = "false"
    df.to_csv(table, sep="\t", index=False)
    with pytest.raises(CalibrationError, match="parameter table: no parameter is estimated"):
        load_problem(copy / BOEHM.name)


@needs_amici
@pytest.mark.slow
def test_amici_reproduces_igfsims_trajectories_through_its_own_petab_v2_export(tmp_path):
    """An independent engine: igfsim's PEtab v2 export of a scenario (pre-equilibration, periods,
    libRoadRunner trajectories as measurements), simulated by AMICI's own code generation."""
    from igfsim.export.petab import write_petab
    from igfsim.model.sbml import load_model
    from igfsim.scenario.loading import load_scenario

    root = Path(__file__).resolve().parents[2]
    folder = tmp_path / "c16"
    # the export estimates nothing by default; a calibration problem must estimate something, so free one
    # parameter at its model value (the comparison is made at that value)
    scenario = load_scenario(root / "scenarios" / "c16_ligand_specificity.yaml")
    yaml_path = write_petab(scenario, load_model(), folder, estimate=["kon_lig"])
    problem = load_problem(yaml_path)
    fit = problem.fit_table(tuple(problem.nominal_scaled), SolverSettings(rtol=1e-10, atol=1e-14))
    assert len(fit) == problem.n_measurements > 1000 and not fit["simulation"].isna().any()
    assert float((fit["simulation"] - fit["measurement"]).abs().max()) < 1e-4
