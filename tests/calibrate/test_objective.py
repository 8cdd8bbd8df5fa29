"""The calibration objective against published reference values, and its finite-difference gradient."""

from __future__ import annotations

import numpy as np
import pytest

from igfsim.calibrate import Gradient, SolverSettings, load_problem, objective_at
from igfsim.calibrate.objective import build_problem, library_quiet

from .conftest import BOEHM, FUJITA


@pytest.mark.parametrize("path", [BOEHM, FUJITA], ids=["Boehm2014", "Fujita2010"])
def test_objective_at_the_published_nominal_values_equals_the_amici_reference(path, reference):
    problem = load_problem(path)
    expected = reference[problem.name]["nllh"]
    got = objective_at(problem, problem.nominal_scaled)
    assert got == pytest.approx(expected, rel=1e-3)
    assert len(problem.parameter_ids) == reference[problem.name]["n_parameters"]


def test_objective_rises_away_from_the_published_optimum_within_the_bounds():
    problem = load_problem(BOEHM)
    x, lb, ub = problem.nominal_scaled, problem.lower_scaled, problem.upper_scaled
    at = objective_at(problem, x)
    n_checked = 0
    for k in range(len(x)):
        for step in (-0.3, 0.3):
            y = x.copy()
            y[k] += step
            if lb[k] <= y[k] <= ub[k]:  # k_exp_hetero sits on its lower bound: the optimum is constrained
                assert objective_at(problem, y) > at
                n_checked += 1
    assert n_checked >= 15


def test_finite_difference_gradient_matches_a_secant_and_is_small_at_the_optimum():
    problem = load_problem(BOEHM)
    pp = build_problem(problem, Gradient.FINITE_DIFFERENCES, SolverSettings())
    x = problem.nominal_scaled
    with library_quiet():
        fval, grad = pp.objective(x, sensi_orders=(0, 1))
    assert np.max(np.abs(grad)) < 0.1  # about 0 at an optimum (solver noise would give ~25 at rtol 1e-6)
    y = x.copy()
    y[0] += 0.5
    with library_quiet():
        _, g = pp.objective(y, sensi_orders=(0, 1))
    h = 1e-3
    y2 = y.copy()
    y2[0] += h
    secant = (objective_at(problem, y2) - objective_at(problem, y)) / h
    assert g[0] == pytest.approx(secant, rel=1e-2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rtol": 0.0}, "rtol"),
        ({"atol": 2.0}, "atol"),
        ({"fd_step": -1e-5}, "fd_step"),
        ({"max_steps": 0}, "max_steps"),
    ],
)
def test_solver_settings_out_of_range_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SolverSettings(**kwargs)
