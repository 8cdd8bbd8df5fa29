"""SciPy (LSODA) engine: the model's ODEs built from the SBML math, independently of libRoadRunner.

:mod:`igfsim.engines.sbml_math` turns the SBML into sympy programs (right-hand side, analytic
Jacobian, assignment rules, initial concentrations); this module prints them as C, compiles them
once per model with the system C compiler into a shared library (cached on disk by the SBML's
sha256 and per process) and integrates with ``scipy.integrate.odeint`` (LSODA). Parameters,
compartment sizes and boundary species are a run-time input vector, so overrides and events need
no recompilation. Without a C compiler (or with ``IGFSIM_SCIPY_BACKEND=python``) the programs are
lambdified instead: same results, slower.

Scenario semantics are those of :class:`igfsim.engines.roadrunner_ode.RoadRunnerEngine`; pre-equilibration
is :func:`igfsim.engines.steady_state.preequilibrate`, driving LSODA through :class:`_LsodaTrajectory`.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import numpy as np
from scipy.integrate import ODEintWarning, odeint

from igfsim.engines.protocol import MAX_STEPS, Change, Protocol, final_event, segments
from igfsim.engines.steady_state import STEADY_REL_RATE as STEADY_REL_RATE  # re-exported
from igfsim.engines.steady_state import StepFailure, preequilibrate
from igfsim.errors import EngineUnavailableError, SimulationError
from igfsim.model.sbml import Model

if TYPE_CHECKING:  # sbml_math imports sympy and libsbml: only when a model is translated
    from igfsim.engines.sbml_math import Meta, Program

#: environment variable choosing the backend: "auto" (default), "c" or "python"
BACKEND_ENV = "IGFSIM_SCIPY_BACKEND"
#: environment variable naming the folder of compiled models (default: a per-user temp folder)
CACHE_ENV = "IGFSIM_CACHE_DIR"
#: bump when the generated code changes, so stale libraries are not reused
GENERATOR_VERSION = "5"
CFLAGS = ("-O2", "-shared", "-fPIC")
BACKENDS = ("auto", "c", "python")

#: ``f(t, y)`` or ``jac(t, y)`` as odeint calls them
OdeFunction = Callable[[float, np.ndarray], np.ndarray]
#: values of the selections at ``(times, states, parameters)``
Selector = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

_LOADED: dict[str, _System] = {}  # per process: cache key -> system


# ---------------------------------------------------------------------------------------- systems
class _System(ABC):
    """Run-time tables of a model plus its four functions; subclasses supply the functions."""

    def __init__(self, meta: Meta):
        self.meta = meta
        self.n = len(meta.state)
        self.base = np.asarray(meta.param_values, dtype=float)
        self.state_index = {s: i for i, s in enumerate(meta.state)}
        self.param_index = {p: i for i, p in enumerate(meta.params)}
        self.rule_index = {r: i for i, r in enumerate(meta.rules)}
        comp = meta.compartment_of
        self.state_comp = np.array([self.param_index[comp[s]] for s in meta.state], dtype=int)
        fixed = [i for i, k in enumerate(meta.param_kind) if k == "species"]
        self.fixed_species = np.array(fixed, dtype=int)
        self.fixed_comp = np.array([self.param_index[comp[meta.params[i]]] for i in fixed], dtype=int)
        self.sbml_size = np.array([meta.compartment_sizes.get(p, np.nan) for p in meta.params])

    @abstractmethod
    def bind(self, p: np.ndarray) -> tuple[OdeFunction, OdeFunction | None]:
        """``f(t, y)`` and ``jac(t, y)`` (column-major; None without an analytic Jacobian) for odeint,
        reading parameters from ``p``."""

    @abstractmethod
    def rules(self, times: np.ndarray, states: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Assignment-rule values, one row per time."""

    @abstractmethod
    def initial(self, p: np.ndarray) -> np.ndarray:
        """Initial concentrations from the SBML values and initial assignments, with parameters ``p``."""

    def initial_state(self, p: np.ndarray) -> np.ndarray:
        """Initial concentrations; species amounts are kept when ``p`` resizes a compartment (libRoadRunner)."""
        x = self.initial(p)
        x *= self.sbml_size[self.state_comp] / p[self.state_comp]
        p[self.fixed_species] *= self.sbml_size[self.fixed_comp] / p[self.fixed_comp]
        return x


