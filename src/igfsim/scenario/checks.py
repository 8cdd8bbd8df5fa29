"""Check a scenario against a model: every unknown name or reference, gathered before raising."""

from __future__ import annotations

from collections.abc import Mapping

from igfsim.engines import ENGINES
from igfsim.errors import Issue, ScenarioError, did_you_mean
from igfsim.model.mapping import TREATMENT_OPTIONS
from igfsim.model.sbml import Model
from igfsim.scenario.catalog import Catalog, catalog_for
from igfsim.scenario.dataset import Dataset
from igfsim.scenario.drugs import Drug
from igfsim.scenario.loading import ARM_KEYS, no_arm
from igfsim.scenario.observation import Observation
from igfsim.scenario.schema import Arm, Cell, Expectation, Scenario, Treatment


def _unknown_expression_key(key: str, where: str, model: Model) -> Issue:
    keys = model.mapping.expression
    expected = f"expected one of: {', '.join(keys)}" if keys else f"{model.mapping.what()} declares no expression keys"
    return Issue(where, f"unknown expression key {key!r}{did_you_mean(key, keys)}; {expected}")


def check_cell(cell: Cell, where: str, model: Model, catalog: Catalog) -> list[Issue]:
    issues = []
    context = catalog.contexts.get(cell.context)
    if context is None:
        issues.append(Issue(f"{where}.context", catalog.unknown_context(cell.context)))
    else:
        if bad := [k for k in context.expression if k not in model.mapping.expression]:
            issues += [
                Issue(f"{where}.context", f"context {cell.context!r} ({context.origin}) scales {msg.message}")
                for msg in (_unknown_expression_key(k, where, model) for k in bad)
            ]
        issues += [
            Issue(
                f"{where}.context",
                f"context {cell.context!r} ({context.origin}) sets {pid!r}, which is not a parameter of the model"
                f"{model.suggest(pid, ('parameter', 'compartment'))}",
            )
            for pid in context.parameters
            if model.kind(pid) not in ("parameter", "compartment")
        ]
    for key in cell.expression:
        if key not in model.mapping.expression:
            issues.append(_unknown_expression_key(key, f"{where}.expression.{key}", model))
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
    medium = [s for s, c in model.species.items() if c == model.mapping.medium]
    if sid in medium:
        return []
    msg = f"unknown extracellular species {sid!r}{did_you_mean(sid, medium)}; expected one of: {', '.join(medium)}"
    return [Issue(where, msg)]


def _check_stimulus(stim: dict, where: str, model: Model) -> list[Issue]:
    return [i for sid in stim for i in _unknown_medium_species(sid, f"{where}.{sid}", model)]


def check_scenario(scenario: Scenario, model: Model) -> list[Issue]:
    """Every problem of names and references in ``scenario`` against ``model`` (never raises)."""
    catalog = catalog_for(scenario)
    issues = check_cell(scenario.cell, "cell", model, catalog) + _check_stimulus(scenario.stimulus, "stimulus", model)
    issues += _check_readouts(scenario, model)
    for a, arm in enumerate(scenario.arms):
        if arm.cell is not None:
            issues += check_cell(arm.cell, f"arms[{a}].cell", model, catalog)
        if arm.stimulus is not None:
            issues += _check_stimulus(arm.stimulus, f"arms[{a}].stimulus", model)
        issues += _check_treatments(arm, f"arms[{a}]", model, catalog)
        issues += _check_windows(arm, f"arms[{a}]", scenario.simulation.duration_min)
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
    medium = model.mapping.medium
    if scenario.simulation.medium_change_min is None or medium in model.species.values():
        return []
    return [
        Issue(
            "simulation.medium_change_min",
            f"medium changes need a compartment {medium!r} holding the extracellular species; this model has none",
        )
    ]


def _check_readouts(scenario: Scenario, model: Model) -> list[Issue]:
    selectable = set(model.all_ids())
    issues = [
        Issue(f"readouts[{i}]", f"unknown readout {r!r}{did_you_mean(r, selectable)}")
        for i, r in enumerate(scenario.readouts or [])
        if r not in selectable
    ]
    if scenario.readouts is None and not model.mapping.readouts:
        msg = f"{model.mapping.what()} names no standard readouts; list the readouts to record (model ids)"
        issues.append(Issue("readouts", msg))
    return issues


