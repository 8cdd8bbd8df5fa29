"""libRoadRunner (CVODE) engine: the only module that imports roadrunner.

One compiled RoadRunner per model per process; every run starts from ``resetToOrigin()`` and
states its output times explicitly, so no option leaks from one run into the next. Pre-equilibration is
:func:`igfsim.engines.steady_state.preequilibrate`, driving CVODE through :class:`_CvodeTrajectory`.
"""

from __future__ import annotations

import contextlib
import hashlib
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from igfsim.cache import private_cache, read_verified, write_verified
from igfsim.engines.protocol import MAX_STEPS, Change, Protocol, final_event, segments
from igfsim.engines.steady_state import STEADY_REL_RATE as STEADY_REL_RATE  # re-exported
from igfsim.engines.steady_state import STEADY_STATES, CellKey, StepFailure, preequilibrate
from igfsim.errors import ModelError, SimulationError
from igfsim.model.sbml import Model

#: a compiled ``roadrunner.RoadRunner`` (the package has no type annotations)
_RoadRunner = Any
#: the LLVM JIT igfsim compiles models with (part of the compiled-model cache key)
JIT = "LLJIT"


@dataclass(frozen=True)
class ModelState:
    """Every species concentration and independent parameter value of a model at one time."""

    time: float
    species: dict[str, float]  # species id -> concentration
    parameters: dict[str, float]  # independent parameter id -> value


def _first_line(err: Exception) -> str:
    """The first line of libRoadRunner's message (the solver's own words), at most 300 characters."""
    line = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return line if len(line) <= 300 else line[:297] + "..."


class _CvodeTrajectory:
    """A RoadRunner's floating species as a :class:`igfsim.engines.steady_state.Trajectory`."""

    def __init__(self, rr: _RoadRunner) -> None:
        self.rr = rr
        self.species = list(rr.model.getFloatingSpeciesIds())

    def state(self) -> np.ndarray:
        return np.array(self.rr.model.getFloatingSpeciesConcentrations())

    def restore(self, x: np.ndarray) -> None:
        self.rr.model.setFloatingSpeciesConcentrations(x)

    def advance(self, t0: float, t1: float) -> np.ndarray:
        try:
            self.rr.simulate(t0, t1, 2)
        except RuntimeError as err:
            raise StepFailure(_first_line(err)) from None
        return np.asarray(self.rr.model.getFloatingSpeciesConcentrations())

    def rates(self, t: float) -> np.ndarray:
        return np.asarray(self.rr.model.getFloatingSpeciesConcentrationRates())


def _snapshot(rr: _RoadRunner) -> np.ndarray:
    """The state pre-equilibration leaves: floating species amounts, then rate-rule variables."""
    rules = [rr[r] for r in rr.getRateRuleIds()]
    return np.concatenate([np.asarray(rr.model.getFloatingSpeciesAmounts(), dtype=float), rules])


def _load(rr: _RoadRunner, snap: np.ndarray) -> None:
    """Make ``snap`` (a :func:`_snapshot`) the RoadRunner's state."""
    n = rr.model.getNumFloatingSpecies()
    rr.model.setFloatingSpeciesAmounts(np.array(snap[:n]))
    for rule, value in zip(rr.getRateRuleIds(), snap[n:], strict=True):
        rr[rule] = float(value)


def _from_state(state: bytes) -> _RoadRunner:
    import roadrunner

    rr = roadrunner.RoadRunner()
    rr.loadStateS(state)
    return rr


def _cache_path(sbml: str) -> Path:
    """The compiled model's file in the engine cache, named by everything the compiled code depends on."""
    import roadrunner

    key = hashlib.sha256(
        "\0".join(["roadrunner", roadrunner.__version__, JIT, platform.machine(), platform.system(), sbml]).encode()
    ).hexdigest()
    return private_cache("roadrunner") / f"roadrunner-{key[:40]}.rrstate"


def compiled_roadrunner(sbml: str, origin: str) -> _RoadRunner:
    """A RoadRunner of ``sbml``: its compiled state from the engine cache when one was saved (about
    0.05 s), else compiled with LLVM's LLJIT (about 4 times faster to build than MCJIT and as fast
    to run, ``benchmarks/bench_startup.py``) and saved there for the next process."""
    import roadrunner

    quiet_solver_log()
    path = _cache_path(sbml)
    if (state := read_verified(path)) is not None:
        with contextlib.suppress(RuntimeError):  # unreadable (another libRoadRunner build): compile again
            return _from_state(state)
    config = roadrunner.Config
    before = config.getValue(config.LLVM_BACKEND)
    config.setValue(config.LLVM_BACKEND, config.LLJIT)
    try:
        rr = roadrunner.RoadRunner(sbml)
    except (RuntimeError, ValueError) as err:  # libRoadRunner's load errors name the element
        raise ModelError(f"{origin}: libRoadRunner cannot load the model: {_first_line(err)}") from None
    finally:
        config.setValue(config.LLVM_BACKEND, before)
    with contextlib.suppress(OSError):  # a read-only cache only costs the next process a compile
        write_verified(path, rr.saveStateS())
    return rr


def quiet_solver_log() -> None:
    """libRoadRunner prints every CVODE failure to stderr; igfsim reports failures itself."""
    import roadrunner

    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)


