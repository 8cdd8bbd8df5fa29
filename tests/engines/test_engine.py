"""The roadrunner engine against analytic solutions, protocol events and failure modes."""

from __future__ import annotations

import numpy as np
import pytest
from engine_protocols import protocol

import igfsim
from igfsim.engines import ENGINES, get_engine
from igfsim.engines.protocol import Change, Event, final_event
from igfsim.engines.steady_state import StepFailure, preequilibrate

K, A0 = 0.1, 10.0


@pytest.fixture(scope="module")
def engine():
    return get_engine("roadrunner")


def test_first_order_decay_matches_analytic(engine, tiny_model):
    t = np.linspace(0, 30, 61)
    out = engine.simulate(tiny_model, protocol(t))
    assert out.shape == (t.size, 2)
    np.testing.assert_allclose(out[:, 0], A0 * np.exp(-K * t), rtol=1e-6)
    np.testing.assert_allclose(out[:, 0] + out[:, 1], A0, rtol=1e-9)  # mass balance


def test_overrides_and_initial_values_apply_and_do_not_leak(engine, tiny_model):
    t = np.linspace(0, 20, 21)
    out = engine.simulate(tiny_model, protocol(t, ("A",), overrides={"k": 0.3}, initial={"A": 4.0}))
    np.testing.assert_allclose(out[:, 0], 4.0 * np.exp(-0.3 * t), rtol=1e-6)
    again = engine.simulate(tiny_model, protocol(t, ("A",)))
    np.testing.assert_allclose(again[:, 0], A0 * np.exp(-K * t), rtol=1e-6)


def test_timed_add_event_gives_piecewise_solution(engine, tiny_model):
    t = np.linspace(0, 20, 41)  # 5.0 is an output time: the value recorded there is just after the event
    ev = Event(5.0, (Change("A", 5.0, "species", "add"),))
    out = engine.simulate(tiny_model, protocol(t, events=[ev]))
    expected = np.where(t < 5, A0 * np.exp(-K * t), (A0 * np.exp(-K * 5) + 5.0) * np.exp(-K * (t - 5)))
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-6)


def test_parameter_set_event_changes_the_rate(engine, tiny_model):
    t = np.linspace(0, 20, 41)
    ev = Event(7.3, (Change("k", 0.2, "parameter", "set"),))  # not on the output grid
    out = engine.simulate(tiny_model, protocol(t, ("A",), events=[ev]))
    expected = np.where(t < 7.3, A0 * np.exp(-K * t), A0 * np.exp(-K * 7.3) * np.exp(-0.2 * (t - 7.3)))
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-6)


def test_event_before_first_output_time(engine, tiny_model):
    t = np.linspace(0, 10, 11)
    ev = Event(-3.0, (Change("A", 5.0, "species", "add"),))
    out = engine.simulate(tiny_model, protocol(t, ("A",), events=[ev], t_start=-3.0))
    expected = (A0 * np.exp(-K * 0) + 5.0) * np.exp(-K * (t + 3.0))  # run starts at -3 with A = A0
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-6)


def test_event_at_last_output_time_is_recorded(engine, tiny_model):
    """Protocol semantics: a value recorded at an event time is the value just after the event."""
    t = np.linspace(0, 20, 41)
    ev = Event(20.0, (Change("A", 5.0, "species", "add"),))
    out = engine.simulate(tiny_model, protocol(t, ("A",), events=[ev]))
    np.testing.assert_allclose(out[:-1, 0], A0 * np.exp(-K * t[:-1]), rtol=1e-6)
    assert out[-1, 0] == pytest.approx(A0 * np.exp(-K * 20) + 5.0, rel=1e-6)


def _dose_scenario(start_min):
    return igfsim.parse_scenario(
        {
            "name": "dose0",
            "title": "zero doses",
            "simulation": {"duration_min": 60, "points": 61},
            "stimulus": {"IGF1": 10},
            "arms": [
                {"name": "control"},
                {"name": "cixutumumab", "treatments": [{"drug": "cixutumumab", "dose_nM": 0, "start_min": start_min}]},
                {"name": "linsitinib", "treatments": [{"drug": "linsitinib", "dose_nM": 0, "start_min": start_min}]},
                {
                    "name": "ganitumab",
                    "treatments": [
                        {
                            "drug": "ganitumab",
                            "dose_nM": 0,
                            "start_min": start_min,
                            "binds_hybrids": False,
                            "downregulates": True,
                        }
                    ],
                },
            ],
        },
        "dose0",
    )


