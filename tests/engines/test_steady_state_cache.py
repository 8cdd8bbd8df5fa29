"""The steady-state cache: every run of a cell after the first starts from the stored pre-equilibrated
state, with results identical to pre-equilibrating again; anything that changes the drug-free cell
misses; a failed cell fails every run, each with its own label; sweeps ship the states to workers."""

from __future__ import annotations

import numpy as np
import pytest
from engine_protocols import protocol

import igfsim
from igfsim.engines import get_engine
from igfsim.engines.protocol import Change, Event
from igfsim.engines.steady_state import CACHE_ENV, STEADY_STATES, CellKey

SCENARIOS = ["c01_mab_vs_dual_tki", "c04_acquired_igf2_ira_switch", "c16_ligand_specificity"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    STEADY_STATES.clear()
    yield
    STEADY_STATES.clear()


@pytest.mark.parametrize("engine", ["roadrunner", "scipy"])
@pytest.mark.parametrize("name", SCENARIOS)
def test_cached_runs_equal_uncached_runs_exactly(monkeypatch, igf_model, engine, name):
    path = f"scenarios/{name}.yaml"
    monkeypatch.setenv(CACHE_ENV, "0")
    uncached = igfsim.run_scenario(path, igf_model, engine=engine)
    assert len(STEADY_STATES) == 0 and STEADY_STATES.misses == 0  # off means off
    monkeypatch.delenv(CACHE_ENV)
    first = igfsim.run_scenario(path, igf_model, engine=engine)
    n_cells = STEADY_STATES.misses
    again = igfsim.run_scenario(path, igf_model, engine=engine)
    assert n_cells >= 1 and STEADY_STATES.misses == n_cells  # the second run computed no steady state
    assert STEADY_STATES.hits >= len(again.arms)
    np.testing.assert_array_equal(first.values, uncached.values)
    np.testing.assert_array_equal(again.values, uncached.values)


def _dose_protocol(slot: str, dose: float, **cell) -> object:
    stim = Event(0.0, (Change("IGF1", 10.0, "species"), Change(slot, dose, "parameter", "add")))
    return protocol(np.linspace(0, 30, 7), ("pIGF1R",), events=[stim], preequilibrate=True, **cell)


def test_what_changes_the_drug_free_cell_misses_and_doses_hit(igf_model):
    rr = get_engine("roadrunner")
    slot = next(m.slot for m in igf_model.mapping.modes_of_action.values() if not m.slot_is_species)
    expression = next(iter(igf_model.mapping.expression.values()))
    base = rr.simulate(igf_model, _dose_protocol(slot, 0.0))
    assert STEADY_STATES.misses == 1
    for dose in (1.0, 10.0, 100.0):  # a dose is given after pre-equilibration: the same cell
        rr.simulate(igf_model, _dose_protocol(slot, dose))
    assert STEADY_STATES.misses == 1 and STEADY_STATES.hits == 3
    for i, cell in enumerate([{"overrides": {expression: 2.0}}, {"initial": {"IGF1": 0.5}}], start=2):
        changed = rr.simulate(igf_model, _dose_protocol(slot, 0.0, **cell))
        assert STEADY_STATES.misses == i and not np.array_equal(changed, base), cell
    for i, tolerance in enumerate([{"rtol": 1e-7}, {"atol": 1e-9}], start=4):
        rr.simulate(igf_model, _dose_protocol(slot, 0.0, **tolerance))
        assert STEADY_STATES.misses == i, tolerance
    key = CellKey.of(igf_model.sha256, "roadrunner", _dose_protocol(slot, 0.0))
    assert CellKey.of("another model", "roadrunner", _dose_protocol(slot, 0.0)) != key
    assert CellKey.of(igf_model.sha256, "scipy/CSystem", _dose_protocol(slot, 0.0)) != key


GROW = "model grow\n compartment c = 1\n species A in c\n J: A -> A + A; c*k*A\n k = 0.1\n A = 1\nend"


def test_a_failed_cell_fails_every_run_with_its_own_label():
    model = igfsim.load_model_string(GROW, "grow")
    rr = get_engine("roadrunner")
    messages = []
    for label in ("grow/first", "grow/second"):
        with pytest.raises(igfsim.SimulationError) as info:
            rr.simulate(model, protocol(np.linspace(0, 10, 11), ("A",), preequilibrate=True, label=label))
        messages.append(str(info.value))
    assert STEADY_STATES.misses == 1 and STEADY_STATES.hits == 1
    assert "grow/first" in messages[0] and "grow/second" in messages[1]
    assert messages[1] == messages[0].replace("grow/first", "grow/second")


def test_the_cache_keeps_only_its_most_recent_cells(tiny_model):
    rr = get_engine("roadrunner")
    STEADY_STATES.size = 3
    try:
        for k in (0.1, 0.2, 0.3, 0.4):
            rr.simulate(tiny_model, protocol([0, 1], ("A",), overrides={"k": k}, preequilibrate=True))
        assert len(STEADY_STATES) == 3
        rr.simulate(tiny_model, protocol([0, 1], ("A",), overrides={"k": 0.1}, preequilibrate=True))
        assert STEADY_STATES.misses == 5  # the oldest cell was dropped
    finally:
        STEADY_STATES.size = 4096


def test_sweep_batches_carry_steady_states_to_and_from_workers(igf_model):
    """A worker takes the cells a batch brings (and simulates from them), and hands back the cells it
    computed; the in-process serial path ships nothing (the cache is the caller's own)."""
    from igfsim.sweep import execute
    from igfsim.sweep.spec import Axis, Sweep

    sweep = Sweep(
        scenario="scenarios/c01_mab_vs_dual_tki.yaml",
        axes=[Axis(name="dose", target="dose:*/cixutumumab", values=[1.0, 10.0])],
        arms=["cixutumumab"],
        keep_trajectories=True,
    )
    plan = execute._plan(sweep, igf_model)
    remote = execute._setup(
        plan, sweep, execute.ModelRef(igf_model.sha256, igf_model.path, sbml=igf_model.sbml, mapping=igf_model.mapping)
    )
    fresh = execute._run_batch(next(execute._tasks(plan, remote, [0, 1], 2)))
    assert fresh.steady_states is not None and len(fresh.steady_states) == 1  # one cell, computed once
    ((key, state),) = fresh.steady_states.items()
    # a batch that brings a (deliberately different) state for that cell is simulated from it
    STEADY_STATES.clear()
    odd = np.asarray(state) * 1.5
    task = execute.BatchTask(remote, next(execute._tasks(plan, remote, [0, 1], 2)).rows, {key: odd})
    shifted = execute._run_batch(task)
    assert shifted.steady_states == {}  # nothing new to send back
    assert not np.allclose(shifted.trajectory, fresh.trajectory)
    local = execute._setup(plan, sweep, execute.ModelRef(igf_model.sha256, igf_model.path, model=igf_model))
    assert next(execute._tasks(plan, local, [0, 1], 2)).steady_states is None


@pytest.mark.slow
def test_pool_sweep_with_the_cache_equals_one_without(monkeypatch, igf_model):
    from igfsim.sweep import run_sweep
    from igfsim.sweep.spec import Axis, Sweep

    sweep = Sweep(
        scenario="scenarios/c01_mab_vs_dual_tki.yaml",
        axes=[Axis(name="dose", target="dose:*/cixutumumab", range=(0.1, 100), n=6, scale="log")],
        keep_trajectories=True,
    )
    cached = run_sweep(sweep, n_workers=2, batch_size=2, progress=False, model=igf_model)
    assert len(STEADY_STATES) >= 1  # the workers' cells came back to the caller
    from igfsim.sweep import close_pool

    close_pool()  # new workers, which inherit the setting
    monkeypatch.setenv(CACHE_ENV, "0")
    uncached = run_sweep(sweep, n_workers=2, batch_size=2, progress=False, model=igf_model)
    close_pool()
    assert cached.dataset.identical(uncached.dataset)