class _CSystem(_System):
    def __init__(self, path: Path):
        lib = ctypes.CDLL(str(path))
        lib.igf_meta.restype = ctypes.c_char_p
        # the JSON of a Meta, read without importing sympy (a cache hit needs no translation)
        super().__init__(cast("Meta", SimpleNamespace(**json.loads(lib.igf_meta().decode()))))
        dbl, ptr = ctypes.c_double, ctypes.c_void_p
        lib.igf_rhs.argtypes = lib.igf_jac.argtypes = [dbl, ptr, ptr, ptr]
        lib.igf_rules.argtypes = [ctypes.c_int, ptr, ptr, ptr, ptr]
        lib.igf_init.argtypes = [ptr, ptr]
        for f in (lib.igf_rhs, lib.igf_jac, lib.igf_rules, lib.igf_init):
            f.restype = None
        self.lib, self.path = lib, path

    def bind(self, p: np.ndarray) -> tuple[OdeFunction, OdeFunction | None]:
        n, rhs, jfun = self.n, self.lib.igf_rhs, self.lib.igf_jac
        x, dx, jac = np.zeros(n), np.zeros(n), np.zeros((n, n))
        xp, dxp, jp, pp = x.ctypes.data, dx.ctypes.data, jac.ctypes.data, p.ctypes.data

        def f(t: float, y: np.ndarray) -> np.ndarray:
            x[:] = y
            rhs(t, xp, pp, dxp)
            return dx

        def j(t: float, y: np.ndarray) -> np.ndarray:
            x[:] = y
            jfun(t, xp, pp, jp)
            return jac

        return f, (j if self.meta.has_jacobian else None)

    def rules(self, times: np.ndarray, states: np.ndarray, p: np.ndarray) -> np.ndarray:
        t = np.ascontiguousarray(times, dtype=float)
        xs = np.ascontiguousarray(states, dtype=float)
        out = np.zeros((t.size, len(self.meta.rules)))
        self.lib.igf_rules(t.size, t.ctypes.data, xs.ctypes.data, p.ctypes.data, out.ctypes.data)
        return out

    def initial(self, p: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n)
        self.lib.igf_init(p.ctypes.data, out.ctypes.data)
        return out


class _PySystem(_System):
    """The same programs through ``sympy.lambdify`` (module ``math``): no compiler needed."""

    def __init__(self, meta: Meta, progs: dict[str, Program]):
        import sympy as sp

        from igfsim.engines.sbml_math import TIME, symbols_of

        super().__init__(meta)
        xs, ps = symbols_of(meta)
        self._fn = {
            k: sp.lambdify(
                [TIME, xs, ps],
                prog.outputs,
                modules="math",
                docstring_limit=0,
                cse=lambda exprs, prog=prog: (prog.assignments, exprs),
            )
            for k, prog in progs.items()
        }
        self._nz = np.asarray(meta.jac_nonzeros, dtype=int)

    def bind(self, p: np.ndarray) -> tuple[OdeFunction, OdeFunction | None]:
        n, rhs, jfun, nz, pl = self.n, self._fn["rhs"], self._fn["jac"], self._nz, p.tolist()
        jac = np.zeros((n, n))

        def f(t: float, y: np.ndarray) -> np.ndarray:
            return np.array(rhs(t, y.tolist(), pl))

        def j(t: float, y: np.ndarray) -> np.ndarray:
            jac.flat[nz] = jfun(t, y.tolist(), pl)
            return jac

        return f, (j if self.meta.has_jacobian else None)

    def rules(self, times: np.ndarray, states: np.ndarray, p: np.ndarray) -> np.ndarray:
        fn, pl = self._fn["rules"], p.tolist()
        return np.array(
            [fn(t, x, pl) for t, x in zip(times.tolist(), states.tolist(), strict=True)], dtype=float
        ).reshape(len(times), len(self.meta.rules))

    def initial(self, p: np.ndarray) -> np.ndarray:
        return np.array(self._fn["init"](0.0, [0.0] * self.n, p.tolist()), dtype=float)