def test_dose_zero_equals_untreated(igf_model):
    res = igfsim.run_scenario(_dose_scenario(0.0), igf_model)
    control = res.values[0]
    assert np.ptp(res.get("control", "pIGF1R")) > 0.1  # the stimulus does something
    for i, arm in enumerate(res.arms[1:], start=1):
        np.testing.assert_allclose(res.values[i], control, rtol=0, atol=1e-9, err_msg=arm)


def test_dose_zero_pretreatment_equals_untreated_within_solver_tolerance(igf_model):
    """An event at -60 min restarts CVODE at steady state; results differ by solver error only."""
    res = igfsim.run_scenario(_dose_scenario(-60.0), igf_model)
    for i, arm in enumerate(res.arms[1:], start=1):
        np.testing.assert_allclose(res.values[i], res.values[0], rtol=0, atol=1e-6, err_msg=arm)


GROWTH_TEMPLATE = "model {name}\n compartment c = 1\n species A in c\n J: {reaction}\n k = {k}\n A = 1\nend"
GROWTH = {
    "autocatalytic k=0.1": GROWTH_TEMPLATE.format(name="grow1", reaction="A -> A + A; c*k*A", k=0.1),
    "autocatalytic k=1e-5": GROWTH_TEMPLATE.format(name="grow2", reaction="A -> A + A; c*k*A", k=1e-5),
    "zeroth order": GROWTH_TEMPLATE.format(name="grow3", reaction="-> A; c*k", k=1),
}


@pytest.mark.parametrize("label", list(GROWTH))
def test_preequilibration_of_unbounded_growth_fails_clearly(engine, label):
    model = igfsim.load_model_string(GROWTH[label], label)
    with pytest.raises(igfsim.SimulationError) as info:
        engine.simulate(model, protocol(np.linspace(0, 10, 11), ("A",), preequilibrate=True, label="grow/arm"))
    msg = str(info.value)
    assert "grow/arm" in msg and "roadrunner" in msg
    assert "no steady state" in msg or "grow without bound" in msg or "grows without bound" in msg, msg


def test_unknown_engine_suggests_a_name():
    with pytest.raises(igfsim.EngineUnavailableError, match=r"did you mean 'roadrunner'"):
        get_engine("roadruner")


def test_engine_registry_is_lazy_and_reused():
    assert "roadrunner" in ENGINES
    assert get_engine("roadrunner") is get_engine("roadrunner")
    assert get_engine().name == "roadrunner"


# ------------------------------------------------------------------------ state_at (the SED-ML start state)
def test_state_at_applies_pretreatment_and_the_events_at_t(engine, tiny_model):
    events = [
        Event(-10.0, (Change("A", 5.0, "species", "add"),)),
        Event(0.0, (Change("k", 0.3, "parameter", "set"), Change("B", 1.0, "species", "set"))),
        Event(8.0, (Change("A", 100.0, "species", "set"),)),  # after t: ignored
    ]
    pr = protocol(np.linspace(0, 10, 11), events=events, t_start=-10.0)
    state = engine.state_at(tiny_model, pr, 0.0)
    assert state.time == 0.0
    assert state.species["A"] == pytest.approx((A0 + 5.0) * np.exp(-K * 10), rel=1e-6)
    assert state.species["B"] == 1.0 and state.parameters["k"] == 0.3
    first = engine.simulate(tiny_model, pr)[0]  # the same set-up path as simulate
    assert first == pytest.approx([state.species["A"], state.species["B"]], rel=1e-9)
    later = engine.state_at(tiny_model, pr, 5.0)
    assert later.time == 5.0 and later.species["A"] == pytest.approx(state.species["A"] * np.exp(-0.3 * 5), rel=1e-6)


def test_final_event_is_the_event_at_the_last_output_time_after_the_start():
    ev = Event(5.0, (Change("A", 1.0, "species"),))
    assert final_event(protocol([0.0, 5.0], events=[ev])) is ev
    assert final_event(protocol([0.0, 4.0], events=[ev])) is None
    assert final_event(protocol([5.0], events=[ev], t_start=5.0)) is None  # applied at the start instead


