"""The HTML report: failing expectations shown with their observed value, embedded images, provenance,
sweep dose-response figures, CLI exit codes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from igfsim.cli import main
from igfsim.report.html import write_report
from igfsim.report.inputs import load_inputs


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """Run outputs of a two-arm scenario with one passing and one deliberately failing expectation."""
    folder = tmp_path_factory.mktemp("report")
    scen = folder / "failing.yaml"
    scen.write_text(
        """
name: failing_demo
title: Cixutumumab on IGF1-stimulated default cells
description: A demo scenario with an expectation that cannot hold.
references: ["Hua 2020 [27]"]
simulation: {duration_min: 60, points: 61}
stimulus: {IGF1: 10}
cell: {parameters: {kp_R: 1.0}}
arms:
  - name: control
  - name: cixutumumab
    treatments: [{drug: cixutumumab, dose_nM: 100}]
expect:
  - {readout: pIGF1R, metric: final, arm: cixutumumab, vs: control, op: "<=", value: 0.5}
  - {readout: pIGF1R, metric: final, arm: cixutumumab, vs: control, op: ">=", value: 5}
""",
        encoding="utf-8",
    )
    out = folder / "out"
    assert main(["run", str(scen), "--out", str(out), "--quiet", "--no-png"]) in (0, 1)
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    spec = folder / "sw.yaml"
    spec.write_text(
        """
scenario:
  name: cix_dose
  title: IGF1-stimulated cells, cixutumumab dose
  simulation: {duration_min: 60, points: 13}
  stimulus: {IGF1: 10}
  readouts: [pIGF1R, pAkt]
  arms:
    - name: control
    - name: cixutumumab
      treatments: [{drug: cixutumumab, dose_nM: 100, start_min: -30}]
axes:
  - {name: dose_nM, target: "dose:cixutumumab/cixutumumab", range: [0.01, 1000], n: 7, scale: log}
