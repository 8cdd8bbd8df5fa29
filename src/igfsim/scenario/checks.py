"""Check a scenario against a model: every unknown name or reference, gathered before raising."""

from __future__ import annotations

from igfsim.engines import ENGINES
from igfsim.errors import Issue, ScenarioError, did_you_mean
from igfsim.model.sbml import Model
from igfsim.scenario.contexts import CONTEXTS, EXPRESSION_PARAMETERS, context_hint
from igfsim.scenario.dataset import Dataset
from igfsim.scenario.drugs import OPTION_PARAMETERS, Drug, drug_hint, find_drug
from igfsim.scenario.observation import Observation
from igfsim.scenario.readouts import READOUTS
from igfsim.scenario.schema import Arm, Cell, Expectation, Scenario, Treatment
from igfsim.scenario.translate import MEDIUM


def check_cell(cell: Cell, where: str, model: Model) -> list[Issue]:
    issues = []
    if cell.context not in CONTEXTS:
        issues.append(
            Issue(
                f"{where}.context",
                f"unknown cell context {cell.context!r}{context_hint(cell.context)}; "
                f"expected one of: {', '.join(CONTEXTS)}",
            )
        )
    else:
        needed = [
            EXPRESSION_PARAMETERS[k]
            for k in {**CONTEXTS[cell.context].expression, **cell.expression}
            if k in EXPRESSION_PARAMETERS
        ]
        missing = sorted({pid for pid in needed if model.kind(pid) != "parameter"})
        if missing:
            issues.append(
                Issue(
                    f"{where}.context",
                    f"the model has no expression parameter(s) {', '.join(missing)} that context {cell.context!r} sets",
                )
            )
    for key in cell.expression:
        if key not in EXPRESSION_PARAMETERS:
            issues.append(
                Issue(
                    f"{where}.expression.{key}",
                    f"unknown expression key {key!r}"
                    f"{did_you_mean(key, EXPRESSION_PARAMETERS)}; expected one of: "
                    f"{', '.join(EXPRESSION_PARAMETERS)}",
                )
            )
    for sid in cell.initial:
        if model.kind(sid) != "species":
            issues.append(Issue(f"{where}.initial.{sid}", f"unknown species {sid!r}{model.suggest(sid, ('species',))}"))
    for pid in cell.parameters:
        if model.kind(pid) not in ("parameter", "compartment"):
            extra = " (it is computed by a rule; set what it depends on)" if model.kind(pid) == "assigned" else ""
            issues.append(
                Issue(
                    f"{where}.parameters.{pid}",
                    f"unknown parameter {pid!r}{extra}{model.suggest(pid, ('parameter', 'compartment'))}",
                )
            )
    return issues


def _unknown_medium_species(sid: str, where: str, model: Model) -> list[Issue]:
    medium = [s for s, c in model.species.items() if c == MEDIUM]
    if sid in medium:
        return []
    msg = f"unknown extracellular species {sid!r}{did_you_mean(sid, medium)}; expected one of: {', '.join(medium)}"
    return [Issue(where, msg)]


def _check_stimulus(stim: dict, where: str, model: Model) -> list[Issue]:
    return [i for sid in stim for i in _unknown_medium_species(sid, f"{where}.{sid}", model)]


def check_scenario(scenario: Scenario, model: Model) -> list[Issue]:
    """Every problem of names and references in ``scenario`` against ``model`` (never raises)."""
    issues = check_cell(scenario.cell, "cell", model) + _check_stimulus(scenario.stimulus, "stimulus", model)
    issues += _check_readouts(scenario, model)
    for a, arm in enumerate(scenario.arms):
        if arm.cell is not None:
            issues += check_cell(arm.cell, f"arms[{a}].cell", model)
        if arm.stimulus is not None:
            issues += _check_stimulus(arm.stimulus, f"arms[{a}].stimulus", model)
        issues += _check_treatments(arm, f"arms[{a}]", model)
        issues += _check_additions(arm, f"arms[{a}]", scenario, model)
    issues += _check_medium_change(scenario, model)
    selectable, parameters = set(model.all_ids()), set(model.parameters)
    for e, exp in enumerate(scenario.expect):
        issues += _check_expectation(exp, f"expect[{e}]", scenario, selectable, parameters)
    for o, obs in enumerate(scenario.observations):
        issues += _check_observation(obs, f"observations[{o}]", scenario, model)
    for d, data in enumerate(scenario.data):
        issues += _check_dataset(data, f"data[{d}]", scenario, model)
    return issues + _check_mechanism(scenario)