# ------------------------------------------------------------------------ shared pre-equilibration
class _FakeTrajectory:
    """x(t) = exp(growth * t) with d/dt = growth * x; ``fail_from`` makes steps ending at or after it fail."""

    species = ("X",)

    def __init__(self, growth, fail_from=np.inf, fail_longer_than=np.inf):
        self.growth, self.fail_from, self.fail_longer_than = growth, fail_from, fail_longer_than
        self.x, self.calls, self.restored = np.ones(1), [], []

    def state(self):
        return self.x.copy()

    def restore(self, x):
        self.restored.append(x.copy())
        self.x = x.copy()

    def advance(self, t0, t1):
        self.calls.append((t0, t1))
        if t1 >= self.fail_from or t1 - t0 > self.fail_longer_than:
            raise StepFailure("boom")
        with np.errstate(over="ignore"):
            self.x = self.x * np.exp(self.growth * (t1 - t0))
        return self.x

    def rates(self, t):
        return self.growth * self.x


def test_preequilibrate_returns_the_steady_state_after_one_long_attempt():
    traj = _FakeTrajectory(-1.0)
    x = preequilibrate(traj, protocol([0.0]), "fake")
    assert traj.calls == [(0.0, 1e5)] and x[0] == 0.0


def test_preequilibrate_grows_its_attempts_tenfold_up_to_the_limit():
    traj = _FakeTrajectory(-1e-6)  # changes by 1e-6 of its value per minute: never steady
    with pytest.raises(igfsim.SimulationError) as info:
        preequilibrate(traj, protocol([0.0], label="slow/arm"), "fake")
    assert traj.calls == [(0.0, 1e5), (1e5, 1e6)]
    assert str(info.value) == (
        "[fake] slow/arm: no steady state reached within 1e+06 min of ligand-free, drug-free "
        "pre-equilibration (X still changes by 1e-06 of its value per minute); the cell context or "
        "parameter overrides may make the network oscillate or grow without bound"
    )
    assert info.value.t_reached == 1e6


def test_preequilibrate_replays_a_failed_attempt_to_report_divergence():
    traj = _FakeTrajectory(1.0, fail_longer_than=1e3)  # e**t passes 1e12 at t = 27.6: replay steps end at 1, 3, .. 31
    with pytest.raises(igfsim.SimulationError) as info:
        preequilibrate(traj, protocol([0.0], label="grow/arm"), "fake")
    assert traj.restored == [np.ones(1)] and traj.calls[1:3] == [(0.0, 1.0), (1.0, 3.0)]
    assert str(info.value) == (
        "[fake] grow/arm: pre-equilibration diverged: concentrations grow without bound "
        "(above 1e12 nM by t = 31 min); check the cell's parameter overrides"
    )


def test_preequilibrate_reports_a_solver_failure_with_the_solver_message():
    traj = _FakeTrajectory(-1e-3, fail_from=6.0)  # the replay fails too, at its step ending at 7
    with pytest.raises(igfsim.SimulationError) as info:
        preequilibrate(traj, protocol([0.0], label="stiff/arm"), "fake")
    assert str(info.value) == "[fake] stiff/arm: pre-equilibration failed after t = 3 min: boom"
    assert info.value.t_reached == 3.0


@pytest.mark.parametrize(
    "text, words",
    [
        ("model t\n A -> ; k*delay(A, 1)\n k = 1; A = 5\nend\n", "delay differential equations"),
        ("model t\n A -> ; k*A\n A = 5\nend\n", "Global parameter 'k' is missing a value"),
    ],
)
def test_libroadrunner_load_errors_become_model_errors_naming_the_model(text, words, tmp_path, capsys):
    """What libRoadRunner cannot load is an igfsim ModelError naming the file and, in libRoadRunner's
    words, the element (exit 2 on the command line), not its raw RuntimeError."""
    from igfsim.cli import main

    path = tmp_path / "m.antimony"
    path.write_text(text, encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\ntitle: t\nsimulation: {duration_min: 2, points: 3, preequilibrate: false}\nreadouts: [A]\n"
        "arms: [{name: x}]\n",
        encoding="utf-8",
    )
    assert main(["run", str(scenario), "--model", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: libRoadRunner cannot load the model: " in err and words in err and "Traceback" not in err
