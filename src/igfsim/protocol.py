"""Turn a scenario arm into an engine-neutral :class:`Protocol` of timed changes.

Semantics (shared by every engine):

* ``overrides`` (context expression, parameters, drug potencies and options) are applied first;
  species with initial assignments are then re-initialised from them; ``initial`` sets species.
* With pre-equilibration the cell runs ligand-free and drug-free to steady state; that state is
  the cell at the protocol's start.
* ``events`` happen at their times; a value recorded at an event time is the value just after it.
  The stimulus is applied at t = 0; a drug at ``start_min`` (negative = pre-treatment, before the
  stimulus) and, at ``stop_min``, washed out (free antibody removed / inhibitor set to 0).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np

from .contexts import CONTEXTS, EXPRESSION_PARAMETERS
from .drugs import OPTION_PARAMETERS, find_drug
from .model import Model
from .scenario import Arm, Cell, Scenario


@dataclass(frozen=True)
class Change:
    """Set (or add to) a species concentration or a parameter value."""

    target: str
    value: float
    kind: Literal["species", "parameter"]
    mode: Literal["set", "add"] = "set"


@dataclass(frozen=True)
class Event:
    """Changes applied together at one time (minutes)."""

    time: float
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Protocol:
    """Everything an engine needs to simulate one arm."""

    overrides: MappingProxyType
    initial: MappingProxyType
    preequilibrate: bool
    events: tuple[Event, ...]
    t_start: float
    times: np.ndarray
    selections: tuple[str, ...]
    rtol: float = 1e-8
    atol: float = 1e-10
    preequilibration_max_min: float = 1e6
    label: str = ""


def _merged_cell(scenario: Scenario, arm: Arm) -> Cell:
    base, over = scenario.cell, arm.cell
    if over is None:
        return base
    # an arm's cell replaces the context; its overrides are added on top of the scenario's
    return Cell(context=over.context if "context" in over.model_fields_set else base.context,
                expression={**base.expression, **over.expression},
                initial={**base.initial, **over.initial},
                parameters={**base.parameters, **over.parameters})


def cell_overrides(cell: Cell) -> dict[str, float]:
    """Parameter values that a cell description implies (context, expression, parameters)."""
    ctx = CONTEXTS[cell.context]
    mult: dict[str, float] = defaultdict(lambda: 1.0)
    for key, m in ctx.expression.items():
        mult[key] *= m
    for key, m in cell.expression.items():
        mult[key] *= m
    values = {EXPRESSION_PARAMETERS[k]: v for k, v in mult.items()}
    values.update(ctx.parameters)
    values.update(cell.parameters)
    return values


def build_protocol(model: Model, scenario: Scenario, arm: Arm) -> Protocol:
    """The protocol of one arm (assumes the scenario was validated against the model)."""
    cell = _merged_cell(scenario, arm)
    overrides: dict[str, float] = {}
    stimulus = scenario.stimulus if arm.stimulus is None else arm.stimulus
    at: dict[float, list[Change]] = defaultdict(list)
    for sid, conc in stimulus.items():
        at[0.0].append(Change(sid, float(conc), "species", "set"))
    for tr in arm.treatments:
        drug = find_drug(tr.drug)
        overrides.update(drug.potency)
        for opt, pid in OPTION_PARAMETERS.items():
            if opt in drug.options:
                chosen = getattr(tr, opt)
                overrides[pid] = float(drug.options[opt] if chosen is None else chosen)
        kind = "species" if drug.slot_is_species else "parameter"
        at[float(tr.start_min)].append(Change(drug.slot, float(tr.dose_nM), kind, "add"))
        if tr.stop_min is not None:
            if drug.slot_is_species:
                at[float(tr.stop_min)].append(Change(drug.slot, 0.0, kind, "set"))
            else:
                at[float(tr.stop_min)].append(Change(drug.slot, -float(tr.dose_nM), kind, "add"))
    # explicit cell settings win over drug potencies and options (e.g. trying another Ki)
    overrides.update(cell_overrides(cell))
    sim = scenario.simulation
    times = np.linspace(0.0, sim.duration_min, sim.points)
    events = tuple(Event(t, tuple(ch)) for t, ch in sorted(at.items()) if t <= sim.duration_min)
    t_start = min([0.0, *(e.time for e in events)])
    return Protocol(overrides=MappingProxyType(overrides), initial=MappingProxyType(dict(cell.initial)),
                    preequilibrate=sim.preequilibrate, events=events, t_start=t_start, times=times,
                    selections=tuple(scenario.selected_readouts()), rtol=sim.rtol, atol=sim.atol,
                    preequilibration_max_min=sim.preequilibration_max_min, label=f"{scenario.name}/{arm.name}")


@dataclass(frozen=True)
class Segment:
    """One stretch between event times: apply ``event`` at ``start``, integrate over ``grid``,
    and record the rows of ``grid`` at positions ``take`` into the output rows ``rows``."""

    start: float
    end: float
    event: Event | None
    grid: np.ndarray
    rows: np.ndarray
    take: np.ndarray


def segments(protocol: Protocol) -> list[Segment]:
    """Split a protocol's time span at its event times (shared by every ODE engine).

    Output times inside ``[start, end)`` belong to a segment (the last segment also takes its
    end), so a value recorded at an event time is the value just after the event.
    """
    out_t = np.asarray(protocol.times, dtype=float)
    bounds = sorted({protocol.t_start, *[e.time for e in protocol.events if e.time > protocol.t_start], out_t[-1]})
    events = {e.time: e for e in protocol.events}
    result = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        last = i == len(bounds) - 2
        mask = (out_t >= a) & ((out_t <= b) if last else (out_t < b))
        grid = np.unique(np.concatenate([[a], out_t[mask], [b]]))
        result.append(Segment(a, b, events.get(a), grid, np.flatnonzero(mask), np.searchsorted(grid, out_t[mask])))
    return result
