"""The HTML report: failing expectations shown with their observed value, embedded images, provenance,
sweep dose-response figures, CLI exit codes."""

from __future__ import annotations

import json
import re

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