# ---------------------------------------------------------------------------------------- C code
def find_compiler() -> str | None:
    """``$CC``, else the first of cc, gcc, clang on the PATH."""
    cands = [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc", "clang"]
    return next((shutil.which(c) for c in cands if shutil.which(c)), None)


def cache_dir() -> Path:
    """Folder of compiled models: ``$IGFSIM_CACHE_DIR`` or ``<tmp>/igfsim-<user>``."""
    env = os.environ.get(CACHE_ENV)
    user = os.environ.get("USER") or str(getattr(os, "getuid", lambda: "user")())
    return Path(env) if env else Path(tempfile.gettempdir()) / f"igfsim-{user}"


def c_source(meta: Meta, progs: dict[str, Program]) -> str:
    """The C translation unit of a model's programs (see :func:`sbml_math.read_system`)."""
    from sympy.printing.c import C99CodePrinter

    pr = C99CodePrinter({"strict": True})
    unpack = [f"  const double m_{s} = x[{i}];" for i, s in enumerate(meta.state)] + [
        f"  const double m_{s} = p[{i}];" for i, s in enumerate(meta.params)
    ]

    def body(prog, out) -> list[str]:
        lines = [f"  const double {s.name} = {pr.doprint(e)};" for s, e in prog.assignments]
        return unpack + lines + [f"  {out(k)} = {pr.doprint(e)};" for k, e in enumerate(prog.outputs)]

    n, nr = len(meta.state), len(meta.rules)
    meta_json = json.dumps(asdict(meta)).replace("\\", "\\\\").replace('"', '\\"')
    jac_pos = meta.jac_nonzeros if meta.has_jacobian else []
    jac_prog = progs["jac"] if meta.has_jacobian else type(progs["jac"])([], [])
    src = [
        "/* generated by igfsim.engines.scipy_ode; do not edit */",
        "#include <math.h>",
        "#include <stdbool.h>",
        "#ifndef M_LN10",
        "#define M_LN10 2.30258509299404568402",
        "#endif",
        "#ifndef M_LN2",
        "#define M_LN2 0.69314718055994530942",
        "#endif",
        "#ifndef M_PI",
        "#define M_PI 3.14159265358979323846",
        "#endif",
        "#ifndef M_E",
        "#define M_E 2.7182818284590452354",
        "#endif",
        f'const char *igf_meta(void) {{ return "{meta_json}"; }}',
        "void igf_rhs(double sbml_time, const double *x, const double *p, double *dx) {",
        *body(progs["rhs"], lambda k: f"dx[{k}]"),
        "}",
        "void igf_jac(double sbml_time, const double *x, const double *p, double *J) {",
        *body(jac_prog, lambda k: f"J[{jac_pos[k]}]"),
        "}",
        "void igf_rules(int nrow, const double *T, const double *X, const double *p, double *R) {",
        "  for (int row = 0; row < nrow; ++row) {",
        f"  const double sbml_time = T[row]; const double *x = X + (long)row * {n}; double *r = R + (long)row * {nr};",
        *body(progs["rules"], lambda k: f"r[{k}]"),
        "  }",
        "}",
        "void igf_init(const double *p, double *out) {",
        "  const double sbml_time = 0.0;",
        f"  double x[{max(n, 1)}] = {{0}};",
        *body(progs["init"], lambda k: f"out[{k}]"),
        "}",
        "",
    ]
    return "\n".join(src)


def _compiled_system(sbml: str, cc: str) -> _CSystem:
    key = hashlib.sha256(
        "\0".join([GENERATOR_VERSION, cc, " ".join(CFLAGS), platform.machine(), platform.system(), sbml]).encode()
    ).hexdigest()
    cached = _LOADED.get(key)
    if isinstance(cached, _CSystem):
        return cached
    folder = cache_dir()
    lib = folder / f"scipy-engine-{key[:40]}.so"
    if lib.exists():
        try:
            loaded = _LOADED[key] = _CSystem(lib)
            return loaded
        except (OSError, AttributeError, ValueError, TypeError):
            pass  # unreadable or stale: rebuild
    from igfsim.engines.sbml_math import read_system

    meta, progs = read_system(sbml)
    try:
        code = c_source(meta, progs)
    except (NotImplementedError, ValueError, TypeError) as err:
        raise EngineUnavailableError(f"the scipy engine cannot write this model's math as C: {err}") from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            src, out = Path(tmp) / "model.c", Path(tmp) / "model.so"
            src.write_text(code, encoding="utf-8")
            run = subprocess.run([cc, *CFLAGS, "-o", str(out), str(src), "-lm"], capture_output=True, text=True)
            if run.returncode != 0:
                raise EngineUnavailableError(
                    f"the scipy engine could not compile the model with {cc}: "
                    f"{(run.stderr or run.stdout).strip()[:2000]}"
                )
            os.replace(out, lib)  # atomic: concurrent processes never load a half-written library
    except OSError as err:
        raise EngineUnavailableError(
            f"the scipy engine cannot build its library in {folder} ({err}); set {CACHE_ENV} to a writable folder"
        ) from None
    built = _LOADED[key] = _CSystem(lib)
    return built


def build_system(sbml: str, backend: str = "auto") -> _System:
    """The compiled (``"c"``) or lambdified (``"python"``) system; ``"auto"`` prefers C."""
    if backend in ("auto", "c"):
        cc = find_compiler()
        if cc is not None:
            try:
                return _compiled_system(sbml, cc)
            except EngineUnavailableError as err:
                if backend == "c":
                    raise
                warnings.warn(f"{err}; using the slower Python fallback", RuntimeWarning, stacklevel=3)
        elif backend == "c":
            raise EngineUnavailableError("the scipy engine's C backend needs a C compiler (cc, gcc, clang or $CC)")
        else:
            warnings.warn(
                f"no C compiler found (cc, gcc, clang or $CC): the scipy engine uses its slower Python "
                f"fallback; set {BACKEND_ENV}=python to choose it without this warning",
                RuntimeWarning,
                stacklevel=3,
            )
    key = "python\0" + hashlib.sha256(sbml.encode()).hexdigest()
    if key not in _LOADED:
        from igfsim.engines.sbml_math import read_system

        _LOADED[key] = _PySystem(*read_system(sbml))
    return _LOADED[key]


# ---------------------------------------------------------------------------------------- engine
class _SolverFailure(Exception):
    def __init__(self, message: str, t: float):
        super().__init__(message)
        self.t = t


def _integrate(sys_: _System, p: np.ndarray, x0: np.ndarray, grid: np.ndarray, protocol: Protocol) -> np.ndarray:
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


class _LsodaTrajectory:
    """One run's state under LSODA as a :class:`igfsim.engines.steady_state.Trajectory`."""

    def __init__(self, sys_: _System, p: np.ndarray, x: np.ndarray, protocol: Protocol) -> None:
        self.species = sys_.meta.state
        self._sys, self._p, self._x, self._protocol = sys_, p, x, protocol
        self._f, _ = sys_.bind(p)

    def state(self) -> np.ndarray:
        return self._x  # never modified in place: advance() replaces it

    def restore(self, x: np.ndarray) -> None:
        self._x = x

    def advance(self, t0: float, t1: float) -> np.ndarray:
        try:
            self._x = _integrate(self._sys, self._p, self._x, np.array([t0, t1]), self._protocol)[-1]
        except _SolverFailure as err:
            raise StepFailure(f"LSODA: {err}") from None
        return self._x

    def rates(self, t: float) -> np.ndarray:
        return self._f(t, self._x)


class ScipyEngine:
    """Deterministic ODE simulation with LSODA (``scipy.integrate.odeint``) on generated C code."""

    name = "scipy"
    time_units = "min"

    def __init__(self, backend: str | None = None) -> None:
        chosen = (backend or os.environ.get(BACKEND_ENV) or "auto").strip().lower()
        if chosen not in BACKENDS:
            raise EngineUnavailableError(
                f"unknown scipy engine backend {chosen!r} (from "
                f"{'the argument' if backend else BACKEND_ENV}); choose one of "
                f"{', '.join(BACKENDS)}"
            )
        self.backend = chosen
        self._cache: dict[str, _System] = {}

    def system(self, model: Model) -> _System:
        """The model's generated functions (built once per model and process)."""
        sys_ = self._cache.get(model.sha256)
        if sys_ is None:
            sys_ = self._cache[model.sha256] = build_system(model.sbml, self.backend)
        return sys_

    # ------------------------------------------------------------------ helpers
    def _fail(self, protocol: Protocol, msg: str, t: float | None = None) -> SimulationError:
        return SimulationError(msg, engine=self.name, run_id=protocol.label, t_reached=t)

    def _apply(self, sys_: _System, x: np.ndarray, p: np.ndarray, change: Change, protocol: Protocol) -> None:
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

    def _selector(self, sys_: _System, model: Model, protocol: Protocol) -> Selector:
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
            x = preequilibrate(_LsodaTrajectory(sys_, p, x, protocol), protocol, self.name)
        out_t = np.asarray(protocol.times, dtype=float)
        out = np.full((out_t.size, len(protocol.selections)), np.nan)
        for seg in segments(protocol):
            if seg.event is not None:
                for ch in seg.event.changes:
                    self._apply(sys_, x, p, ch, protocol)
            if seg.grid.size < 2:
                continue
            try:
                res = _integrate(sys_, p, x, seg.grid, protocol)
            except _SolverFailure as err:
                raise self._fail(
                    protocol, f"LSODA failed between t = {seg.start:g} and {seg.end:g} min: {err}", err.t
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
