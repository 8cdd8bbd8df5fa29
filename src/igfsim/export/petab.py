"""Export a scenario as a PEtab v2 problem (petab library >= 0.8, format version 2.0.0).

Files written into a folder: ``model.xml`` (SBML), ``conditions.tsv``, ``experiments.tsv``,
``observables.tsv``, ``measurements.tsv``, ``parameters.tsv`` and ``problem.yaml``.

* One experiment per arm. With pre-equilibration its first period starts at ``-inf`` with the
  arm's cell condition (context/expression/parameter overrides, drug potencies and options,
  ``initial`` species): PEtab's steady-state pre-equilibration of the ligand-free, drug-free cell.
  Without it, the cell condition is applied at the first period instead.
* Every time at which the protocol changes something (pre-treatment at ``start_min < 0``, the
  stimulus at 0, a later drug or a wash-out at ``stop_min``) is a period with its own condition.
  A set becomes a numeric target value; an addition (a drug dose) becomes ``<slot> + dose``
  (evaluated just before the change), or the number itself when nothing set the slot before.
* Observables ``obs_<readout>`` are the readouts (model species or rule ids), with a fixed
  normal noise of 0.01.
* Measurements are igfsim's own (libRoadRunner) trajectories at the scenario's output times:
  reference pseudo-data that another PEtab-capable simulator should reproduce.
* Nothing is estimated; the parameter table is empty.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

from igfsim.engines.protocol import Change
from igfsim.errors import PetabExportError
from igfsim.model.sbml import Model
from igfsim.scenario.checks import validate_scenario
from igfsim.scenario.schema import Scenario
from igfsim.scenario.translate import build_protocol

NOISE_SD = 0.01
FILES = {
    "conditions": "conditions.tsv",
    "experiments": "experiments.tsv",
    "observables": "observables.tsv",
    "measurements": "measurements.tsv",
    "parameters": "parameters.tsv",
    "model": "model.xml",
    "problem": "problem.yaml",
}


def _pid(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return out if out[:1].isalpha() else f"x{out}"


def _num(value: float) -> str:
    return repr(float(value))


def _time(t: float) -> str:
    return "-inf" if t == -math.inf else _num(t)


def _write_tsv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def petab_tables(scenario: Scenario, model: Model, *, measurements: bool = True) -> dict[str, tuple[list, list]]:
    """The PEtab v2 tables as ``{name: (header, rows)}``."""
    validate_scenario(scenario, model, f"<scenario {scenario.name}>")
    readouts = scenario.selected_readouts(model.mapping.readouts)
    cond_rows: list[list] = []
    exp_rows: list[list] = []
    protocols = []
    for i, arm in enumerate(scenario.arms):
        protocol = build_protocol(model, scenario, arm)
        protocols.append(protocol)
        exp_id = f"exp_{i}_{_pid(arm.name)}"
        cell: dict[str, str] = {pid: _num(v) for pid, v in protocol.overrides.items()}
        cell.update({sid: _num(v) for sid, v in protocol.initial.items()})
        touched: set[str] = set()
        periods: list[tuple[float, dict[str, str]]] = []
        first_time = -math.inf if protocol.preequilibrate else protocol.t_start
        periods.append((first_time, dict(cell)))
        for ev in protocol.events:
            changes: dict[str, str] = {}
            for ch in ev.changes:
                changes[ch.target] = _target_value(ch, model, protocol, touched, changes)
                touched.add(ch.target)
            if ev.time == first_time:
                periods[0][1].update(changes)
            else:
                periods.append((ev.time, changes))
        for k, (t, changes) in enumerate(periods):
            cond_id = f"{exp_id}_p{k}"
            if not changes:  # PEtab needs at least one row per condition: restate a cell value
                changes = {"_none": ""}
            for target, value in changes.items():
                if target != "_none":
                    cond_rows.append([cond_id, target, value])
            exp_rows.append([exp_id, _time(t), cond_id if changes.get("_none") is None else ""])
    obs_rows = [[f"obs_{r}", r, r, _num(NOISE_SD), "normal"] for r in readouts]
    meas_rows: list[list] = []
    if measurements:
        from igfsim.runner import run_scenario

        res = run_scenario(scenario, model)
        for i, arm in enumerate(scenario.arms):
            exp_id = f"exp_{i}_{_pid(arm.name)}"
            for k, r in enumerate(readouts):
                for j, t in enumerate(res.times):
                    meas_rows.append([f"obs_{r}", exp_id, _num(float(t)), _num(float(res.values[i, j, k]))])
    return {
        "conditions": (["conditionId", "targetId", "targetValue"], cond_rows),
        "experiments": (["experimentId", "time", "conditionId"], exp_rows),
        "observables": (
            ["observableId", "observableName", "observableFormula", "noiseFormula", "noiseDistribution"],
            obs_rows,
        ),
        "measurements": (["observableId", "experimentId", "time", "measurement"], meas_rows),
        "parameters": (["parameterId", "parameterScale", "lowerBound", "upperBound", "nominalValue", "estimate"], []),
    }


def _target_value(ch: Change, model: Model, protocol, touched: set[str], same_period: dict[str, str]) -> str:
    if ch.mode == "set":
        return _num(ch.value)
    if ch.target in same_period:  # two doses of one slot at one time
        return f"{same_period[ch.target]} + {_num(ch.value)}"
    if ch.target in touched:
        return f"{ch.target} + {_num(ch.value)}"
    # first change of a drug slot: it holds the model's (drug-free) value, or the cell's initial value
    if ch.kind == "parameter":
        base = protocol.overrides.get(ch.target, model.parameters.get(ch.target, 0.0))
    else:
        base = protocol.initial.get(ch.target, _species_initial(model, ch.target))
    return _num(base + ch.value)


def _species_initial(model: Model, sid: str) -> float:
    import libsbml

    sp = libsbml.readSBMLFromString(model.sbml).getModel().getSpecies(sid)
    if sp is None or not sp.isSetInitialConcentration():
        raise PetabExportError(f"species {sid!r} has no initial concentration to add a dose to")
    return sp.getInitialConcentration()


def write_petab(scenario: Scenario, model: Model, folder: str | Path, *, measurements: bool = True) -> Path:
    """Write the PEtab v2 problem of ``scenario`` into ``folder``; returns the path of ``problem.yaml``."""
    import yaml

    from igfsim.export.models import write_sbml

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tables = petab_tables(scenario, model, measurements=measurements)
    for name, (header, rows) in tables.items():
        _write_tsv(out / FILES[name], header, rows)
    write_sbml(model, out / FILES["model"])
    problem = {
        "format_version": "2.0.0",
        "id": _pid(scenario.name),
        "parameter_files": [FILES["parameters"]],
        "model_files": {"igf1r": {"location": FILES["model"], "language": "sbml"}},
        "measurement_files": [FILES["measurements"]],
        "condition_files": [FILES["conditions"]],
        "experiment_files": [FILES["experiments"]],
        "observable_files": [FILES["observables"]],
    }
    path = out / FILES["problem"]
    path.write_text(yaml.safe_dump(problem, sort_keys=False), encoding="utf-8")
    return path
