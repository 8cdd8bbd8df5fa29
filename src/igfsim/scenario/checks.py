"""Check a scenario against a model: every unknown name or reference, gathered before raising."""

from __future__ import annotations

from igfsim.errors import Issue, ScenarioError, did_you_mean
from igfsim.model.sbml import Model
from igfsim.scenario.contexts import CONTEXTS, EXPRESSION_PARAMETERS, context_hint
from igfsim.scenario.drugs import OPTION_PARAMETERS, drug_hint, find_drug
from igfsim.scenario.readouts import READOUTS
from igfsim.scenario.schema import Cell, Scenario


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


def _check_stimulus(stim: dict, where: str, model: Model) -> list[Issue]:
    medium = [s for s, c in model.species.items() if c == "medium"]
    return [
        Issue(
            f"{where}.{sid}",
            f"unknown extracellular species {sid!r}{did_you_mean(sid, medium)}; expected one of: {', '.join(medium)}",
        )
        for sid in stim
        if sid not in medium
    ]


def check_scenario(scenario: Scenario, model: Model) -> list[Issue]:
    """Every problem of names and references in ``scenario`` against ``model`` (never raises)."""
    issues = check_cell(scenario.cell, "cell", model) + _check_stimulus(scenario.stimulus, "stimulus", model)
    selectable = set(model.all_ids())
    for i, r in enumerate(scenario.readouts or []):
        if r not in selectable:
            issues.append(Issue(f"readouts[{i}]", f"unknown readout {r!r}{did_you_mean(r, selectable)}"))
    if scenario.readouts is None:
        missing = [r for r in READOUTS if r not in selectable]
        if missing:
            issues.append(
                Issue(
                    "readouts",
                    f"the model lacks standard readout(s) {', '.join(missing)}; list the readouts to record explicitly",
                )
            )
    for a, arm in enumerate(scenario.arms):
        if arm.cell is not None:
            issues += check_cell(arm.cell, f"arms[{a}].cell", model)
        if arm.stimulus is not None:
            issues += _check_stimulus(arm.stimulus, f"arms[{a}].stimulus", model)
        slots: dict[str, tuple[str, dict]] = {}
        options: dict[str, tuple[int, bool]] = {}
        for t, tr in enumerate(arm.treatments):
            where = f"arms[{a}].treatments[{t}]"
            drug = find_drug(tr.drug)
            if drug is None:
                issues.append(Issue(f"{where}.drug", f"unknown drug {tr.drug!r}{drug_hint(tr.drug)}"))
                continue
            for opt in OPTION_PARAMETERS:
                chosen = getattr(tr, opt)
                if chosen is not None and opt not in drug.options:
                    issues.append(
                        Issue(
                            f"{where}.{opt}",
                            f"option {opt!r} does not apply to {drug.name} ({drug.mode_of_action.value})",
                        )
                    )
                elif opt in drug.options:
                    value = drug.options[opt] if chosen is None else chosen
                    if opt in options and options[opt][1] != value:
                        issues.append(
                            Issue(
                                f"{where}.{opt}",
                                f"{opt}={value} conflicts with {opt}={options[opt][1]} "
                                f"of treatments[{options[opt][0]}]; one arm has one "
                                "antibody slot",
                            )
                        )
                    options.setdefault(opt, (t, value))
            absent = [i for i in (drug.slot, *drug.potency) if model.kind(i) is None]
            if absent:
                issues.append(
                    Issue(
                        f"{where}.drug",
                        f"the model has no {', '.join(absent)} for {drug.name} ({drug.mode_of_action.value}) to act on",
                    )
                )
                continue
            prev = slots.get(drug.slot)
            if prev and (prev[0] != drug.name):
                issues.append(
                    Issue(
                        f"{where}.drug",
                        f"{drug.name} and {prev[0]} act through the same model slot "
                        f"{drug.slot!r} with different potencies; combine one of them",
                    )
                )
            slots[drug.slot] = (drug.name, dict(drug.potency))
    from igfsim.engines import ENGINES  # not at module level: engines -> protocol -> scenario

    engine_names = list(ENGINES)
    names = {a.name for a in scenario.arms}
    duration = scenario.simulation.duration_min
    for e, exp in enumerate(scenario.expect):
        if exp.metric.startswith("at_") and float(exp.metric[3:]) > duration:
            issues.append(
                Issue(
                    f"expect[{e}].metric",
                    f"{exp.metric} asks for t = {float(exp.metric[3:]):g} min, "
                    f"after the end of the simulation ({duration:g} min)",
                )
            )
        if exp.readout not in selectable:
            issues.append(
                Issue(f"expect[{e}].readout", f"unknown readout {exp.readout!r}{did_you_mean(exp.readout, selectable)}")
            )
        for key in ("arm", "vs", "normalize", "vs_normalize", "arms"):
            val = getattr(exp, key)
            for name in val if isinstance(val, list) else [val] if val else []:
                if name not in names:
                    issues.append(
                        Issue(
                            f"expect[{e}].{key}",
                            f"no arm named {name!r}{did_you_mean(name, names)}; arms are: {', '.join(sorted(names))}",
                        )
                    )
        for key, engines in (
            ("known_failure_engines", exp.known_failure_engines or []),
            ("not_expressible", list(exp.not_expressible or {})),
        ):
            for eng in engines:
                if eng not in engine_names:
                    issues.append(
                        Issue(
                            f"expect[{e}].{key}",
                            f"unknown engine {eng!r}"
                            f"{did_you_mean(eng, engine_names)}; engines are: "
                            f"{', '.join(engine_names)}",
                        )
                    )
    mech = scenario.mechanism
    if mech is not None and mech.id and scenario.claims and mech.id not in scenario.claims:
        issues.append(
            Issue(
                "mechanism.id",
                f"{mech.id!r} is not one of the scenario's claims "
                f"({', '.join(scenario.claims)}){did_you_mean(mech.id, scenario.claims)}",
            )
        )
    return issues


def validate_scenario(scenario: Scenario, model: Model, source: str = "<scenario>") -> Scenario:
    """Raise :class:`ScenarioError` with all issues if ``scenario`` does not fit ``model``."""
    if issues := check_scenario(scenario, model):
        raise ScenarioError(source, issues)
    return scenario
