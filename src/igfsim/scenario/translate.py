"""Translate a scenario arm into an engine-neutral :class:`~igfsim.engines.protocol.Protocol`."""

from __future__ import annotations

from collections import defaultdict
from types import MappingProxyType
from typing import Literal

import numpy as np

from igfsim.engines.protocol import Change, Event, Protocol
from igfsim.model.mapping import ModeOfActionSlot
from igfsim.model.sbml import Model
from igfsim.scenario.catalog import Catalog, catalog_for
from igfsim.scenario.schema import Arm, Cell, Scenario

#: the bundled model's compartment of extracellular species (a model's own is ``model.mapping.medium``)
MEDIUM = "medium"


def _merged_cell(scenario: Scenario, arm: Arm) -> Cell:
    base, over = scenario.cell, arm.cell
    if over is None:
        return base
    # an arm's cell replaces the context; its overrides are added on top of the scenario's
    return Cell(
        context=over.context if "context" in over.model_fields_set else base.context,
        expression={**base.expression, **over.expression},
        initial={**base.initial, **over.initial},
        parameters={**base.parameters, **over.parameters},
    )


def cell_overrides(cell: Cell, model: Model, catalog: Catalog) -> dict[str, float]:
    """Parameter values that a cell description implies (context, expression, parameters)."""
    ctx = catalog.contexts[cell.context]
    mult: dict[str, float] = defaultdict(lambda: 1.0)
    for key, m in ctx.expression.items():
        mult[key] *= m
    for key, m in cell.expression.items():
        mult[key] *= m
    values = {model.mapping.expression[k]: v for k, v in mult.items()}
    values.update(ctx.parameters)
    values.update(cell.parameters)
    return values


def medium_changes(
    model: Model, stimulus: dict[str, float], arm: Arm, every: float, duration: float, cell: Cell, catalog: Catalog
) -> list[tuple[float, list[Change]]]:
    """Fresh medium at ``every``, ``2 * every``, ... minutes (before the end of the run).

    Every species of the medium compartment is set: a stimulus species to its stimulus
    concentration, an antibody (species-slot) drug to the sum of the doses being given at that
    time, a species the arm's ``initial`` sets to that value, and every other species (ligand
    bound to IGFBPs or antibodies, ligand the cells secreted) to 0. Changes come before any other
    change at the same time, so a treatment starting then is added to the fresh medium once.
    """
    out = []
    k = 1
    while k * every < duration:
        t = k * every
        fresh = {sid: 0.0 for sid, comp in model.species.items() if comp == model.mapping.medium}
        fresh.update({sid: v for sid, v in cell.initial.items() if sid in fresh})
        fresh.update({sid: float(v) for sid, v in stimulus.items()})
        for tr in arm.treatments:
            mode = mode_of(model, catalog, tr.drug)
            if mode.slot_is_species and tr.start_min < t and (tr.stop_min is None or t < tr.stop_min):
                fresh[mode.slot] = fresh.get(mode.slot, 0.0) + float(tr.dose_nM)
        out.append((t, [Change(sid, v, "species", "set") for sid, v in sorted(fresh.items())]))
        k += 1
    return out


def mode_of(model: Model, catalog: Catalog, drug: str) -> ModeOfActionSlot:
    """How ``drug`` reaches the model (assumes the scenario was validated against it)."""
    return model.mapping.modes_of_action[catalog.get_drug(drug).mode_of_action]


def build_protocol(model: Model, scenario: Scenario, arm: Arm) -> Protocol:
    """The protocol of one arm (assumes the scenario was validated against the model)."""
    catalog = catalog_for(scenario)
    cell = _merged_cell(scenario, arm)
    overrides: dict[str, float] = {}
    stimulus = scenario.stimulus if arm.stimulus is None else arm.stimulus
    at: dict[float, list[Change]] = defaultdict(list)
    for sid, conc in stimulus.items():
        at[0.0].append(Change(sid, float(conc), "species", "set"))
    for add in arm.additions:
        at[float(add.minute)].append(Change(add.species, float(add.nM), "species", "add"))
    for tr in arm.treatments:
        drug = catalog.get_drug(tr.drug)
        mode = model.mapping.modes_of_action[drug.mode_of_action]
        overrides.update(drug.potency)
        for opt, pid in mode.options.items():
            if opt in drug.options:
                chosen = getattr(tr, opt)
                overrides[pid] = float(drug.options[opt] if chosen is None else chosen)
        kind: Literal["species", "parameter"] = "species" if mode.slot_is_species else "parameter"
        at[float(tr.start_min)].append(Change(mode.slot, float(tr.dose_nM), kind, "add"))
        if tr.stop_min is not None:
            if mode.slot_is_species:
                at[float(tr.stop_min)].append(Change(mode.slot, 0.0, kind, "set"))
            else:
                at[float(tr.stop_min)].append(Change(mode.slot, -float(tr.dose_nM), kind, "add"))
    # explicit cell settings win over drug potencies and options (e.g. trying another Ki)
    overrides.update(cell_overrides(cell, model, catalog))
    sim = scenario.simulation
    if sim.medium_change_min is not None and arm.medium_change:
        every, end = sim.medium_change_min, sim.duration_min
        for t, changes in medium_changes(model, stimulus, arm, every, end, cell, catalog):
            at[t] = [*changes, *at[t]]
    times = np.linspace(0.0, sim.duration_min, sim.points)
    events = tuple(Event(t, tuple(ch)) for t, ch in sorted(at.items()) if t <= sim.duration_min)
    t_start = min([0.0, *(e.time for e in events)])
    return Protocol(
        overrides=MappingProxyType(overrides),
        initial=MappingProxyType(dict(cell.initial)),
        preequilibrate=sim.preequilibrate,
        events=events,
        t_start=t_start,
        times=times,
        selections=tuple(scenario.selected_readouts(model.mapping.readouts)),
        rtol=sim.rtol,
        atol=sim.atol,
        preequilibration_max_min=sim.preequilibration_max_min,
        label=f"{scenario.name}/{arm.name}",
    )
