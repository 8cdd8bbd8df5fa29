"""The roadrunner engine against analytic solutions, protocol events and failure modes."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest

import igfsim
from igfsim.engines import ENGINES, get_engine
from igfsim.engines.protocol import Change, Event, Protocol

K, A0 = 0.1, 10.0


def protocol(
    times,
    selections=("A", "B"),
    *,
    events=(),
    overrides=None,
    initial=None,
    preequilibrate=False,
    t_start=0.0,
    label="test/arm",
):
    return Protocol(
        overrides=MappingProxyType(dict(overrides or {})),
        initial=MappingProxyType(dict(initial or {})),
        preequilibrate=preequilibrate,
        events=tuple(events),
        t_start=t_start,
        times=np.asarray(times, dtype=float),
        selections=tuple(selections),
        label=label,
    )


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
