"""Pre-equilibration shared by the ODE engines: run the ligand-free, drug-free cell to steady state.

An engine hands :func:`preequilibrate` its integrator wrapped as a :class:`Trajectory` (one
current state it can advance, read the rates of and rewind); everything else, the attempts, the
steady-state and divergence tests and the error messages, is here once.

One long integration per attempt (solver restarts from a near-steady state are where CVODE's
corrector fails on the IGF model), the first over :data:`FIRST_SPAN_MIN`, each next one
:data:`SPAN_GROWTH` times longer, up to the protocol's ``preequilibration_max_min``. When the
solver fails, the failed attempt is replayed in short, doubling steps to tell a divergent network
(an error naming the time it passed :data:`DIVERGENCE_BOUND`) from a plain solver failure.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol as _Proto

import numpy as np

from igfsim.engines.protocol import Protocol
from igfsim.errors import SimulationError

#: a steady state is reached when every species changes by less than this fraction per minute
STEADY_REL_RATE = 1e-7
#: concentrations (nM) above this mean the network diverges
DIVERGENCE_BOUND = 1e12
#: length (min) of the first pre-equilibration attempt
FIRST_SPAN_MIN = 1e5
#: each further attempt is this many times longer than the one before
SPAN_GROWTH = 10
#: after a solver failure the attempt is replayed over this many minutes ...
REPLAY_HORIZON_MIN = 1e5
#: ... in steps starting at this length (min), each twice the one before
REPLAY_FIRST_STEP_MIN = 1.0

_DIVERGED = "pre-equilibration diverged: concentrations grow without bound"
_BOUND_TEXT = f"{DIVERGENCE_BOUND:.0e}".replace("e+", "e")  # "1e12"
_CHECK_OVERRIDES = "check the cell's parameter overrides"


class StepFailure(Exception):
    """The solver failed on one step; ``str(err)`` is its message as the error report quotes it.

    An internal signal between an engine's :class:`Trajectory` and :func:`preequilibrate`, which
    always turns it into a :class:`igfsim.errors.SimulationError`: it never leaves ``engines/``.
    """


class Trajectory(_Proto):
    """What pre-equilibration needs from an ODE engine: one current state, advanced in place."""

    @property
    def species(self) -> Sequence[str]:
        """The ids of the state's entries, in order."""
        ...

    def state(self) -> np.ndarray:
        """The current concentrations (a copy, or an array the next step does not modify)."""
        ...

    def restore(self, x: np.ndarray) -> None:
        """Make ``x`` (an earlier :meth:`state`) the current state again."""
        ...

    def advance(self, t0: float, t1: float) -> np.ndarray:
        """Integrate the current state from ``t0`` to ``t1`` and return the new current state.

        Raises :class:`StepFailure` when the solver fails.
        """
        ...

    def rates(self, t: float) -> np.ndarray:
        """d/dt of the current state at time ``t``."""
        ...


def _diverged(x: np.ndarray) -> bool:
    return not np.all(np.isfinite(x)) or np.abs(x).max(initial=0.0) > DIVERGENCE_BOUND


def _error(engine: str, protocol: Protocol, msg: str, t: float) -> SimulationError:
    return SimulationError(msg, engine=engine, run_id=protocol.label, t_reached=t)


def preequilibrate(traj: Trajectory, protocol: Protocol, engine: str) -> np.ndarray:
    """Integrate ``traj`` from t = 0 until no species changes any more; return that state.

    Raises :class:`SimulationError` (of ``engine``, for ``protocol.label``) when the network
    diverges, the solver fails, or no steady state is reached within ``protocol.preequilibration_max_min``.
    """
    limit = protocol.preequilibration_max_min
    t, span = 0.0, min(FIRST_SPAN_MIN, limit)
    rel = np.zeros(1)
    while t < limit:
        x0 = traj.state()
        try:
            x = traj.advance(t, t + span)
        except StepFailure as err:
            raise _diagnose(traj, protocol, engine, t, x0, err) from None
        t += span
        if _diverged(x):
            raise _error(engine, protocol, f"{_DIVERGED}; {_CHECK_OVERRIDES}", t)
        rel = np.abs(traj.rates(t)) / (np.abs(x) + 1e-6)
        if rel.max(initial=0.0) < STEADY_REL_RATE:
            return x
        span = min(span * SPAN_GROWTH, limit - t)
    worst = traj.species[int(np.argmax(rel))]
    raise _error(
        engine,
        protocol,
        f"no steady state reached within {limit:g} min of "
        f"ligand-free, drug-free pre-equilibration ({worst} still changes by "
        f"{rel.max():.2g} of its value per minute); the cell context or parameter "
        "overrides may make the network oscillate or grow without bound",
        t,
    )


