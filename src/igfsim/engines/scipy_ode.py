"""SciPy (LSODA) engine: the model's ODEs built from the SBML math, independently of libRoadRunner.

:mod:`igfsim.engines.sbml_math` turns the SBML into sympy programs (right-hand side, analytic
Jacobian, assignment rules, initial concentrations); :mod:`igfsim.engines.scipy_build` prints them
as C, compiles them once per model with the system C compiler into a shared library (cached on disk
by the SBML's sha256 and per process) or, without a C compiler (or with
``IGFSIM_SCIPY_BACKEND=python``), lambdifies them: same results, slower. This module integrates the
resulting :class:`igfsim.engines.scipy_system.System` with ``scipy.integrate.odeint`` (LSODA).
Parameters, compartment sizes and boundary species are a run-time input vector, so overrides and
events need no recompilation.

Scenario semantics are those of :class:`igfsim.engines.roadrunner_ode.RoadRunnerEngine`; pre-equilibration
is :func:`igfsim.engines.steady_state.preequilibrate`, driving LSODA through :class:`_OdeTrajectory`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import numpy as np
from scipy.integrate import ODEintWarning, odeint

from igfsim.cache import CACHE_ENV as CACHE_ENV
from igfsim.engines.protocol import MAX_STEPS, Change, Protocol, final_event, segments

# re-exported: these lived here before the build and the systems got their own modules
from igfsim.engines.scipy_build import BACKEND_ENV as BACKEND_ENV
from igfsim.engines.scipy_build import BACKENDS as BACKENDS
from igfsim.engines.scipy_build import CFLAGS as CFLAGS
from igfsim.engines.scipy_build import GENERATOR_VERSION as GENERATOR_VERSION
from igfsim.engines.scipy_build import build_system as build_system
from igfsim.engines.scipy_build import c_source as c_source
from igfsim.engines.scipy_build import cache_dir as cache_dir
from igfsim.engines.scipy_build import find_compiler as find_compiler
from igfsim.engines.scipy_system import OdeFunction as OdeFunction
from igfsim.engines.scipy_system import System
from igfsim.engines.steady_state import STEADY_REL_RATE as STEADY_REL_RATE  # re-exported
from igfsim.engines.steady_state import STEADY_STATES, CellKey, StepFailure, preequilibrate
from igfsim.errors import EngineUnavailableError, SimulationError
from igfsim.model.sbml import Model

#: values of the selections at ``(times, states, parameters)``
Selector = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class _SolverFailure(Exception):
    def __init__(self, message: str, t: float):
        super().__init__(message)
        self.t = t


def _integrate(sys_: System, p: np.ndarray, x0: np.ndarray, grid: np.ndarray, protocol: Protocol) -> np.ndarray:
    """States at ``grid`` (``grid[0]`` is the start); raises :class:`_SolverFailure`."""
    if x0.size == 0:  # nothing to integrate: every species is fixed or computed by a rule
        return np.zeros((grid.size, 0))
    f, jac = sys_.bind(p)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ODEintWarning)
            sol, info = odeint(
                f,
                x0,
                grid,
                Dfun=jac,
                col_deriv=True,
                full_output=True,
                tfirst=True,
                rtol=protocol.rtol,
                atol=protocol.atol,
                mxstep=MAX_STEPS,
            )
    except (ArithmeticError, ValueError) as err:  # the Python backend's math errors
        raise _SolverFailure(f"{type(err).__name__}: {err}", float(grid[0])) from None
    for w in caught:
        if not issubclass(w.category, ODEintWarning):  # not ours: pass it on
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if info["message"] != "Integration successful.":
        done = int(np.argmin(info["nst"] > 0)) if np.any(info["nst"] == 0) else len(info["nst"])
        raise _SolverFailure(info["message"], float(info["tcur"][done - 1] if done else grid[0]))
    finite = np.isfinite(sol).all(axis=1)
    if not finite.all():  # LSODA can step over a singularity and report success
        k = int(np.argmin(finite))
        raise _SolverFailure(
            f"the solution became infinite or NaN between t = {grid[k - 1]:g} and "
            f"{grid[k]:g} min (a concentration overflowed)",
            float(grid[k - 1]),
        )
    return sol


#: an engine's integrator: states at ``grid`` from ``x0`` at ``grid[0]``; raises :class:`_SolverFailure`
Solve = Callable[[System, np.ndarray, np.ndarray, np.ndarray, Protocol], np.ndarray]


class _OdeTrajectory:
    """One run's state under the engine's integrator as a :class:`igfsim.engines.steady_state.Trajectory`."""

    def __init__(
        self, sys_: System, p: np.ndarray, x: np.ndarray, protocol: Protocol, solve: Solve, solver: str
    ) -> None:
        self.species = sys_.meta.state
        self._sys, self._p, self._x, self._protocol = sys_, p, x, protocol
        self._solve, self._solver = solve, solver
        self._f, _ = sys_.bind(p)

    def state(self) -> np.ndarray:
        return self._x  # never modified in place: advance() replaces it

    def restore(self, x: np.ndarray) -> None:
        self._x = x

    def advance(self, t0: float, t1: float) -> np.ndarray:
        try:
            self._x = self._solve(self._sys, self._p, self._x, np.array([t0, t1]), self._protocol)[-1]
        except _SolverFailure as err:
            raise StepFailure(f"{self._solver}: {err}") from None
        return self._x

    def rates(self, t: float) -> np.ndarray:
        return self._f(t, self._x)


class ScipyEngine:
    """Deterministic ODE simulation with LSODA (``scipy.integrate.odeint``) on generated C code."""

    name = "scipy"
    time_units = "min"
    #: the integrator's name in error messages
    solver = "LSODA"
    #: states at a grid of times (a subclass brings another integrator)
    _solve = staticmethod(_integrate)

    def __init__(self, backend: str | None = None) -> None:
        chosen = (backend or os.environ.get(BACKEND_ENV) or "auto").strip().lower()
        if chosen not in BACKENDS:
            raise EngineUnavailableError(
                f"unknown scipy engine backend {chosen!r} (from "
                f"{'the argument' if backend else BACKEND_ENV}); choose one of "
                f"{', '.join(BACKENDS)}"
            )
        self.backend = chosen
        self._cache: dict[str, System] = {}

    def system(self, model: Model) -> System:
        """The model's generated functions (built once per model and process)."""
        sys_ = self._cache.get(model.sha256)
        if sys_ is None:
            sys_ = self._cache[model.sha256] = build_system(model.sbml, self.backend)
        return sys_

    # ------------------------------------------------------------------ helpers
    def _fail(self, protocol: Protocol, msg: str, t: float | None = None) -> SimulationError:
        return SimulationError(msg, engine=self.name, run_id=protocol.label, t_reached=t)

    def _apply(self, sys_: System, x: np.ndarray, p: np.ndarray, change: Change, protocol: Protocol) -> None:
        tgt = change.target
        if change.kind == "species":
            if tgt in sys_.state_index:
                arr, i = x, sys_.state_index[tgt]
            elif tgt in sys_.param_index and sys_.meta.param_kind[sys_.param_index[tgt]] == "species":
                arr, i = p, sys_.param_index[tgt]
            else:
                raise self._fail(protocol, f"cannot set species {tgt!r}: it is computed by a rule or unknown")
            new = change.value + (arr[i] if change.mode == "add" else 0.0)
            arr[i] = 0.0 if new < 1e-12 else new
            return
        j = sys_.param_index.get(tgt)
        if j is None:
            raise self._fail(protocol, f"cannot set {tgt!r}: not a parameter or compartment of the model")
        new = change.value + (p[j] if change.mode == "add" else 0.0)
        new = 0.0 if abs(new) < 1e-12 else new
        if sys_.meta.param_kind[j] == "compartment":  # resizing keeps amounts, as libRoadRunner does
            x[sys_.state_comp == j] *= p[j] / new
            p[sys_.fixed_species[sys_.fixed_comp == j]] *= p[j] / new
        p[j] = new

    def _selector(self, sys_: System, model: Model, protocol: Protocol) -> Selector:
        cols: list[tuple[str, int]] = []
        for s in protocol.selections:
            if s in sys_.state_index:
                cols.append(("x", sys_.state_index[s]))
            elif s in sys_.rule_index:
                cols.append(("r", sys_.rule_index[s]))
            elif s in sys_.param_index:
                cols.append(("p", sys_.param_index[s]))
            else:
                raise self._fail(protocol, f"cannot select {s!r}: not in the model{model.suggest(s)}")
        need_rules = any(k == "r" for k, _ in cols)

        def values(times: np.ndarray, states: np.ndarray, p: np.ndarray) -> np.ndarray:
            src = {"x": states}
            if need_rules:
                src["r"] = sys_.rules(times, states, p)
            return np.column_stack([src[k][:, i] if k != "p" else np.full(len(times), p[i]) for k, i in cols])

        return values

    # ------------------------------------------------------------------ API
    def check_model(self, model: Model) -> None:
        """Nothing to check: an ODE engine simulates any model it can load."""

    def output_times(self, protocol: Protocol) -> np.ndarray:
        """Minutes after the stimulus: ``protocol.times``."""
        return np.asarray(protocol.times, dtype=float)

    def simulate(self, model: Model, protocol: Protocol) -> np.ndarray:
        """Run ``protocol`` and return the selected values at ``protocol.times``."""
        sys_ = self.system(model)
        p = sys_.base.copy()
        for pid, value in protocol.overrides.items():
            if pid not in sys_.param_index or sys_.meta.param_kind[sys_.param_index[pid]] == "species":
                raise self._fail(protocol, f"cannot override {pid!r}: not a parameter or compartment of the model")
            p[sys_.param_index[pid]] = value
        select = self._selector(sys_, model, protocol)
        x = sys_.initial_state(p)  # initial assignments re-evaluated with the overrides
        for sid, value in protocol.initial.items():
            self._apply(sys_, x, p, Change(sid, float(value), "species", "set"), protocol)
        if protocol.preequilibrate:
            start = x
            key = CellKey.of(model.sha256, f"{self.name}/{type(sys_).__name__}", protocol)
            x = STEADY_STATES.state(
                key,
                protocol,
                lambda: preequilibrate(
                    _OdeTrajectory(sys_, p, start, protocol, self._solve, self.solver), protocol, self.name
                ),
            ).copy()
        out_t = np.asarray(protocol.times, dtype=float)
        out = np.full((out_t.size, len(protocol.selections)), np.nan)
        for seg in segments(protocol):
            if seg.event is not None:
                for ch in seg.event.changes:
                    self._apply(sys_, x, p, ch, protocol)
            if seg.grid.size < 2:
                continue
            try:
                res = self._solve(sys_, p, x, seg.grid, protocol)
            except _SolverFailure as err:
                raise self._fail(
                    protocol, f"{self.solver} failed between t = {seg.start:g} and {seg.end:g} min: {err}", err.t
                ) from None
            if seg.take.size:
                out[seg.rows] = select(seg.grid[seg.take], res[seg.take], p)
            x = res[-1].copy()
        last = final_event(protocol)
        if last is not None:  # an event at the last output time: record the value just after it
            for ch in last.changes:
                self._apply(sys_, x, p, ch, protocol)
            out[-1] = select(out_t[-1:], x[None, :], p)[0]
        if not np.all(np.isfinite(out)):
            raise self._fail(protocol, "simulation produced non-finite values")
        return out
