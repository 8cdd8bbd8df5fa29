"""The sparse CVODE engine (CVODES + KLU on the scipy engine's generated C): an optimised SUNDIALS
build, analytic solutions, agreement with libRoadRunner to 1e-6 and the same verdicts on every bundled
scenario, solver failures reported, and a clear refusal (skipped by ``compare``) without the libraries."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from engine_protocols import protocol

import igfsim
from igfsim.analysis.expectations import check_expectations
from igfsim.engines import get_engine
from igfsim.engines.cvodes_ode import CvodesEngine, sundials_build
from igfsim.errors import EngineUnavailableError
from igfsim.resources import bundled_scenarios_dir

try:
    BUILD = sundials_build()
except EngineUnavailableError as err:  # the amici extra is not installed
    pytest.skip(str(err), allow_module_level=True)

SCENARIOS = sorted(bundled_scenarios_dir().glob("*.yaml"))
BLOWUP = "model blowup\n compartment c = 1\n species A in c\n J3: -> A; c*kb*A^2\n kb = 1\n A = 1\nend\n"


def test_the_sundials_it_links_is_an_optimised_build_with_klu():
    assert BUILD.build_type == "Release" and BUILD.klu
    assert tuple(int(v) for v in BUILD.version.split(".")[:2]) >= (6, 0)


def test_first_order_decay_matches_the_analytic_solution(tiny_model):
    t = np.linspace(0, 30, 61)
    out = get_engine("cvodes").simulate(tiny_model, protocol(t, ("A", "B"), rtol=1e-10, atol=1e-12))
    np.testing.assert_allclose(out[:, 0], 10 * np.exp(-0.1 * t), rtol=1e-7)
    np.testing.assert_allclose(out.sum(axis=1), 10.0, rtol=1e-9)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_bundled_scenario_agrees_with_roadrunner(igf_model, path):
    scenario = igfsim.load_scenario(path)
    reference = igfsim.run_scenario(scenario, igf_model, engine="roadrunner")
    sparse = igfsim.run_scenario(scenario, igf_model, engine="cvodes")
    assert sparse.ok and sparse.readouts == reference.readouts
    np.testing.assert_allclose(sparse.values, reference.values, rtol=0, atol=1e-6)
    # the same verdicts: a known failure of the scipy engine's equations is one of this engine's too
    assert [o.verdict for o in check_expectations(sparse, scenario)] == [
        o.verdict for o in check_expectations(reference, scenario)
    ]


def test_compare_runs_it_when_installed(capsys):
    from igfsim.cli import main

    assert main(["compare", str(bundled_scenarios_dir() / "c16_ligand_specificity.yaml")]) == 0
    captured = capsys.readouterr()
    assert "roadrunner, scipy, cvodes, boolean" in captured.err
    assert "max |roadrunner - scipy, cvodes|" in captured.out


def test_a_solver_failure_names_the_engine_the_run_and_the_time():
    model = igfsim.load_model_string(BLOWUP, "blowup")  # A = 1/(1 - t)
    with pytest.raises(igfsim.SimulationError, match=r"\[cvodes\] blowup/arm: CVODES/KLU failed between t = 0 and 2"):
        get_engine("cvodes").simulate(model, protocol(np.linspace(0, 2, 5), ("A",), label="blowup/arm"))


def test_without_the_libraries_it_is_unavailable_with_the_way_to_install_them(monkeypatch, capsys):
    from igfsim.cli import main
    from igfsim.engines import _INSTANCES

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "amici" else real(name, *a))
    sundials_build.cache_clear()
    monkeypatch.setitem(_INSTANCES, "cvodes", CvodesEngine())
    try:
        with pytest.raises(EngineUnavailableError, match=r'pip install "\.\[amici\]"'):
            get_engine("cvodes").check_model(igfsim.load_model_string(BLOWUP, "blowup"))
        assert (
            main(["validate", "--engine", "cvodes", str(bundled_scenarios_dir() / "c16_ligand_specificity.yaml")]) == 2
        )
        assert 'pip install ".[amici]"' in capsys.readouterr().err
        # compare goes on with the core engines and says why cvodes is not among them
        assert main(["compare", str(bundled_scenarios_dir() / "c16_ligand_specificity.yaml")]) == 0
        err = capsys.readouterr().err
        assert "cvodes not compared" in err and 'pip install ".[amici]"' in err
        assert "roadrunner, scipy, boolean" in err
    finally:
        sundials_build.cache_clear()