def _diagnose(
    traj: Trajectory, protocol: Protocol, engine: str, t0: float, x0: np.ndarray, err: StepFailure
) -> SimulationError:
    """After the solver failed from ``x0`` at ``t0``: replay in short steps to tell divergence from a solver failure."""
    traj.restore(x0)
    t, span = t0, REPLAY_FIRST_STEP_MIN
    try:
        while t < t0 + REPLAY_HORIZON_MIN:
            x = traj.advance(t, t + span)
            t += span
            if _diverged(x):
                return _error(
                    engine,
                    protocol,
                    f"{_DIVERGED} (above {_BOUND_TEXT} nM by t = {t:.4g} min); {_CHECK_OVERRIDES}",
                    t,
                )
            span *= 2
    except StepFailure:
        pass
    return _error(engine, protocol, f"pre-equilibration failed after t = {t:.6g} min: {err}", t)


# ------------------------------------------------------------------------------ steady-state cache


@dataclass(frozen=True)
class CellKey:
    """What a drug-free, ligand-free steady state depends on: the model, the engine (and its variant),
    the cell's parameter overrides and initial species, and the solver settings of pre-equilibration."""

    model: str  # the model's sha256
    engine: str
    overrides: tuple[tuple[str, float], ...]
    initial: tuple[tuple[str, float], ...]
    rtol: float
    atol: float
    max_min: float

    @classmethod
    def of(cls, model_sha256: str, engine: str, protocol: Protocol) -> CellKey:
        return cls(
            model=model_sha256,
            engine=engine,
            overrides=tuple(sorted((k, float(v)) for k, v in protocol.overrides.items())),
            initial=tuple(sorted((k, float(v)) for k, v in protocol.initial.items())),
            rtol=float(protocol.rtol),
            atol=float(protocol.atol),
            max_min=float(protocol.preequilibration_max_min),
        )


@dataclass(frozen=True)
class _Failed:
    message: str
    engine: str
    t_reached: float | None


#: cache entries as they travel between processes
SteadyStates = dict[CellKey, "np.ndarray | _Failed"]


class SteadyStateCache:
    """Pre-equilibrated states by :class:`CellKey`, the most recent :attr:`size` of them (failures too).

    Pre-equilibration is drug-free by definition, so every arm and sweep run of the same cell starts
    from the same state: the first run computes it, the others read it. An entry is the engine's own
    snapshot of its state (an array); a failure is kept as its message and re-raised for each run
    with that run's label. ``IGFSIM_STEADY_STATE_CACHE=0`` turns the cache off (every run
    pre-equilibrates, as before)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[CellKey, np.ndarray | _Failed] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return os.environ.get(CACHE_ENV, "1").strip() not in ("0", "off", "false", "no")

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self.hits = self.misses = 0

    def state(self, key: CellKey, protocol: Protocol, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """The snapshot for ``key``: cached, or ``compute()`` (which pre-equilibrates) stored.

        A :class:`SimulationError` of ``compute`` is stored and raised again, labelled with
        ``protocol``, for every later run of the same cell."""
        if not self.enabled:
            return compute()
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            try:
                entry = compute()
            except SimulationError as err:
                self._put(key, _Failed(err.message, err.engine, err.t_reached))
                raise
            self._put(key, entry)
            return entry
        self.hits += 1
        self._entries.move_to_end(key)
        if isinstance(entry, _Failed):
            raise SimulationError(entry.message, engine=entry.engine, run_id=protocol.label, t_reached=entry.t_reached)
        return entry

    def _put(self, key: CellKey, entry: np.ndarray | _Failed) -> None:
        if isinstance(entry, np.ndarray):
            entry = entry.copy()
            entry.flags.writeable = False
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def keys(self) -> set[CellKey]:
        return set(self._entries)

    def export(self, limit: int | None = None, *, besides: Collection[CellKey] = ()) -> SteadyStates:
        """The ``limit`` most recent entries (all by default) whose keys are not in ``besides``: to
        ship to worker processes, or back from them."""
        items = [(k, v) for k, v in self._entries.items() if k not in besides]
        if limit is not None:
            items = items[-limit:] if limit > 0 else []
        return dict(items)

    def update(self, entries: SteadyStates) -> None:
        """Take entries another process computed (a key already held keeps its entry)."""
        for key, entry in entries.items():
            if key not in self._entries:
                self._put(key, entry)


#: the environment variable that turns the steady-state cache off ("0")
CACHE_ENV = "IGFSIM_STEADY_STATE_CACHE"
#: the process's steady states, shared by every engine (keys name the engine)
STEADY_STATES = SteadyStateCache()