class RoadRunnerEngine:
    """Deterministic ODE simulation with libRoadRunner's CVODE integrator."""

    name = "roadrunner"
    time_units = "min"

    def __init__(self) -> None:
        self._cache: dict[str, _RoadRunner] = {}

    def _compiled(self, model: Model) -> _RoadRunner:
        rr = self._cache.get(model.sha256)
        if rr is None:
            rr = self._cache[model.sha256] = compiled_roadrunner(model.sbml, model.path)
        return rr

    def compiled_state(self, model: Model) -> bytes:
        """The model compiled, as libRoadRunner's saved state (what :meth:`adopt` takes in a worker)."""
        return self._compiled(model).saveStateS()

    def adopt(self, model: Model, state: bytes) -> None:
        """Use ``state`` (a :meth:`compiled_state` of ``model`` from another process) rather than compiling."""
        if model.sha256 not in self._cache:
            self._cache[model.sha256] = _from_state(state)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _apply(rr: _RoadRunner, model: Model, change: Change) -> None:
        if change.kind == "species":
            key = f"[{change.target}]"
            new = change.value + (rr[key] if change.mode == "add" else 0.0)
            rr[key] = 0.0 if new < 1e-12 else new
        else:
            new = change.value + (rr[change.target] if change.mode == "add" else 0.0)
            rr[change.target] = 0.0 if abs(new) < 1e-12 else new

    def _fail(self, protocol: Protocol, msg: str, t: float | None = None) -> SimulationError:
        return SimulationError(msg, engine=self.name, run_id=protocol.label, t_reached=t)

    def _prepare(self, model: Model, protocol: Protocol) -> _RoadRunner:
        """The model's RoadRunner at the protocol's start: fresh, with the protocol's solver settings,
        overrides, initial assignments re-evaluated, ``initial`` species set and, if asked for,
        pre-equilibrated."""
        rr = self._compiled(model)
        rr.resetToOrigin()
        integ = rr.integrator
        integ.relative_tolerance = protocol.rtol
        integ.absolute_tolerance = protocol.atol
        integ.maximum_num_steps = MAX_STEPS
        step = "setting the overrides"
        try:
            for pid, value in protocol.overrides.items():
                step = f"setting {pid!r}"
                rr[pid] = value
            step = "re-evaluating the initial assignments"
            rr.reset()  # re-evaluate initial assignments with the overrides
            for sid, value in protocol.initial.items():
                step = f"setting the initial amount of {sid!r}"
                rr[f"[{sid}]"] = value
        except (RuntimeError, ValueError) as err:
            raise self._fail(protocol, f"libRoadRunner failed {step} of {model.path}: {_first_line(err)}") from None
        if protocol.preequilibrate:

            def compute() -> np.ndarray:
                preequilibrate(_CvodeTrajectory(rr), protocol, self.name)
                return _snapshot(rr)

            _load(rr, STEADY_STATES.state(CellKey.of(model.sha256, self.name, protocol), protocol, compute))
        return rr

    # ------------------------------------------------------------------ API
    def check_model(self, model: Model) -> None:
        """Nothing to check: an ODE engine simulates any model it can load."""

    def output_times(self, protocol: Protocol) -> np.ndarray:
        """Minutes after the stimulus: ``protocol.times``."""
        return np.asarray(protocol.times, dtype=float)

    def state_at(self, model: Model, protocol: Protocol, t: float = 0.0) -> ModelState:
        """The state of ``model`` at time ``t`` of ``protocol``, just after the events at ``t``.

        Set-up and pre-equilibration are those of :meth:`simulate`; then the events at or before
        ``t`` are applied in time order, integrating between them, and the state is integrated on
        to ``t`` (it stays at the protocol's start if that is later than ``t``). Events after
        ``t`` are ignored. Returns every species concentration and every independent parameter
        value of ``model``. A CVODE failure after pre-equilibration raises libRoadRunner's
        ``RuntimeError``.
        """
        rr = self._prepare(model, protocol)
        now = protocol.t_start
        for ev in sorted(protocol.events, key=lambda e: e.time):
            if ev.time > t:
                break
            if ev.time > now:
                rr.simulate(now, ev.time, 2)
                now = ev.time
            for ch in ev.changes:
                self._apply(rr, model, ch)
        if now < t:
            rr.simulate(now, t, 2)
            now = t
        return ModelState(
            time=now,
            species={sid: float(rr[f"[{sid}]"]) for sid in model.species},
            parameters={pid: float(rr[pid]) for pid in model.parameters},
        )

    def simulate(self, model: Model, protocol: Protocol) -> np.ndarray:
        """Run ``protocol`` and return the selected values at ``protocol.times``."""
        rr = self._prepare(model, protocol)
        sel = ["time"] + [f"[{s}]" if model.kind(s) == "species" else s for s in protocol.selections]
        try:
            rr.timeCourseSelections = sel
        except (RuntimeError, ValueError) as err:
            raise self._fail(
                protocol, f"libRoadRunner cannot record {sel[1:]} of {model.path}: {_first_line(err)}"
            ) from None
        out = np.full((len(protocol.times), len(sel) - 1), np.nan)
        for seg in segments(protocol):
            if seg.event is not None:
                for ch in seg.event.changes:
                    self._apply(rr, model, ch)
            if seg.grid.size < 2:
                continue
            try:
                res = np.asarray(rr.simulate(times=seg.grid))
            except RuntimeError as err:
                raise self._fail(
                    protocol,
                    f"CVODE failed between t = {seg.start:g} and {seg.end:g} min: {_first_line(err)}",
                    seg.start,
                ) from None
            out[seg.rows] = res[seg.take, 1:]
        last = final_event(protocol)
        if last is not None:  # an event at the last output time: record the value just after it
            for ch in last.changes:
                self._apply(rr, model, ch)
            out[-1] = [rr[s] for s in sel[1:]]
        if not np.all(np.isfinite(out)):
            raise self._fail(protocol, "simulation produced non-finite values")
        return out
