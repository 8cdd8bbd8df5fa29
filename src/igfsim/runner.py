"""Run a scenario: validate it against the model, simulate every arm, label the result."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import numpy as np

from igfsim.engines import Engine, get_engine
from igfsim.engines.protocol import Protocol
from igfsim.errors import SimulationError
from igfsim.model.sbml import Model, load_model
from igfsim.result.scenario_result import ArmRecord, RunStatus, ScenarioResult
from igfsim.scenario.checks import validate_scenario
from igfsim.scenario.loading import load_scenario
from igfsim.scenario.readouts import unit_of
from igfsim.scenario.schema import Scenario
from igfsim.scenario.translate import build_protocol


def run_scenario(
    scenario: Scenario | str | Path,
    model: Model | str | Path | None = None,
    *,
    engine: str = "roadrunner",
    on_error: Literal["raise", "record"] = "raise",
    source: str | None = None,
) -> ScenarioResult:
    """Simulate every arm of ``scenario`` with ``engine`` and return a labelled result.

    ``scenario`` may be a path to a YAML file; ``model`` defaults to the bundled model. With
    ``on_error="record"`` a failing arm is kept as NaN with its message in ``records`` instead
    of raising :class:`SimulationError`. ``source`` names the file in error messages when a
    parsed :class:`Scenario` is passed.

    Examples
    --------
    >>> from igfsim import run_scenario
    >>> res = run_scenario("scenarios/c16_ligand_specificity.yaml")  # doctest: +SKIP
    >>> res.to_dataframe().head()  # doctest: +SKIP
    """
    if source is None:
        source = str(scenario) if not isinstance(scenario, Scenario) else f"<scenario {scenario.name}>"
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not isinstance(model, Model):
        model = load_model(model)
    validate_scenario(scenario, model, source)
    eng = get_engine(engine)
    eng.check_model(model)
    readouts = tuple(scenario.selected_readouts(model.mapping.readouts))
    protocols = [build_protocol(model, scenario, arm) for arm in scenario.arms]
    times = np.asarray(eng.output_times(protocols[0]), dtype=float)
    values, records = _simulate_arms(eng, model, scenario, protocols, (times.size, len(readouts)), on_error)
    return ScenarioResult(
        scenario=scenario.name,
        engine=eng.name,
        arms=tuple(a.name for a in scenario.arms),
        times=times,
        readouts=readouts,
        values=values,
        records=tuple(records),
        units={r: (unit_of(r, model) if eng.time_units == "min" else "activity 0..1") for r in readouts},
        time_units=eng.time_units,
        long_names={r: _long_name(model, r) for r in readouts},
        attrs={
            "model_path": model.path,
            "model_sha256": model.sha256,
            "rtol": scenario.simulation.rtol,
            "atol": scenario.simulation.atol,
        },
    )


def _long_name(model: Model, readout: str) -> str:
    """A readout in words: the mapping's description, "<id> (species in <compartment>)", or the id."""
    if readout in model.mapping.readouts:
        return model.mapping.readouts[readout].description
    if readout in model.species:
        return f"{readout} (species in {model.species[readout]})"
    return readout


def _simulate_arms(
    eng: Engine,
    model: Model,
    scenario: Scenario,
    protocols: list[Protocol],
    shape: tuple[int, int],
    on_error: Literal["raise", "record"],
) -> tuple[np.ndarray, list[ArmRecord]]:
    """Values ``(arm, time, readout)`` and one record per arm; a failed arm stays NaN when recorded."""
    values = np.full((len(protocols), *shape), np.nan)
    records = []
    for i, (arm, protocol) in enumerate(zip(scenario.arms, protocols, strict=True)):
        t0 = time.perf_counter()
        try:
            values[i] = eng.simulate(model, protocol)
            records.append(ArmRecord(arm.name, RunStatus.OK, "", time.perf_counter() - t0))
        except SimulationError as err:
            if on_error == "raise":
                raise
            records.append(ArmRecord(arm.name, RunStatus.FAILED, str(err), time.perf_counter() - t0))
    return values, records
