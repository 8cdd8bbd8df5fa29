"""The scipy (LSODA on generated C) engine against analytic solutions, the roadrunner engine,
its Python fallback, unsupported SBML and solver failures."""

from __future__ import annotations

import warnings

import libsbml
import numpy as np
import pytest
from engine_protocols import protocol

import igfsim
from igfsim.engines import get_engine, scipy_build, scipy_ode, scipy_system
from igfsim.engines.protocol import Change, Event
from igfsim.engines.scipy_ode import ScipyEngine
from igfsim.resources import bundled_scenarios_dir

K, A0 = 0.1, 10.0
SCENARIOS = sorted(bundled_scenarios_dir().glob("*.yaml"))
#: the analytic model of conftest.py with one more line
TINY_WITH = (
    "model extra\n compartment c = 1\n species A in c, B in c\n J1: A -> B; c*k*A\n k = 0.1\n A = 10; B = 0\n {}\nend"
)

#: many constructs at once: a function definition, piecewise and time in rules, a rate rule, a
#: boundary species set by an initial assignment, initial assignments of species and parameters,
#: two compartments and a reaction between them
EDGE_ANTIMONY = """
function hill(x, K, n)
  x^n / (K^n + x^n)
end
model edge
  compartment c = 1.5, d = 3
  species A in c, B in c, C in d, E in d, F in c
  species $L in d
  J1: A -> B; c*k1*A*hill(L, K, 2)
  J2: B -> A; c*k2*B
  J3: A + L -> C; c*k3*A*L
  J4: C -> ; d*kdeg*C
  J5: -> F; c*q
  J6: F -> ; c*kf*F
  k1 = 0.3; k2 = 0.1; k3 = 0.05; kdeg = 0.2; K = 2; kf = 0.5
  q = 2*k1
  L = 3*k1 + K
  A = tot*frac; B = tot - A; C = 0; F = 1
  tot = 10; frac = 0.7
  E' = piecewise(0.1, time < 5, -0.05*E)
  E = 4
  r := A + B + piecewise(C, C > 0.5, 0)
  s := exp(-time/10) * sqrt(A) + log(B + 1) + abs(E - 3) + max(A, B)
end
"""
EDGE_SELECTIONS = ("A", "B", "C", "E", "F", "L", "r", "s", "k1", "c")
EDGE_CASES = {
    "plain": {},
    "overrides": {"overrides": {"k1": 0.5, "tot": 4.0, "d": 6.0}},
    "initial": {"initial": {"A": 2.0, "L": 1.0}},
    "events": {
        "events": (
            Event(5.0, (Change("L", 2.0, "species", "add"), Change("k2", 0.3, "parameter", "set"))),
            Event(12.3, (Change("c", 0.5, "parameter", "set"), Change("A", 0.0, "species", "set"))),
            Event(20.0, (Change("d", 1.0, "parameter", "add"),)),
        )
    },
    "pretreatment": {"t_start": -4.0, "events": (Event(-4.0, (Change("kf", 1.0, "parameter", "set"),)),)},
}

#: every failure in one model, chosen by overrides: autocatalytic growth, zeroth-order growth,
#: finite-time blow-up (A' = A^2)
FAILING_ANTIMONY = """
model failing
  compartment c = 1
  species A in c
  J1: A -> A + A; c*k*A
  J2: -> A; c*k0
  J3: -> A; c*kb*A^2
  k = 0; k0 = 0; kb = 0
  A = 1
end
"""


@pytest.fixture(scope="module")
def engine():
    return get_engine("scipy")


@pytest.fixture(scope="module")
def fallback():
    return ScipyEngine(backend="python")


@pytest.fixture(scope="module")
def edge_model():
    return igfsim.load_model_string(EDGE_ANTIMONY, "edge")


@pytest.fixture(scope="module")
def failing_model():
    return igfsim.load_model_string(FAILING_ANTIMONY, "failing")


def test_registry_gives_the_scipy_engine(engine):
    assert isinstance(engine, ScipyEngine) and engine.name == "scipy" and engine.time_units == "min"
    assert get_engine("scipy") is engine


# ------------------------------------------------------------------------ (a) analytic solution
@pytest.mark.parametrize("name", ["roadrunner", "scipy"])
def test_first_order_decay_matches_analytic_in_both_engines(name, tiny_model):
    t = np.linspace(0, 30, 61)
    out = get_engine(name).simulate(tiny_model, protocol(t))
    np.testing.assert_allclose(out[:, 0], A0 * np.exp(-K * t), rtol=1e-6)
    np.testing.assert_allclose(out.sum(axis=1), A0, rtol=1e-9)


