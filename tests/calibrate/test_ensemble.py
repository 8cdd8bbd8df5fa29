"""Parameter ensembles: the file form, what a fit contributes, and verdicts over the members."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from igfsim.analysis.ensemble import EnsembleSummary, EnsembleVerdict, ensemble_verdicts, format_ensemble
from igfsim.calibrate import SolverSettings
from igfsim.calibrate.ensemble import Ensemble, ensemble_from_fit
from igfsim.calibrate.result import CalibrationResult, StartRecord
from igfsim.cli import main
from igfsim.errors import CalibrationError, ReportInputError
from igfsim.report.mechanisms_doc import render_mechanisms_md

ROOT = Path(__file__).resolve().parents[2]
C02 = ROOT / "scenarios" / "c02_insr_isoform_resistance.yaml"


def test_an_ensemble_survives_its_file_form(tmp_path: Path):
    ens = Ensemble(("k_IRS_act", "k_dp_fast"), np.array([[1.0, 1.0], [2.5, 0.4]]), "from a test\nsecond line")
    back = Ensemble.read_tsv(ens.write_tsv(tmp_path / "e.tsv"), {"k_IRS_act", "k_dp_fast"})
    assert back.parameters == ens.parameters and np.array_equal(back.folds, ens.folds)
    assert back.source.splitlines()[0] == "from a test"
    assert back.members() == [{"k_IRS_act": 1.0, "k_dp_fast": 1.0}, {"k_IRS_act": 2.5, "k_dp_fast": 0.4}]


def test_a_bad_ensemble_file_names_every_bad_cell(tmp_path: Path):
    f = tmp_path / "bad.tsv"
    f.write_text("member\tk_IRS_actt\tk_dp_fast\n0\t-1\tx\n1\t1.0\n")
    with pytest.raises(CalibrationError) as info:
        Ensemble.read_tsv(f, {"k_IRS_act", "k_dp_fast"})
    msg = str(info.value)
    assert "column k_IRS_actt: unknown model parameter; did you mean 'k_IRS_act'?" in msg
    assert "line 2, column k_IRS_actt: expected a positive multiplier, got '-1'" in msg
    assert "line 2, column k_dp_fast: expected a positive multiplier, got 'x'" in msg
    assert "line 3: 2 columns, the header has 3" in msg


def _start(i: int, fval: float, x: tuple[float, ...]) -> StartRecord:
    return StartRecord(i, "fides", fval, x, x, 10, 10, 1.0, "FTOL", "")


def test_the_fit_ensemble_keeps_end_points_inside_the_chi_square_region(tmp_path: Path):
    from igfsim.calibrate import load_data_problem

    f = tmp_path / "p.yaml"
    f.write_text(
        f"data: [{ROOT / 'data' / 'd01_brannmark2010_insulin_time_courses.yaml'}]\n"
        "parameters: [{id: k_IRS_act}, {id: k_dp_fast}]\n"
    )
    problem = load_data_problem(f)
    # chi2(0.95, 2) / 2 = 3.0: 10.0 and 12.9 are inside, 13.1 is not
    starts = (_start(0, 10.0, (0.1, -0.2)), _start(1, 12.9, (0.3, 0.0)), _start(2, 13.1, (1.0, 1.0)))
    res = CalibrationResult(problem, starts, "fides", None, 0, SolverSettings(), 1.0, 1)
    ens = ensemble_from_fit(res)
    assert ens.parameters == ("k_IRS_act", "k_dp_fast") and ens.n_members == 2
    assert np.allclose(sorted(ens.folds[:, 0]), [10**0.1, 10**0.3])
    assert "2 optimiser end point(s)" in ens.source


@pytest.mark.slow
def test_verdicts_over_an_ensemble_count_the_members_in_which_each_claim_holds(tmp_path: Path, capsys):
    """Two members: the model itself, and k_IRS_act x2 with k_dp_fast x0.5 (which flips C02 verdicts)."""
    ens = Ensemble(("k_IRS_act", "k_dp_fast"), np.array([[1.0, 1.0], [2.0, 0.5]]), "test")
    verdicts = ensemble_verdicts([C02], ens, __import__("igfsim").load_model(), executor="serial")
    assert len(verdicts) == 6 and all(v.n_members == 2 and v.n_evaluated == 2 for v in verdicts)
    assert all(v.core for v in verdicts)
    nominal_pass = [v for v in verdicts if v.nominal == "pass"]
    assert nominal_pass and all(v.n_holds >= 1 for v in nominal_pass)  # member 0 is the model itself
    assert any(v.share == 0.5 and not v.robust for v in verdicts)
    text = format_ensemble(verdicts, ens)
    assert "holds in 50 % of 2 members  NOT ROBUST" in text
    f = ens.write_tsv(tmp_path / "e.tsv")
    code = main(["validate", str(C02), "--ensemble", str(f), "--workers", "1", "--out", str(tmp_path / "o")])
    assert code == 1  # a core claim below 80 %
    assert (tmp_path / "o" / "ensemble_summary.json").is_file()


def test_a_verdict_is_robust_only_for_core_claims_at_80_percent():
    v = EnsembleVerdict("s", 0, "e", ("C03",), "pass", 10, 10, 8)
    assert v.core and v.robust and v.share == 0.8
    assert not EnsembleVerdict("s", 0, "e", ("C03",), "pass", 10, 10, 7).robust
    assert EnsembleVerdict("s", 0, "e", ("C12",), "pass", 10, 10, 1).robust  # not a core claim: reported only
    never = EnsembleVerdict("s", 0, "e", ("C01",), "pass", 10, 0, 0)
    assert math.isnan(never.share) and not never.robust


def _summary(verdicts) -> EnsembleSummary:
    return EnsembleSummary("data/ensemble.tsv", 10, ("k_IRS_act",), "from a test", tuple(verdicts))


def test_an_ensemble_summary_survives_its_file_form_and_a_bad_one_names_file_and_keys(tmp_path: Path):
    s = _summary([EnsembleVerdict("c02", 1, "pAkt ...", ("C02",), "pass", 10, 9, 6)])
    f = tmp_path / EnsembleSummary.FILE
    f.write_text(s.to_json())
    back = EnsembleSummary.read(f)
    assert back == s and back.n_core == 1 and back.n_not_robust == 1
    assert back.verdict("c02", 1) == s.verdicts[0] and back.verdict("c02", 0) is None
    f.write_text('{"ensemble": 3, "n_members": 10, "verdicts": [{"scenario": "x"}]}')
    with pytest.raises(ReportInputError) as err:
        EnsembleSummary.read(f)
    msg = str(err.value)
    assert str(f) in msg and "ensemble: expected str" in msg and "parameters: expected list" in msg
    assert "verdicts[0]" in msg


def test_the_mechanisms_page_shows_each_expectations_ensemble_share():
    sc = __import__("igfsim").load_scenario(C02)
    verdicts = [EnsembleVerdict(sc.name, 0, "x", ("C02",), "pass", 10, 10, 10)]
    verdicts.append(EnsembleVerdict(sc.name, 1, "y", ("C02",), "pass", 10, 8, 5))
    text = render_mechanisms_md(ROOT / "scenarios", _summary(verdicts))
    assert "## Over the parameter ensemble" in text and "**10 members**" in text
    section = text[text.index(f"`{sc.name}`") :]
    assert "ensemble: holds in 100 % of 10 members" in section
    assert "ensemble: holds in 62 % of 8 members - **not robust**" in section
    assert "ensemble: not evaluated" in section  # expectations 3.. have no verdict in this summary
    assert "ensemble:" not in render_mechanisms_md(ROOT / "scenarios")


def test_the_report_renders_an_ensemble_verdict_folder(tmp_path: Path):
    from igfsim.report.html import render_report
    from igfsim.report.inputs import EnsembleSection, load_inputs

    folder = tmp_path / "ens"
    folder.mkdir()
    v = [EnsembleVerdict("c02_insr", 0, "pAkt final <= 0.5", ("C02",), "pass", 10, 10, 7)]
    (folder / EnsembleSummary.FILE).write_text(_summary(v).to_json())
    sections = load_inputs([folder])
    assert [type(s) for s in sections] == [EnsembleSection]
    html, _ = render_report(sections)
    assert "Mechanism verdicts over a parameter ensemble" in html
    assert "pAkt final &lt;= 0.5" in html and "70 %" in html and "not robust" in html


@pytest.mark.slow
def test_the_committed_ensemble_shares_are_what_a_simulation_gives_now():
    """docs/ensemble_summary.json (shown in docs/mechanisms.md) re-checked on two scenarios by simulation."""
    summary_file = ROOT / "docs" / EnsembleSummary.FILE
    if not summary_file.is_file():
        pytest.skip("no committed ensemble summary")
    summary = EnsembleSummary.read(summary_file)
    model = __import__("igfsim").load_model()
    ensemble = Ensemble.read_tsv(ROOT / summary.ensemble, set(model.parameters))
    assert ensemble.n_members == summary.n_members and ensemble.parameters == summary.parameters
    files = [ROOT / "scenarios" / "c02_insr_isoform_resistance.yaml", ROOT / "scenarios" / "c01_mab_vs_dual_tki.yaml"]
    now = ensemble_verdicts(files, ensemble, model, n_workers=2)
    assert now, "no expectations re-checked"
    for v in now:
        stored = summary.verdict(v.scenario, v.index)
        assert stored is not None, f"{v.scenario}[{v.index}] missing from {summary_file}: rerun validate --ensemble"
        assert (stored.n_evaluated, stored.n_holds) == (v.n_evaluated, v.n_holds), (
            f"{v.scenario}[{v.index}] {v.expectation}: stored {stored.n_holds}/{stored.n_evaluated}, "
            f"now {v.n_holds}/{v.n_evaluated}; rerun igfsim validate scenarios --ensemble {summary.ensemble} --out docs"
        )