def _check_dataset(data: Dataset, where: str, scenario: Scenario, model: Model) -> list[Issue]:
    """Each row's arm and readout must exist and its minute lie on the scenario's output grid."""
    names = [a.name for a in scenario.arms]
    known = set(model.all_ids())
    sim = scenario.simulation
    step = sim.duration_min / (sim.points - 1)
    issues: list[Issue] = []
    for i, (arm, readout, t, *_) in enumerate(data.rows):
        at = f"{where}.rows[{i}]"
        if arm not in names:
            issues.append(Issue(at, f"unknown arm {arm!r}{did_you_mean(arm, names)}"))
        if readout not in known:
            issues.append(Issue(at, f"unknown readout {readout!r}{did_you_mean(readout, known)}"))
        k = t / step
        if t > sim.duration_min + 1e-9 or abs(k - round(k)) > 1e-6:
            issues.append(
                Issue(
                    at,
                    f"{t:g} min is not on the output grid (0 to {sim.duration_min:g} min in steps of {step:g}); "
                    "choose simulation.points so that every measured minute is a grid point",
                )
            )
    return issues


def _check_additions(arm: Arm, where: str, scenario: Scenario, model: Model) -> list[Issue]:
    """An addition names an extracellular species and a minute within the run."""
    issues: list[Issue] = []
    for k, add in enumerate(arm.additions):
        at = f"{where}.additions[{k}]"
        issues += _unknown_medium_species(add.species, f"{at}.species", model)
        if not 0.0 < add.minute <= scenario.simulation.duration_min:
            issues.append(
                Issue(
                    f"{at}.minute",
                    f"{add.minute:g} min is outside the run (after the stimulus at 0, up to "
                    f"simulation.duration_min = {scenario.simulation.duration_min:g}); "
                    "a species present from the start belongs in stimulus",
                )
            )
    return issues


def _check_medium_change(scenario: Scenario, model: Model) -> list[Issue]:
    if scenario.simulation.medium_change_min is None or MEDIUM in model.species.values():
        return []
    return [
        Issue(
            "simulation.medium_change_min",
            f"medium changes need a compartment {MEDIUM!r} holding the extracellular species; this model has none",
        )
    ]


def _check_readouts(scenario: Scenario, model: Model) -> list[Issue]:
    selectable = set(model.all_ids())
    issues = [
        Issue(f"readouts[{i}]", f"unknown readout {r!r}{did_you_mean(r, selectable)}")
        for i, r in enumerate(scenario.readouts or [])
        if r not in selectable
    ]
    if scenario.readouts is None and (missing := [r for r in READOUTS if r not in selectable]):
        issues.append(
            Issue(
                "readouts",
                f"the model lacks standard readout(s) {', '.join(missing)}; list the readouts to record explicitly",
            )
        )
    return issues


def _check_treatments(arm: Arm, where: str, model: Model) -> list[Issue]:
    """Unknown drugs, options that do not apply or conflict, drugs the model cannot carry, shared slots."""
    issues: list[Issue] = []
    slots: dict[str, str] = {}  # model slot -> the drug using it
    options: dict[str, tuple[int, bool]] = {}  # antibody option -> (treatment index, value)
    for t, tr in enumerate(arm.treatments):
        at = f"{where}.treatments[{t}]"
        drug = find_drug(tr.drug)
        if drug is None:
            issues.append(Issue(f"{at}.drug", f"unknown drug {tr.drug!r}{drug_hint(tr.drug)}"))
            continue
        issues += _check_options(tr, drug, t, at, options)
        action = drug.mode_of_action.value
        if absent := [i for i in (drug.slot, *drug.potency) if model.kind(i) is None]:
            msg = f"the model has no {', '.join(absent)} for {drug.name} ({action}) to act on"
            issues.append(Issue(f"{at}.drug", msg))
            continue
        prev = slots.setdefault(drug.slot, drug.name)
        if prev != drug.name:
            msg = (
                f"{drug.name} and {prev} act through the same model slot {drug.slot!r} with different potencies; "
                "combine one of them"
            )
            issues.append(Issue(f"{at}.drug", msg))
            slots[drug.slot] = drug.name
    return issues


def _check_options(tr: Treatment, drug: Drug, index: int, where: str, seen: dict[str, tuple[int, bool]]) -> list[Issue]:
    """Antibody options: only for drugs that have them, and one value per arm (one antibody slot)."""
    issues = []
    for opt in OPTION_PARAMETERS:
        chosen = getattr(tr, opt)
        if chosen is not None and opt not in drug.options:
            msg = f"option {opt!r} does not apply to {drug.name} ({drug.mode_of_action.value})"
            issues.append(Issue(f"{where}.{opt}", msg))
        elif opt in drug.options:
            value = drug.options[opt] if chosen is None else chosen
            if opt in seen and seen[opt][1] != value:
                msg = (
                    f"{opt}={value} conflicts with {opt}={seen[opt][1]} of treatments[{seen[opt][0]}]; "
                    "one arm has one antibody slot"
                )
                issues.append(Issue(f"{where}.{opt}", msg))
            seen.setdefault(opt, (index, value))
    return issues


