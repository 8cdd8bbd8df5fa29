"""Posterior sampling from a fit (pyPESTO's adaptive Metropolis) and the ensemble it gives."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from igfsim.calibrate import CalibrationOptions, Gradient, SolverSettings, calibrate
from igfsim.calibrate.datasets import load_data_problem
from igfsim.calibrate.result import CalibrationResult, StartRecord
from igfsim.calibrate.sampling import PosteriorSample, ensemble_from_sample, sample_posterior
from igfsim.cli import main

from .conftest import BOEHM

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.mark.slow
def test_the_boehm_posterior_brackets_the_identifiable_rate_and_repeats_with_its_seed():
    res = calibrate(
        BOEHM,
        CalibrationOptions(n_starts=4, seed=0, gradient=Gradient.FINITE_DIFFERENCES),
        executor="serial",
        progress=False,
    )
    assert res.best.fval < 138.23
    sample = sample_posterior(res, 3000, seed=1)
    assert sample.n_drawn == 3001 and 0 <= sample.burn_in < 3000 and sample.n_kept == 3001 - sample.burn_in
    lb, ub = np.asarray(res.problem.lower_scaled), np.asarray(res.problem.upper_scaled)
    assert np.all(sample.chain >= lb) and np.all(sample.chain <= ub)  # the uniform prior's support
    assert np.all(sample.neglogpost >= res.best.fval - 1e-6)  # no draw beats the optimum
    table = sample.table().set_index("parameterId")
    k = res.problem.parameter_ids.index("k_phos")
    best = 10 ** res.best.x[k]
    lo, hi = table.loc["k_phos", "ci95_lower"], table.loc["k_phos", "ci95_upper"]
    # k_phos is identifiable: its profile interval is 12,900-19,500 (test_cli_calibrate)
    assert lo < best < hi and 10_000 < lo and hi < 25_000
    assert sample.effective_sample_size > 1
    again = sample_posterior(res, 3000, seed=1)
    assert np.array_equal(again.chain, sample.chain)
    assert list(sample.samples_table().columns) == ["draw", *res.problem.parameter_ids, "neglogpost"]
    with pytest.raises(ValueError, match="needs a data problem"):
        ensemble_from_sample(sample, res)


def test_a_data_problem_posterior_becomes_an_evenly_thinned_ensemble():
    problem = load_data_problem(DATA / "fit_igf1_binding.yaml")
    start = StartRecord(0, "fides", -41.2, (0.0,), (-0.1,), 10, 10, 1.0, "FTOL", "")
    res = CalibrationResult(problem, (start,), "fides", None, 0, SolverSettings(), 1.0, 1)
    chain = np.linspace(-0.3, 0.1, 1000).reshape(-1, 1)  # log10 folds
    sample = PosteriorSample(tuple(problem.parameter_ids), ("lin",), chain, np.zeros(1000), 200, 1200, 50.0, 3)
    ens = ensemble_from_sample(sample, res, n_members=101)
    assert ens.parameters == ("Kd_R11_IGF1",) and ens.n_members == 101
    assert ens.folds[0, 0] == pytest.approx(10**-0.3) and ens.folds[-1, 0] == pytest.approx(10**0.1)
    steps = np.diff(np.log10(ens.folds[:, 0])) / 0.0004004  # rows apart in the chain
    assert np.all(np.isin(np.round(steps), [9, 10]))  # evenly spaced along the chain (999 rows / 100)
    assert "burn-in of 200" in ens.source
    empty = PosteriorSample(tuple(problem.parameter_ids), ("lin",), chain[:0], np.zeros(0), 1200, 1200, math.nan, 3)
    with pytest.raises(ValueError, match="did not pass its burn-in"):
        ensemble_from_sample(empty, res)


def test_too_few_draws_are_refused_before_any_work(tmp_path: Path, capsys):
    assert main(["calibrate", str(BOEHM), "--sample", "50", "--out", str(tmp_path / "o")]) == 2
    assert "--sample: expected at least 100 draws, got 50" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_calibrate_sample_writes_the_posterior_tables(tmp_path: Path, capsys):
    out = tmp_path / "o"
    args = ["calibrate", str(BOEHM), "--starts", "2", "--workers", "1", "--gradient", "finite-differences"]
    assert main([*args, "--sample", "300", "--no-plots", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "burn-in" in text and "effective sample size" in text
    import pandas as pd

    posterior = pd.read_csv(out / "posterior.tsv", sep="\t")
    table = pd.read_csv(out / "best_parameters.tsv", sep="\t")
    assert list(posterior["parameterId"]) == list(table.loc[table["estimate"] == 1, "parameterId"])
    assert (posterior["ci95_lower"] <= posterior["median"]).all() and (
        posterior["median"] <= posterior["ci95_upper"]
    ).all()
    samples = pd.read_csv(out / "samples.tsv", sep="\t")
    assert len(samples) == int(posterior["n_kept"].iloc[0]) and not (out / "posterior_ensemble.tsv").exists()