def test_overrides_initial_values_and_events_on_the_analytic_model(engine, tiny_model):
    t = np.linspace(0, 20, 41)
    out = engine.simulate(tiny_model, protocol(t, ("A", "k"), overrides={"k": 0.3}, initial={"A": 4.0}))
    np.testing.assert_allclose(out[:, 0], 4.0 * np.exp(-0.3 * t), rtol=1e-6)
    assert np.all(out[:, 1] == 0.3)  # a parameter can be selected
    events = [Event(7.3, (Change("k", 0.2, "parameter", "set"),)), Event(20.0, (Change("A", 5.0, "species", "add"),))]
    out = engine.simulate(tiny_model, protocol(t, ("A",), events=events))  # nothing leaked from the last run
    a73 = A0 * np.exp(-K * 7.3)
    expected = np.where(t < 7.3, A0 * np.exp(-K * t), a73 * np.exp(-0.2 * (t - 7.3)))
    expected[-1] += 5.0  # the value recorded at an event time is the value just after it
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-6)


# ------------------------------------------------------------------------ (b) same readouts as roadrunner
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_bundled_scenarios_agree_with_roadrunner(igf_model, path):
    scenario = igfsim.load_scenario(path)
    ref = igfsim.run_scenario(path, igf_model, engine="roadrunner")
    res = igfsim.run_scenario(path, igf_model, engine="scipy")
    assert res.ok and res.engine == "scipy"
    assert res.values.shape == ref.values.shape
    fractions = [i for i, r in enumerate(res.readouts) if np.all((ref.values[..., i] >= 0) & (ref.values[..., i] <= 1))]
    assert fractions
    diff = np.abs(res.values[..., fractions] - ref.values[..., fractions]).max()
    assert diff <= 1e-3, f"{path.name}: max |scipy - roadrunner| = {diff:.3g}"
    verdicts = [(o.index, o.verdict) for o in igfsim.check_expectations(res, scenario)]
    assert verdicts == [(o.index, o.verdict) for o in igfsim.check_expectations(ref, scenario)]


def test_analytic_jacobian_matches_finite_differences(engine, igf_model):
    sys_ = engine.system(igf_model)
    p = sys_.base.copy()
    p[sys_.param_index["TKI_dual"]] = 50.0
    x = sys_.initial_state(p) + np.random.default_rng(1).uniform(0.1, 2.0, sys_.n)
    f, jac = sys_.bind(p)
    analytic = jac(0.0, x).T.copy()  # odeint's column layout: row j holds d f / d x_j
    h = 1e-6 * (np.abs(x) + 1e-3)
    numeric = np.column_stack(
        [(f(0.0, x + h[j] * e).copy() - f(0.0, x - h[j] * e).copy()) / (2 * h[j]) for j, e in enumerate(np.eye(sys_.n))]
    )
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_sbml_constructs_and_protocol_semantics_match_roadrunner(engine, edge_model, case):
    kw = EDGE_CASES[case]
    pr = protocol(np.linspace(0, 20, 41), EDGE_SELECTIONS, rtol=1e-10, atol=1e-12, **kw)
    ref = get_engine("roadrunner").simulate(edge_model, pr)
    out = engine.simulate(edge_model, pr)
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------ (c) unsupported SBML
def _with_algebraic_rule(sbml: str) -> str:
    doc = libsbml.readSBMLFromString(sbml)
    doc.getModel().createAlgebraicRule().setMath(libsbml.parseL3Formula("A + B - 10"))
    return libsbml.writeSBMLToString(doc)


def test_unsupported_sbml_raises_model_error_naming_the_construct(engine, tiny_model):
    with_event = igfsim.load_model_string(
        "model ev\n compartment c = 1\n species A in c\n J1: A -> ; c*k*A\n k = 0.1\n A = 10\n"
        " E1: at time > 5: A = 1\nend",
        "with_event",
    )
    t = np.linspace(0, 10, 11)
    with pytest.raises(igfsim.ModelError, match=r"SBML event 'E1' is not supported by the scipy engine"):
        engine.simulate(with_event, protocol(t, ("A",)))
    algebraic = igfsim.load_model_string(_with_algebraic_rule(tiny_model.sbml), "with_algebraic_rule")
    with pytest.raises(igfsim.ModelError, match=r"algebraic rule 'A \+ B - 10' is not supported"):
        engine.simulate(algebraic, protocol(t))
    delayed = igfsim.load_model_string(TINY_WITH.format("x := delay(A, 2)"), "with_delay")
    with pytest.raises(igfsim.ModelError, match=r"assignment rule for 'x': the delay function"):
        engine.simulate(delayed, protocol(t))


