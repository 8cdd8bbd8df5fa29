"""The scipy engine's run-time systems: a model's tables plus its four functions.

:class:`System` holds what integration needs from :class:`igfsim.engines.sbml_math.Meta` (state and
parameter indices, compartments, SBML sizes); :class:`CSystem` calls the functions of a compiled
library through ``ctypes`` and :class:`PySystem` the same programs lambdified with sympy. Both are
built by :func:`igfsim.engines.scipy_build.build_system`.
"""

from __future__ import annotations

import ctypes
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:  # sbml_math imports sympy and libsbml: only when a model is translated
    from igfsim.engines.sbml_math import Meta, Program

#: ``f(t, y)`` or ``jac(t, y)`` as odeint calls them
OdeFunction = Callable[[float, np.ndarray], np.ndarray]


class System(ABC):
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


class CSystem(System):
    """The functions of a compiled library (whose ``igf_meta`` gives the tables)."""

    def __init__(self, path: Path, load_from: Path | None = None):
        """The library at ``path``, loaded from ``load_from`` (a private, verified copy) when given."""
        lib = ctypes.CDLL(str(load_from or path))
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


class PySystem(System):
    """The same programs through ``sympy.lambdify`` (module ``math``): no compiler needed."""

    def __init__(self, meta: Meta, progs: dict[str, Program]):
        import sympy as sp

        from igfsim.engines.sbml_math import symbols_of
        from igfsim.engines.sbml_reader import TIME

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
