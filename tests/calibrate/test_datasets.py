"""igfsim's own data problems: data scenarios, their checks, the closed-form likelihood, a small fit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.optimize import minimize_scalar

from igfsim.calibrate import CalibrationOptions, calibrate, load_data_problem
from igfsim.calibrate.datasets import dataset_nll, fitted_scale, fitted_sd
from igfsim.errors import CalibrationError, ScenarioError
from igfsim.scenario.dataset import Dataset
from igfsim.scenario.loading import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
VALIDATION = ROOT / "validation"


def _dataset(**kw) -> Dataset:
    base = dict(
        id="D",
        citation="Someone 2020",
        figure="Fig 1",
        digitised="text",
        conditions="cells",
        unit="a.u.",
        rows=[["a", "pAkt", 0, 0.0], ["a", "pAkt", 5, 1.0], ["a", "pAkt", 10, 2.0]],
    )
    base.update(kw)
    return Dataset.model_validate(base)


def test_every_bundled_data_scenario_checks_against_the_bundled_model():
    files = sorted(DATA.glob("d*.yaml"))
    assert files
    for f in files:
        scen = load_scenario(f)
        assert scen.data, f"{f.name} has no data: block"
        for d in scen.data:
            assert d.citation and d.figure and d.digitised and d.unit


def _source(citation: str, figure: str) -> tuple[str, str]:
    """(first author and year, figure) in lower case: what identifies a published figure."""
    words = citation.replace(",", " ").split()
    years = [w for w in words if w.isdigit() and len(w) == 4]
    return (f"{words[0]} {years[0] if years else ''}".lower(), " ".join(figure.lower().split()))


def _training_sources() -> set[tuple[str, str]]:
    return {_source(d.citation, d.figure) for f in DATA.glob("d*.yaml") for d in load_scenario(f).data}


def _validation_sources() -> set[tuple[str, str]]:
    return {
        _source(o.published.citation, o.published.figure)
        for f in VALIDATION.glob("*.yaml")
        for o in load_scenario(f).observations
    }


def test_training_data_and_the_validation_suite_share_no_source_figure():
    training, validation = _training_sources(), _validation_sources()
    assert training and validation
    assert not training & validation
    # the check itself distinguishes figures of one paper (Brannmark 2010 is in both folders)
    assert {a for a, _ in training} & {a for a, _ in validation} == {"brannmark 2010"}


def test_data_rows_must_name_arms_readouts_and_grid_minutes():
    doc = {
        "name": "t",
        "title": "t",
        "simulation": {"duration_min": 10, "points": 11},
        "arms": [{"name": "a", "stimulus": {"IGF1": 1.0}}],
        "data": [
            {
                "id": "D",
                "citation": "x",
                "figure": "y",
                "digitised": "z",
                "conditions": "c",
                "unit": "u",
                "rows": [["a", "pAkt", 0, 0.0], ["b", "pAktt", 2.5, 1.0], ["a", "pAkt", 12, 1.0]],
            }
        ],
    }
    from igfsim.model.sbml import load_model
    from igfsim.scenario.checks import validate_scenario

    with pytest.raises(ScenarioError) as info:
        validate_scenario(parse_scenario(doc, source="t.yaml"), load_model(), "t.yaml")
    msg = str(info.value)
    assert "data[0].rows[1]: unknown arm 'b'" in msg
    assert "data[0].rows[1]: unknown readout 'pAktt'; did you mean 'pAkt'?" in msg
    assert "data[0].rows[1]: 2.5 min is not on the output grid" in msg
    assert "data[0].rows[2]: 12 min is not on the output grid" in msg


def test_a_row_given_twice_is_refused():
    with pytest.raises(ValueError, match="given twice"):
        _dataset(rows=[["a", "pAkt", 0, 0.0], ["a", "pAkt", 0, 1.0]])


def test_closed_form_scale_and_sd_are_the_likelihood_optimum():
    rng = np.random.default_rng(0)
    h = np.linspace(0.1, 1.0, 12)
    y = 3.0 * h + rng.normal(0, 0.1, h.size)
    data = _dataset(rows=[["a", "pAkt", float(i), float(v)] for i, v in enumerate(y)])
    s, sd = fitted_scale(data, y, h), fitted_sd(data, y, h)

    def nll(scale: float, sigma: float) -> float:
        r = (y - scale * h) / sigma
        return float(0.5 * np.sum(np.log(2 * math.pi * sigma**2) + r**2))

    best_s = minimize_scalar(lambda v: nll(v, sd), bounds=(0, 10), method="bounded").x
    best_sd = minimize_scalar(lambda v: nll(s, v), bounds=(1e-3, 10), method="bounded").x
    assert s == pytest.approx(best_s, rel=1e-4) and sd == pytest.approx(best_sd, rel=1e-3)
    assert dataset_nll(data, y, h) == pytest.approx(nll(s, sd))
    with_sd = _dataset(rows=data.rows, noise_sd=0.2)
    assert dataset_nll(with_sd, y, h) == pytest.approx(nll(s, 0.2))
    absolute = _dataset(rows=data.rows, scale="absolute")
    assert fitted_scale(absolute, y, h) == 1.0
    assert fitted_scale(data, -y, h) == 0.0  # a scale is never negative


def test_published_sds_per_row_weight_the_scale_and_the_likelihood():
    h = np.array([0.2, 0.5, 1.0, 1.5])
    y = np.array([0.5, 1.0, 2.5, 2.0])
    sd = np.array([0.1, 0.1, 0.1, 1.0])
    data = _dataset(
        rows=[["a", "pAkt", float(i), float(v), float(e)] for i, (v, e) in enumerate(zip(y, sd, strict=True))]
    )
    assert data.sd is not None and np.allclose(data.sd, sd)
    s = fitted_scale(data, y, h)
    best = minimize_scalar(lambda v: float(np.sum(((y - v * h) / sd) ** 2)), bounds=(0, 10), method="bounded").x
    assert s == pytest.approx(best, rel=1e-4)
    assert s != pytest.approx(fitted_scale(_dataset(rows=[r[:4] for r in data.rows]), y, h), rel=1e-3)
    r = (y - s * h) / sd
    assert dataset_nll(data, y, h) == pytest.approx(float(0.5 * np.sum(np.log(2 * math.pi * sd**2) + r**2)))


def test_rows_that_mix_sd_and_no_sd_or_both_sds_are_refused():
    with pytest.raises(ValueError, match="rows 1 give no SD while others do"):
        _dataset(rows=[["a", "pAkt", 0, 0.0, 0.1], ["a", "pAkt", 5, 1.0], ["a", "pAkt", 10, 2.0, 0.1]])
    with pytest.raises(ValueError, match="per row or as noise_sd, not both"):
        _dataset(rows=[["a", "pAkt", 0, 0.0, 0.1], ["a", "pAkt", 5, 1.0, 0.1]], noise_sd=0.2)
    with pytest.raises(ValueError, match="greater than 0"):
        _dataset(rows=[["a", "pAkt", 0, 0.0, 0.0], ["a", "pAkt", 5, 1.0, 0.1]])


def test_a_dose_response_fit_is_drawn_against_the_dose():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from igfsim.report.calibration_plots import plot_fit

    dose = [0.01, 0.1, 1.0, 10.0]
    fit = pd.DataFrame(
        {
            "observableId": "D:x",
            "simulationConditionId": [f"arm{i}" for i in range(4)],
            "time": 240.0,
            "measurement": [1.0, 0.8, 0.3, 0.05],
            "simulation": [0.98, 0.82, 0.28, 0.04],
            "noiseParameters": 0.05,
            "dose_species": "IGF1",
            "dose_nM": dose,
        }
    )
    ax = plot_fit(fit).axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "IGF1 (nM), at 240 min"
    assert np.allclose(ax.lines[-1].get_xdata(), dose)
    with_control = fit.assign(dose_nM=[0.0, 0.1, 1.0, 10.0])  # an unstimulated arm stays on the axis
    ax = plot_fit(with_control).axes[0]
    assert ax.get_xscale() == "symlog" and ax.xaxis.get_transform().linthresh == pytest.approx(0.1)
    timecourse = fit.assign(time=[0.0, 1.0, 2.0, 3.0])
    assert plot_fit(timecourse).axes[0].get_xlabel() == "time"


def _problem(tmp_path: Path, parameters, data=None) -> Path:
    f = tmp_path / "problem.yaml"
    f.write_text(
        yaml.safe_dump(
            {"data": data or [str(DATA / "d01_brannmark2010_insulin_time_courses.yaml")], "parameters": parameters}
        )
    )
    return f


def test_a_data_problem_with_bad_parameters_lists_every_problem(tmp_path: Path):
    f = _problem(
        tmp_path,
        [
            {"id": "k_IRS_actt"},
            {"id": "kp_R", "lower_fold": 2.0},
            {"id": "kdp_R", "upper": 5},
            {"id": "kdp_R"},
        ],
    )
    with pytest.raises(CalibrationError) as info:
        load_data_problem(f)
    msg = str(info.value)
    assert "parameters[0].id: unknown model parameter 'k_IRS_actt'; did you mean 'k_IRS_act'?" in msg
    assert "parameters[1]: parameter kp_R: expected 0 < lower_fold < 1 < upper_fold" in msg
    assert "parameters[2]: unknown key(s) ['upper']" in msg
    assert "given more than once: ['kdp_R']" in msg


def test_a_data_problem_without_data_is_refused(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CalibrationError, match="no scenario with a data: block"):
        load_data_problem(_problem(tmp_path, [{"id": "kp_R"}], data=["empty"]))


@pytest.mark.slow
def test_fitting_k_irs_act_to_the_brannmark_time_courses_improves_the_likelihood(tmp_path: Path):
    f = _problem(tmp_path, [{"id": "k_IRS_act", "lower_fold": 0.01, "upper_fold": 100}])
    problem = load_data_problem(f)
    res = calibrate(problem, CalibrationOptions(n_starts=2, seed=0, max_iter=30), executor="serial", progress=False)
    assert res.n_failed == 0
    assert res.best.fval < res.nominal_fval - 1.0
    table = res.parameter_table()
    assert table.loc["k_IRS_act", "fitted_value"] == pytest.approx(
        problem.model.parameters["k_IRS_act"] * table.loc["k_IRS_act", "fitted_fold"]
    )
    fit = res.fit_table()
    assert len(fit) == 24 and set(fit["observableId"]) == {"D01a:pInsR", "D01b:pIRS1"}


def test_a_table_becomes_a_data_scenario_on_the_coarsest_grid_through_its_minutes():
    import pandas as pd

    from igfsim.calibrate import scenario_from_table

    table = pd.DataFrame({"time_min": [0, 0.9, 1.15, 30], "value": [0.0, 10.0, 8.0, 3.0]})
    scen = scenario_from_table(
        table,
        name="mine",
        readout="pIRS1",
        stimulus={"insulin": 100.0},
        cell={"context": "InsR-B-high"},
        citation="Me 2026",
        figure="Fig 1",
        digitised="by hand",
        conditions="my cells",
        unit="a.u.",
    )
    assert scen.simulation.duration_min == 30 and scen.simulation.points == 601  # step 0.05 min
    assert [r[2] for r in scen.data[0].rows] == [0, 0.9, 1.15, 30]
    assert scen.arms[0].stimulus == {"insulin": 100.0} and scen.cell.context == "InsR-B-high"
    with pytest.raises(ValueError, match="needs columns time_min and value"):
        scenario_from_table(
            pd.DataFrame({"t": [0, 1], "value": [0, 1]}),
            name="x",
            readout="pIRS1",
            stimulus={},
            citation="c",
            figure="f",
            digitised="d",
            conditions="c",
            unit="u",
        )


def test_a_provenance_row_that_says_fitted_data_names_a_bundled_dataset_and_its_interval():
    from igfsim.model.sbml import load_model

    rows = [r for r in load_model().provenance.values() if r.source.startswith("fitted: data/")]
    assert rows, "no bundled parameter is fitted to data/ yet"
    for row in rows:
        name = row.source.removeprefix("fitted: data/").split()[0]
        assert (DATA / name).is_file(), f"{row.id}: {name} is not in data/"
        assert "95 %" in row.source and "interval" in row.source, f"{row.id}: no confidence interval given"


def test_the_bundled_igf1_affinity_is_the_optimum_of_its_binding_data():
    """Kd_R11_IGF1 was fitted to data/d03: moving it 10 % either way must make that fit worse."""
    problem = load_data_problem(DATA / "fit_igf1_binding.yaml")
    at = {fold: problem.nll(np.log10([fold])) for fold in (0.9, 1.0, 1.1)}
    assert at[1.0] < at[0.9] and at[1.0] < at[1.1], at


@pytest.mark.slow
def test_the_insulin_fit_recorded_in_provenance_is_the_optimum_of_its_data():
    """data/d04's fit (recorded, not adopted, in the provenance rows of Kd_IR_insulin and k_PI3K_IRS)."""
    from igfsim.model.sbml import load_model

    rows = load_model().provenance
    assert "data/d04" in rows["Kd_IR_insulin"].source and "6.4 nM" in rows["Kd_IR_insulin"].source
    assert "data/d04" in rows["k_PI3K_IRS"].source and "x0.24" in rows["k_PI3K_IRS"].source
    problem = load_data_problem(DATA / "fit_insulin_binding_pi3k.yaml")
    best = np.array([6.4 / 0.3, 0.24])  # folds on the bundled 0.3 nM and 0.0032 /(nM min)
    at_best = problem.nll(np.log10(best))
    for i in range(2):
        for step in (0.85, 1.15):
            moved = best.copy()
            moved[i] *= step
            assert problem.nll(np.log10(moved)) > at_best, (i, step)
