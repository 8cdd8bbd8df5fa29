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

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np

#: the ODE solvers' step limit per integration call (CVODE's ``maximum_num_steps``, LSODA's ``mxstep``)
MAX_STEPS = 100000


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


def final_event(protocol: Protocol) -> Event | None:
    """The event at the last output time, if that is after the start (shared by every ODE engine).

    :func:`segments` ends at the last output time, so this event is in no segment: an engine
    applies it after the last segment and records the last row again (the value just after it).
    """
    last = float(np.asarray(protocol.times, dtype=float)[-1])
    events = {e.time: e for e in protocol.events}
    return events[last] if last in events and last > protocol.t_start else None