design: grid
metrics: [auc, final]
""",
        encoding="utf-8",
    )
    out = folder / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    return out


def test_failing_expectation_shown_with_observed_value(run_dir, tmp_path):
    out = tmp_path / "r.html"
    assert main(["report", str(run_dir), "--out", str(out), "--scenarios", str(run_dir.parent)]) == 0
    text = out.read_text(encoding="utf-8")
    summary = json.loads((run_dir / "failing_demo" / "summary.json").read_text())
    failed = [x for x in summary["expectations"] if x["verdict"] == "fail"]
    assert len(failed) == 1
    row = re.search(r'<tr class="row-fail" data-verdict="fail">.*?</tr>', text, re.S).group(0)
    assert "✘" in row and f"{failed[0]['observed']:.4g}" in row
    assert 'data-verdict="pass"' in text and "✔" in text
    assert "A demo scenario with an expectation that cannot hold." in text  # the question is shown
    assert "Hua 2020 [27]" in text


def test_images_embedded_and_provenance(run_dir, tmp_path):
    out = tmp_path / "r.html"
    write_report(load_inputs([run_dir], [run_dir.parent]), out)
    text = out.read_text(encoding="utf-8")
    srcs = re.findall(r'<img src="([^"]*)" width="(\d+)" height="(\d+)" alt="([^"]+)"', text)
    assert srcs and all(s.startswith("data:image/png;base64,") for s, *_ in srcs)
    assert len(srcs) == text.count("<img")
    assert not re.search(r'(src|href)="(https?:|//)', text)  # nothing loaded from the network
    sha = json.loads((run_dir / "failing_demo" / "summary.json").read_text())["model"]["sha256"]
    assert 'class="prov"' in text and sha in text
    for needle in ("kp_R", "rtol 1e-08", "libroadrunner", "matplotlib", "generated"):
        assert needle in text


def test_sweep_report_has_dose_response(sweep_dir, tmp_path):
    out = tmp_path / "s.html"
    assert main(["report", str(sweep_dir), "--out", str(out), "--pdf"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "Dose-response of pIGF1R" in text and "IC50" in text
    assert text.count("data:image/png;base64,") >= 1
    assert "seed" in text
    assert (tmp_path / "s.pdf").stat().st_size > 1000


def test_cli_bad_input_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "r.html")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "r.html")]) == 2
    assert "neither a run output folder" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow
def test_default_runs_bundled_scenario(tmp_path, monkeypatch):
    """No INPUT: the report simulates scenarios itself (here one bundled file, all engines)."""
    from igfsim.report.inputs import run_bundled
    from igfsim.resources import bundled_scenarios_dir

    sections = run_bundled([bundled_scenarios_dir() / "c01_mab_vs_dual_tki.yaml"], engines="all")
    out = tmp_path / "b.html"
    write_report(sections, out)
    text = out.read_text(encoding="utf-8")
    assert "Engine agreement" in text and "Boolean/ODE agreement" in text
    assert "arm cixutumumab: cixutumumab 100 nM" in text  # overrides from the scenario file


def test_shipped_report_has_no_script(run_dir, tmp_path):
    """The browser probe lives in tests/report/test_report_browser.py, not in every report."""
    out = tmp_path / "r.html"
    write_report(load_inputs([run_dir], [run_dir.parent]), out)
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "<style>" in text


# ----------------------------------------------------------------------------- dose axes and their arms

TREATED_SCENARIO = {
    "name": "lins_dose",
    "title": "IGF1-stimulated cells, linsitinib dose in an arm not named after the drug",
    "simulation": {"duration_min": 30, "points": 7},
    "stimulus": {"IGF1": 10},
    "readouts": ["pIGF1R", "pAkt"],
    "arms": [
        {"name": "control"},
        {"name": "treated", "treatments": [{"drug": "linsitinib", "dose_nM": 100, "start_min": -30}]},
    ],
}


@pytest.fixture(scope="module", params=["dose:treated/linsitinib", "dose:*/linsitinib"])
def treated_sweep(request, tmp_path_factory):
    """A one-axis dose sweep whose arm (``treated``) is not named after its drug, run to a folder."""
    from igfsim.sweep import Axis, Sweep, run_sweep

    sweep = Sweep(
        scenario=TREATED_SCENARIO,
        axes=[Axis(name="dose_nM", target=request.param, range=(0.1, 10000), n=6, scale="log")],
        metrics=["auc", "final"],
    )
    out = tmp_path_factory.mktemp("treated") / "sweep"
    run_sweep(sweep, executor="serial", out=out, progress=False)
    return out


def test_dose_axis_of_a_named_arm_draws_its_curves(treated_sweep, tmp_path):
    """``dose:<arm>/<drug>`` (and ``dose:*/<drug>``) is read as arm then drug: the report draws the
    dose-response of the arm that takes the drug, and only that arm (control has no linsitinib)."""
    from igfsim.report.figures import sweep_figures

    out = tmp_path / "s.html"
    assert main(["report", str(treated_sweep), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "no arm to read" not in text
    assert "Dose-response of pIGF1R (auc, arm treated) over dose_nM" in text
    assert "arm control)" not in text

    (section,) = load_inputs([treated_sweep])
    figs, notes, rows = sweep_figures(section.sweep, section.spec["scenario"])
    assert figs and not [n for n in notes if "no arm" in n], notes
    assert {caption.split("arm ")[1].split(")")[0] for caption, _ in figs} == {"treated"}
    assert {r.arm for r in rows} == {"treated"} and all(r.converged for r in rows if r.readout == "pIGF1R")
    # each curve is relative to the untreated arm, and its maximal effect stands beside its IC50
    (pigf1r,) = [r for r in rows if r.readout == "pIGF1R" and r.metric == "auc"]
    assert pigf1r.reference == "arm control" and -1.0 <= pigf1r.emax < -0.5  # linsitinib blocks IGF-IR
    assert "Emax (of untreated)" in text and "arm control" in text


def test_dose_response_curves_are_read_relative_to_the_untreated_level():
    from igfsim.report.figures import _references, untreated_arm

    assert untreated_arm(["treated", "control"], TREATED_SCENARIO) == "control"
    assert untreated_arm(["treated"], TREATED_SCENARIO) is None and untreated_arm(["control"], None) is None
    import xarray as xr

    doses = np.array([0.0, 1.0, 10.0])
    grid = xr.DataArray(np.ones((1, 1, 3)), dims=("arm", "readout", "dose"), coords={"arm": ["a"], "readout": ["r"]})
    refs, what = _references(grid, "r", doses, [np.array([2.0, 1.5, 1.0])], [None], None, None)
    assert refs == [2.0] and what == "dose 0"  # dose 0 of the axis comes first
    refs, what = _references(grid, "r", doses[1:], [np.array([1.5, 1.0])], [None], None, None)
    assert np.isnan(refs[0]) and what == ""  # nothing untreated: raw values, and the figure says so


def test_dose_axis_arms_reads_the_target_grammar():
    from igfsim.report.figures import dose_axis_arms

    arms = ["control", "treated", "both"]
    scenario = {
        "arms": [
            {"name": "control", "treatments": []},
            {"name": "treated", "treatments": [{"drug": "OSI-906"}]},  # an alias of linsitinib
            {"name": "both", "treatments": [{"drug": "cixutumumab"}, {"drug": "linsitinib"}]},
        ]
    }
    assert dose_axis_arms("dose:treated/linsitinib", arms) == ["treated"]
    assert dose_axis_arms("dose:treated/linsitinib", arms, scenario) == ["treated"]
    assert dose_axis_arms("dose:*/linsitinib", arms, scenario) == ["treated", "both"]
    assert dose_axis_arms("dose:*/cixutumumab", arms, scenario) == ["both"]
    assert dose_axis_arms("dose:*/linsitinib", arms) == arms  # no scenario: every arm (flat curves drop out)
    assert dose_axis_arms("dose:linsitinib/treated", arms) == []  # the old, wrong reading names no arm
    assert dose_axis_arms("dose:*/no_such_drug", arms, scenario) == []
    assert dose_axis_arms("stimulus:IGF1", arms) == []


# ----------------------------------------------------------------------------- summary.json, typed


def test_summary_json_round_trips_byte_for_byte(run_dir):
    from igfsim.report.summary import RunSummary

    path = run_dir / "failing_demo" / "summary.json"
    summary = RunSummary.read(path)
    assert summary.to_json() == path.read_text(encoding="utf-8")
    assert summary.scenario == "failing_demo" and list(summary.arms) == ["control", "cixutumumab"]
    assert [x.verdict.value for x in summary.expectations] == ["pass", "fail"]
    assert summary.failed == 1 and summary.arms["control"].ok


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d.pop("engine"), "'engine' is missing"),
        (lambda d: d.update(passed="two"), "'passed' should be an integer"),
        (lambda d: d["arms"]["control"].update(status="crashed"), "'arms.control.status' is 'crashed'"),
        (lambda d: d["arms"]["control"].pop("metrics"), "'arms.control.metrics' is missing"),
        (lambda d: d["expectations"][1].update(verdict="maybe"), "'expectations[1].verdict' is 'maybe'"),
        (lambda d: d["expectations"][0].update(observed="high"), "'expectations[0].observed' should be a number"),
        (lambda d: d["model"].update(sha256=5), "'model.sha256' should be a string or null"),
        (lambda d: d.update(claims="C01"), "'claims' should be a list of strings"),
    ],
)
def test_bad_summary_json_names_file_and_key(run_dir, tmp_path, capsys, edit, key):
    from igfsim.errors import ReportInputError

    folder = tmp_path / "failing_demo"
    folder.mkdir()
    data = json.loads((run_dir / "failing_demo" / "summary.json").read_text(encoding="utf-8"))
    edit(data)
    (folder / "summary.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ReportInputError) as err:
        load_inputs([folder])
    assert str(folder / "summary.json") in str(err.value) and key in str(err.value)
    assert main(["report", str(folder), "--out", str(tmp_path / "r.html")]) == 2
    assert key in capsys.readouterr().err


def test_summary_json_without_later_keys_still_reads(run_dir, tmp_path):
    """time_units, mechanism and not_expressible came later: files without them open with defaults."""
    from igfsim.report.summary import RunSummary

    data = json.loads((run_dir / "failing_demo" / "summary.json").read_text(encoding="utf-8"))
    for key in ("time_units", "mechanism", "not_expressible"):
        data.pop(key)
    summary = RunSummary.from_dict(data, "old/summary.json")
    assert (summary.time_units, summary.mechanism, summary.not_expressible) == ("min", None, 0)