def _check_expectation(
    exp: Expectation, where: str, scenario: Scenario, selectable: set[str], parameters: set[str]
) -> list[Issue]:
    """Time points inside the run, known readouts, arms that exist, engines that exist."""
    issues = []
    duration = scenario.simulation.duration_min
    if exp.metric.startswith("at_") and float(exp.metric[3:]) > duration:
        msg = (
            f"{exp.metric} asks for t = {float(exp.metric[3:]):g} min, "
            f"after the end of the simulation ({duration:g} min)"
        )
        issues.append(Issue(f"{where}.metric", msg))
    if exp.readout not in selectable:
        msg = f"unknown readout {exp.readout!r}{did_you_mean(exp.readout, selectable)}"
        issues.append(Issue(f"{where}.readout", msg))
    names = {a.name for a in scenario.arms}
    for key in ("arm", "vs", "normalize", "vs_normalize", "arms"):
        val = getattr(exp, key)
        for name in val if isinstance(val, list) else [val] if val else []:
            if name not in names:
                msg = f"no arm named {name!r}{did_you_mean(name, names)}; arms are: {', '.join(sorted(names))}"
                issues.append(Issue(f"{where}.{key}", msg))
    engine_names = list(ENGINES)
    for key, engines in (
        ("known_failure_engines", exp.known_failure_engines or []),
        ("not_expressible", list(exp.not_expressible or {})),
    ):
        for eng in engines:
            if eng not in engine_names:
                msg = f"unknown engine {eng!r}{did_you_mean(eng, engine_names)}; engines are: {', '.join(engine_names)}"
                issues.append(Issue(f"{where}.{key}", msg))
    for item in exp.fragile_under or []:
        pid = item.split(" ")[0]
        if pid not in parameters:
            msg = f"unknown parameter {pid!r}{did_you_mean(pid, parameters)} in {item!r}"
            issues.append(Issue(f"{where}.fragile_under", msg))
    return issues


def _check_observation(obs: Observation, where: str, scenario: Scenario, model: Model) -> list[Issue]:
    """Arms, readout, drug and ligand an observation names must exist (and the dose series be there)."""
    names = [a.name for a in scenario.arms]
    issues = [
        Issue(f"{where}.{key}", f"unknown arm {arm!r}{did_you_mean(arm, names)}")
        for key in ("arm", "vs", "control")
        if (arm := getattr(obs, key)) is not None and arm not in names
    ]
    if obs.readout not in set(model.all_ids()):
        issues.append(
            Issue(f"{where}.readout", f"unknown readout {obs.readout!r}{did_you_mean(obs.readout, model.all_ids())}")
        )
    if obs.drug is not None:
        dosed = [a.name for a in scenario.arms if any(t.drug == obs.drug and t.dose_nM > 0 for t in a.treatments)]
        if len(dosed) < 2:
            issues.append(
                Issue(f"{where}.drug", f"an ic50 needs at least 2 arms dosed with {obs.drug!r}, found {len(dosed)}")
            )
    if obs.ligand is not None:
        medium = [s for s, c in model.species.items() if c == MEDIUM]
        if obs.ligand not in medium:
            issues.append(
                Issue(
                    f"{where}.ligand", f"unknown extracellular species {obs.ligand!r}{did_you_mean(obs.ligand, medium)}"
                )
            )
        else:
            levels = {
                (a.stimulus if a.stimulus is not None else scenario.stimulus).get(obs.ligand, 0.0)
                for a in scenario.arms
            }
            if len(levels - {0.0}) < 2:
                issues.append(Issue(f"{where}.ligand", f"an ec50 needs arms at 2 or more {obs.ligand} concentrations"))
    return issues


def _check_mechanism(scenario: Scenario) -> list[Issue]:
    mech = scenario.mechanism
    if mech is None or not mech.id or not scenario.claims or mech.id in scenario.claims:
        return []
    msg = (
        f"{mech.id!r} is not one of the scenario's claims "
        f"({', '.join(scenario.claims)}){did_you_mean(mech.id, scenario.claims)}"
    )
    return [Issue("mechanism.id", msg)]


def validate_scenario(scenario: Scenario, model: Model, source: str = "<scenario>") -> Scenario:
    """Raise :class:`ScenarioError` with all issues if ``scenario`` does not fit ``model``."""
    if issues := check_scenario(scenario, model):
        raise ScenarioError(source, issues)
    return scenario
