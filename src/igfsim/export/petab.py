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
* The parameter table lists the model's kinetic parameters (every non-zero parameter that is not a
  drug slot, a treatment option, an expression multiplier or a condition target) at their model
  values. By default none is estimated (the problem is a simulation); ``estimate`` names the ones
  to estimate (or ``"assumed"``: those whose provenance row says assumed), within a decade either
  side of the model value.

The tables are built as the ``petab`` library's own objects (:mod:`petab.v2.core`) and written by
it, after its validation found no error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
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


#: an estimated parameter's bounds: this factor below and above its model value
BOUND_FACTOR = 10.0
#: ``estimate=ASSUMED`` estimates the parameters whose provenance source starts with "assumed"
ASSUMED = "assumed"


def parameter_rows(
    model: Model, condition_targets: set[str], estimate: Sequence[str] | str = ()
) -> list[tuple[str, float, bool]]:
    """``(id, model value, estimated)`` of the parameter table (see the module docstring)."""
    from igfsim.analysis.parameter_scan import is_assumed, scannable_parameters

    listed = [p for p in scannable_parameters(model) if p not in condition_targets]
    if estimate == ASSUMED:
        chosen = {p for p in listed if is_assumed(model, p)}
    else:
        chosen = set(estimate)
        if unknown := sorted(chosen - set(listed)):
            raise PetabExportError(
                f"cannot estimate {', '.join(unknown)}: not a kinetic parameter of the model that no condition sets"
            )
    return [(p, float(model.parameters[p]), p in chosen) for p in listed]


def petab_problem(scenario: Scenario, model: Model, *, measurements: bool = True, estimate: Sequence[str] | str = ()):
    """The PEtab v2 problem of ``scenario`` as a :class:`petab.v2.core.Problem` (tables as the petab
    library's objects, with their file names set); :class:`PetabExportError` when petab finds errors."""
    import petab.v2.core as pc
    from petab.v2.models.sbml_model import SbmlModel

    tables = petab_tables(scenario, model, measurements=measurements)
    changes: dict[str, list] = {}
    for cid, target, value in tables["conditions"][1]:
        changes.setdefault(cid, []).append(pc.Change(target_id=target, target_value=value))
    periods: dict[str, list] = {}
    for eid, time, cid in tables["experiments"][1]:
        periods.setdefault(eid, []).append(pc.ExperimentPeriod(time=float(time), condition_ids=[cid] if cid else []))
    observables = [
        pc.Observable(id=oid, name=name, formula=formula, noise_formula=noise, noise_distribution=dist)
        for oid, name, formula, noise, dist in tables["observables"][1]
    ]
    data = [
        pc.Measurement(observable_id=oid, experiment_id=eid, time=float(t), measurement=float(v))
        for oid, eid, t, v in tables["measurements"][1]
    ]
    targets = {target for _, target, _ in tables["conditions"][1]}
    parameters = [
        pc.Parameter(
            id=pid,
            nominal_value=value,
            estimate=est,
            **({"lb": value / BOUND_FACTOR, "ub": value * BOUND_FACTOR} if est else {}),
        )
        for pid, value, est in parameter_rows(model, targets, estimate)
    ]
    sbml = SbmlModel.from_string(model.sbml, model_id=_pid(Path(model.path).stem))
    sbml.rel_path = FILES["model"]
    problem = pc.Problem(
        models=[sbml],
        condition_tables=[
            pc.ConditionTable(
                elements=[pc.Condition(id=k, changes=v) for k, v in changes.items()], rel_path=FILES["conditions"]
            )
        ],
        experiment_tables=[
            pc.ExperimentTable(
                elements=[pc.Experiment(id=k, periods=v) for k, v in periods.items()], rel_path=FILES["experiments"]
            )
        ],
        observable_tables=[pc.ObservableTable(elements=observables, rel_path=FILES["observables"])],
        measurement_tables=[pc.MeasurementTable(elements=data, rel_path=FILES["measurements"])],
        parameter_tables=[pc.ParameterTable(elements=parameters, rel_path=FILES["parameters"])],
        config=pc.ProblemConfig(filepath=FILES["problem"], format_version="2.0.0", id=_pid(scenario.name)),
    )
    if errors := [str(i) for i in problem.validate() if i.level >= _error_level()]:
        raise PetabExportError(f"the PEtab library finds the export of {scenario.name} invalid: {'; '.join(errors)}")
    return problem


def _error_level() -> int:
    from petab.v2.lint import ValidationIssueSeverity

    return int(ValidationIssueSeverity.ERROR)


def write_petab(
    scenario: Scenario,
    model: Model,
    folder: str | Path,
    *,
    measurements: bool = True,
    estimate: Sequence[str] | str = (),
) -> Path:
    """Write the PEtab v2 problem of ``scenario`` into ``folder`` (by the petab library); returns the path of
    ``problem.yaml``. ``estimate``: parameter ids to estimate, or ``"assumed"`` (module docstring)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    problem = petab_problem(scenario, model, measurements=measurements, estimate=estimate)
    problem.to_files(out)
    if not problem.measurements:  # petab writes an empty table as an empty file, which it cannot read back
        import pandas as pd
        from petab.v2 import C

        columns = [C.OBSERVABLE_ID, C.EXPERIMENT_ID, C.TIME, C.MEASUREMENT]
        pd.DataFrame(columns=columns).to_csv(out / FILES["measurements"], sep="\t", index=False)
    return out / FILES["problem"]