def _check_treatments(arm: Arm, where: str, model: Model, catalog: Catalog) -> list[Issue]:
    """Unknown drugs, options that do not apply or conflict, drugs the model cannot carry, shared slots."""
    issues: list[Issue] = []
    slots: dict[str, str] = {}  # model slot -> the drug using it
    options: dict[str, tuple[int, bool]] = {}  # antibody option -> (treatment index, value)
    for t, tr in enumerate(arm.treatments):
        at = f"{where}.treatments[{t}]"
        drug = catalog.find_drug(tr.drug)
        if drug is None:
            issues.append(Issue(f"{at}.drug", catalog.unknown_drug(tr.drug)))
            continue
        if problem := drug_problem(drug, model):
            issues.append(Issue(f"{at}.drug", problem))
            continue
        mode = model.mapping.modes_of_action[drug.mode_of_action]
        issues += _check_options(tr, drug, mode.options, t, at, options)
        prev = slots.setdefault(mode.slot, drug.name)
        if prev != drug.name:
            msg = (
                f"{drug.name} and {prev} act through the same model slot {mode.slot!r} with different potencies; "
                "combine one of them"
            )
            issues.append(Issue(f"{at}.drug", msg))
            slots[mode.slot] = drug.name
    return issues


def _check_windows(arm: Arm, where: str, duration: float) -> list[Issue]:
    """A treatment that starts after the simulated window would never act: refused, not dropped."""
    return [
        Issue(
            f"{where}.treatments[{t}].start_min",
            f"{tr.start_min:g} min is after the end of the simulation ({duration:g} min); the drug would never act",
        )
        for t, tr in enumerate(arm.treatments)
        if tr.start_min > duration
    ]


def drug_problem(drug: Drug, model: Model) -> str | None:
    """Why ``model`` cannot carry ``drug`` (an unknown mode of action, potency parameters that do not fit
    it), or ``None``. A drug's default options that the mode has no parameter for are not used (e.g.
    binding to hybrids, in a model without hybrids); a treatment that sets one is refused."""
    modes = model.mapping.modes_of_action
    mode = modes.get(drug.mode_of_action)
    origin = f" ({drug.origin})" if drug.origin else ""
    if mode is None:
        expected = f"expected one of: {', '.join(modes)}" if modes else "it declares none"
        return (
            f"{drug.name}{origin} acts as {drug.mode_of_action!r}, which is not a mode of action of "
            f"{model.mapping.what()}{did_you_mean(drug.mode_of_action, modes)}; {expected}"
        )
    problems = []
    if extra := sorted(set(drug.potency) - set(mode.potency)):
        problems.append(f"sets {', '.join(extra)}, not a potency parameter of {mode.name} ({', '.join(mode.potency)})")
    if missing := [p for p in mode.potency if p not in drug.potency]:
        problems.append(f"gives no value for {', '.join(missing)}")
    return f"{drug.name}{origin}: " + "; ".join(problems) if problems else None


def _check_options(
    tr: Treatment, drug: Drug, known: Mapping[str, str], index: int, where: str, seen: dict[str, tuple[int, bool]]
) -> list[Issue]:
    """Treatment options: only for drugs that have them, and one value per arm (one antibody slot)."""
    issues = []
    for opt in TREATMENT_OPTIONS:
        chosen = getattr(tr, opt)
        if chosen is not None and opt not in drug.options:
            msg = f"option {opt!r} does not apply to {drug.name} ({drug.mode_of_action})"
            issues.append(Issue(f"{where}.{opt}", msg))
        elif chosen is not None and opt not in known:
            msg = f"option {opt!r}: the model's {drug.mode_of_action} has no parameter for it (its mapping's options)"
            issues.append(Issue(f"{where}.{opt}", msg))
        elif opt in drug.options and opt in known:
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
    for key in ARM_KEYS:
        val = getattr(exp, key)
        for name in val if isinstance(val, list) else [val] if val else []:
            if name not in names:
                issues.append(Issue(f"{where}.{key}", no_arm(name, names)))
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
        medium = [s for s, c in model.species.items() if c == model.mapping.medium]
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