# ------------------------------------------------------------------------ (d) Python fallback
@pytest.mark.parametrize("case", ["overrides", "events"])
def test_python_fallback_equals_the_compiled_path(engine, fallback, edge_model, case):
    pr = protocol(np.linspace(0, 20, 41), EDGE_SELECTIONS, **EDGE_CASES[case])
    np.testing.assert_allclose(
        fallback.simulate(edge_model, pr), engine.simulate(edge_model, pr), rtol=1e-12, atol=1e-12
    )


def test_fallback_is_chosen_by_environment_without_warning(monkeypatch, tiny_model):
    monkeypatch.setenv(scipy_ode.BACKEND_ENV, "python")
    monkeypatch.setenv("CC", "/nonexistent/cc")  # would warn if the compiler were looked for
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eng = ScipyEngine()
        out = eng.simulate(tiny_model, protocol(np.linspace(0, 5, 6), ("A",)))
    assert eng.backend == "python"
    assert isinstance(eng.system(tiny_model), scipy_system.PySystem)
    np.testing.assert_allclose(out[:, 0], A0 * np.exp(-K * np.linspace(0, 5, 6)), rtol=1e-6)


def test_missing_compiler_warns_and_falls_back_or_fails_when_c_is_required(monkeypatch, tiny_model):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    with pytest.warns(RuntimeWarning, match="no C compiler found"):
        sys_ = ScipyEngine(backend="auto").system(tiny_model)
    assert isinstance(sys_, scipy_system.PySystem)
    with pytest.raises(igfsim.EngineUnavailableError, match="needs a C compiler"):
        ScipyEngine(backend="c").system(tiny_model)
    with pytest.raises(igfsim.EngineUnavailableError, match="unknown scipy engine backend 'fortran'"):
        ScipyEngine(backend="fortran")


def test_compiled_library_is_reused_from_the_disk_cache(monkeypatch, tmp_path, tiny_model):
    monkeypatch.setenv(scipy_ode.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(scipy_build, "_LOADED", {})
    first = ScipyEngine(backend="c").system(tiny_model)
    assert [p.name for p in tmp_path.glob("*.so")] == [first.path.name]
    monkeypatch.setattr(scipy_build, "_LOADED", {})  # a new process: only the file is left

    def no_sympy(*args):
        raise AssertionError("the cached library should have been loaded")

    monkeypatch.setattr("igfsim.engines.sbml_math.read_system", no_sympy)
    again = ScipyEngine(backend="c")
    out = again.simulate(tiny_model, protocol(np.linspace(0, 5, 6), ("A",)))
    assert again.system(tiny_model).path == first.path
    np.testing.assert_allclose(out[:, 0], A0 * np.exp(-K * np.linspace(0, 5, 6)), rtol=1e-6)


# ------------------------------------------------------------------------ (e) failures
def test_solver_failure_becomes_simulation_error(engine, fallback, failing_model):
    pr = protocol(np.linspace(0, 2, 5), ("A",), overrides={"kb": 1.0}, label="blowup/arm")  # A = 1/(1 - t)
    for eng in (engine, fallback):
        with pytest.raises(igfsim.SimulationError, match=r"\[scipy\] blowup/arm: LSODA failed between t = 0 and 2"):
            eng.simulate(failing_model, pr)


@pytest.mark.parametrize("overrides", [{"k": 0.1}, {"k": 1e-5}, {"k0": 1.0}], ids=str)
def test_preequilibration_of_unbounded_growth_fails_clearly(engine, failing_model, overrides):
    pr = protocol(np.linspace(0, 10, 11), ("A",), overrides=overrides, preequilibrate=True, label="grow/arm")
    with pytest.raises(igfsim.SimulationError) as info:
        engine.simulate(failing_model, pr)
    msg = str(info.value)
    assert "[scipy] grow/arm" in msg
    assert "no steady state" in msg or "grow without bound" in msg, msg


def test_unknown_targets_are_simulation_errors(engine, tiny_model):
    t = np.linspace(0, 1, 3)
    with pytest.raises(igfsim.SimulationError, match="cannot override 'A'"):
        engine.simulate(tiny_model, protocol(t, overrides={"A": 1.0}))
    with pytest.raises(igfsim.SimulationError, match="cannot select 'Q'"):
        engine.simulate(tiny_model, protocol(t, ("Q",)))


HILL_OF_ABSENT_LIGAND = """
model hill
  compartment c = 1
  species L in c, A in c, B in c
  L = 0; A = 10; B = 0
  occ := L / (L + Kd)
  h := 1 / (1 + (occ / K)^n)
  A -> B; c*k*h*A
  B -> A; c*k2*B
  k = 0.1; k2 = 0.05; Kd = 0.2; K = 0.2; n = 2
end
"""


def test_jacobian_is_finite_for_a_hill_term_of_an_absent_species(engine):
    """d((x/K)**n)/dx is n*(x/K)**n/x symbolically: 0/0 when x = 0 unless simplified (regression)."""
    model = igfsim.load_model_string(HILL_OF_ABSENT_LIGAND, "hill")
    sys_ = engine.system(model)
    p = sys_.base.copy()
    _, jac = sys_.bind(p)
    assert np.all(np.isfinite(jac(0.0, sys_.initial_state(p))))
    ev = (Event(5.0, (Change("L", 1.0, "species"),)),)
    proto = protocol(np.linspace(0, 50, 11), ("A", "B", "h"), events=ev)
    np.testing.assert_allclose(
        engine.simulate(model, proto), get_engine("roadrunner").simulate(model, proto), rtol=1e-5, atol=1e-7
    )


def test_a_library_planted_in_the_cache_is_never_loaded(monkeypatch, tmp_path, tiny_model):
    """A library put at the cache path by someone else (its bytes do not match the digest igfsim wrote
    when it built the model) is not loaded: the model is built again, and the planted code never runs."""
    import shutil
    import subprocess

    cc = scipy_build.find_compiler()
    if cc is None:
        pytest.skip("no C compiler")
    monkeypatch.setenv(scipy_ode.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(scipy_build, "_LOADED", {})
    lib = ScipyEngine(backend="c").system(tiny_model).path
    marker = tmp_path / "planted-code-ran"
    src = tmp_path / "evil.c"
    src.write_text(
        "#include <stdio.h>\n__attribute__((constructor)) static void run(void) "
        f'{{ FILE *f = fopen("{marker}", "w"); if (f) fclose(f); }}\n',
        encoding="utf-8",
    )
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(tmp_path / "evil.so"), str(src)], check=True)
    shutil.copy(tmp_path / "evil.so", lib)  # the digest beside it is still the real library's
    monkeypatch.setattr(scipy_build, "_LOADED", {})  # a new process
    engine = ScipyEngine(backend="c")
    out = engine.simulate(tiny_model, protocol(np.linspace(0, 5, 6), ("A",)))
    assert not marker.exists()
    np.testing.assert_allclose(out[:, 0], A0 * np.exp(-K * np.linspace(0, 5, 6)), rtol=1e-6)
    assert lib.read_bytes() != (tmp_path / "evil.so").read_bytes()  # rebuilt over the planted file


