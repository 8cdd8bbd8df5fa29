"""The consistency report: ODE engines against each other, Boolean attractors against discretised ODE levels."""

from __future__ import annotations

import pytest

import igfsim
from igfsim.analysis.consistency import BOOLEAN_ON, compare_scenario, format_consistency
from igfsim.cli import main
from igfsim.resources import bundled_scenarios_dir


@pytest.fixture(scope="module")
def c01_report():
    sc = igfsim.load_scenario(bundled_scenarios_dir() / "c01_mab_vs_dual_tki.yaml")
    return compare_scenario(sc, igfsim.load_model(), threshold=0.2)


def test_every_engine_ran_and_odes_agree(c01_report):
    assert not c01_report.errors
    assert set(c01_report.outcomes) == {"roadrunner", "scipy", "boolean"}
    assert c01_report.ode_max_abs_diff is not None and c01_report.ode_max_abs_diff <= 1e-3


def test_node_comparison_discretises_as_stated(c01_report):
    assert c01_report.nodes, "Boolean nodes shared with the ODE readouts must be compared"
    for n in c01_report.nodes:
        assert n.ode_on == (n.ode_value >= 0.2)
        assert n.boolean_on == (n.boolean_value >= BOOLEAN_ON)
        assert n.agree == (n.ode_on == n.boolean_on)
    blocked = next(n for n in c01_report.nodes if n.arm == "cixutumumab" and n.readout == "pIGF1R")
    assert not blocked.ode_on and not blocked.boolean_on and blocked.agree


def test_threshold_changes_the_discretisation(c01_report):
    sc = igfsim.load_scenario(bundled_scenarios_dir() / "c01_mab_vs_dual_tki.yaml")
    strict = compare_scenario(sc, igfsim.load_model(), engines=("roadrunner", "boolean"), threshold=0.99)
    assert all(not n.ode_on for n in strict.nodes)
    assert len(strict.disagreements()) >= len(c01_report.disagreements())


def test_report_lists_verdicts_per_engine_and_every_disagreement(c01_report):
    text = format_consistency([c01_report])
    assert "roadrunner" in text and "scipy" in text and "boolean" in text
    assert "ODE engines: max |roadrunner - scipy|" in text
    for n in c01_report.disagreements():
        assert n.arm in text and n.readout in text


@pytest.mark.slow
def test_validate_engine_all_prints_the_agreement_table(capsys):
    code = main(["validate", "--engine", "all", str(bundled_scenarios_dir() / "c06_integrin_bypass.yaml")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Boolean vs ODE agreement" in out and "c06_integrin_bypass" in out
    assert main(["compare", str(bundled_scenarios_dir() / "c06_integrin_bypass.yaml")]) == 0