@pytest.mark.parametrize("how", ["others may write", "another user", "symlink"])
def test_an_unsafe_cache_folder_is_refused(monkeypatch, tmp_path, tiny_model, how):
    import os

    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    if how == "others may write":
        folder.chmod(0o777)
    elif how == "another user":
        uid = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: uid + 1)
    else:
        (tmp_path / "real").mkdir(mode=0o700)
        folder.rmdir()
        folder.symlink_to(tmp_path / "real")
    monkeypatch.setenv(scipy_ode.CACHE_ENV, str(folder))
    monkeypatch.setattr(scipy_build, "_LOADED", {})
    with pytest.raises(igfsim.EngineUnavailableError, match="will not load compiled models") as err:
        ScipyEngine(backend="c").system(tiny_model)
    expected = {"others may write": "mode 0o777", "another user": "another user", "symlink": "not a directory"}
    assert expected[how] in str(err.value)


def test_bare_symbol_and_boolean_initial_assignments_match_roadrunner():
    """``k1 = y`` (an initial assignment that is one symbol) and ``p = true`` (a Boolean, 1 in SBML) crashed
    the scipy engine with AttributeError; both engines now agree."""
    from igfsim.scenario.loading import parse_scenario

    model = igfsim.load_model_string(
        "model t\n  A -> ; k1*A*(q + 1)\n  y = 0.3\n  k1 = y\n  p = true\n  q = p\n  A = 5\nend\n", "bare symbols"
    )
    scenario = parse_scenario(
        {
            "name": "bare",
            "title": "initial assignments that are one symbol or a Boolean",
            "simulation": {"duration_min": 2, "points": 3, "preequilibrate": False},
            "readouts": ["A"],
            "arms": [{"name": "x"}],
        }
    )
    expected = 5 * np.exp(-0.6 * np.linspace(0, 2, 3))  # k1 = y = 0.3, q = p = true = 1
    for engine in ("roadrunner", "scipy"):
        res = igfsim.run_scenario(scenario, model, engine=engine)
        np.testing.assert_allclose(res.get("x", "A"), expected, rtol=1e-5)
