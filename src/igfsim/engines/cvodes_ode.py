"""Sparse CVODE engine: the scipy engine's generated C driven by SUNDIALS CVODES with the KLU sparse
direct solver and the analytic Jacobian, one native call per integration.

libRoadRunner solves the Newton systems of its BDF steps with a dense LU of a finite-difference
Jacobian; the model's Jacobian is sparse (a few entries per row), and igfsim already generates the
analytic one for the scipy engine (:mod:`.scipy_build`). This engine compiles that C together with a
small driver (:data:`DRIVER`) into one library per model, linked against the SUNDIALS (CVODES, KLU
linear solver, sparse matrix, serial vector) and SuiteSparse (KLU, AMD, COLAMD, BTF) static
libraries that the project's ``amici`` extra builds (``pip install ".[amici]"``; AMICI ships them,
built as a ``Release``: :func:`sundials_build` reads it from ``sundials_config.h``). The protocol
semantics, pre-equilibration and selections are the scipy engine's (:class:`CvodesEngine` only
swaps the integrator). Without those libraries the engine is unavailable, with that reason.
"""

from __future__ import annotations

import ctypes
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from igfsim.engines.native import find_compiler
from igfsim.engines.protocol import MAX_STEPS, Protocol
from igfsim.engines.scipy_build import Variant, compiled_system
from igfsim.engines.scipy_ode import ScipyEngine, _SolverFailure
from igfsim.engines.scipy_system import CSystem, System
from igfsim.errors import EngineUnavailableError
from igfsim.model.sbml import Model

#: the static libraries linked into each model's library, in link order
LIBRARIES = (
    "sundials_cvodes",
    "sundials_sunlinsolklu",
    "sundials_sunmatrixsparse",
    "sundials_nvecserial",
    "sundials_core",
    "klu",
    "btf",
    "amd",
    "colamd",
    "suitesparseconfig",
)

DRIVER = r"""
#include <cvodes/cvodes.h>
#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_sparse.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <stdlib.h>
#include <string.h>

/* one integrator per model and process: created once, re-initialised for every integration */
typedef struct {
  SUNContext ctx; void *mem; N_Vector y; SUNMatrix A; SUNLinearSolver LS;
  long n, nnz; sunindextype *colptr, *rowidx; long *dense_pos; double *dense; const double *p;
  int ready;
} igf_cv;

static int igf_cv_rhs(sunrealtype t, N_Vector y, N_Vector ydot, void *ud) {
  igf_cv *h = (igf_cv *)ud;
  double *d = N_VGetArrayPointer(ydot);
  igf_rhs(t, N_VGetArrayPointer(y), h->p, d);
  for (long i = 0; i < h->n; ++i) if (!(d[i] - d[i] == 0.0)) return 1;  /* NaN or inf: CVODE retries smaller */
  return 0;
}

static int igf_cv_jac(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *ud,
                      N_Vector t1, N_Vector t2, N_Vector t3) {
  igf_cv *h = (igf_cv *)ud;
  igf_jac(t, N_VGetArrayPointer(y), h->p, h->dense);  /* column-major positions of the nonzeros */
  memcpy(SUNSparseMatrix_IndexPointers(J), h->colptr, (h->n + 1) * sizeof(sunindextype));
  memcpy(SUNSparseMatrix_IndexValues(J), h->rowidx, h->nnz * sizeof(sunindextype));
  double *v = SUNSparseMatrix_Data(J);
  for (long k = 0; k < h->nnz; ++k) v[k] = h->dense_pos[k] < 0 ? 0.0 : h->dense[h->dense_pos[k]];
  return 0;
}

void *igf_cv_new(long n, long nnz, const long *colptr, const long *rowidx, const long *dense_pos) {
  igf_cv *h = (igf_cv *)calloc(1, sizeof(igf_cv));
  if (!h || SUNContext_Create(SUN_COMM_NULL, &h->ctx)) return NULL;
  SUNContext_ClearErrHandlers(h->ctx);  /* igfsim reports failures itself */
  h->n = n; h->nnz = nnz;
  h->colptr = (sunindextype *)malloc((n + 1) * sizeof(sunindextype));
  h->rowidx = (sunindextype *)malloc((nnz > 0 ? nnz : 1) * sizeof(sunindextype));
  h->dense_pos = (long *)malloc((nnz > 0 ? nnz : 1) * sizeof(long));
  h->dense = (double *)calloc(n * n > 0 ? n * n : 1, sizeof(double));
  for (long i = 0; i <= n; ++i) h->colptr[i] = colptr[i];
  for (long k = 0; k < nnz; ++k) { h->rowidx[k] = rowidx[k]; h->dense_pos[k] = dense_pos[k]; }
  h->y = N_VNew_Serial(n, h->ctx);
  h->mem = CVodeCreate(CV_BDF, h->ctx);
  h->A = SUNSparseMatrix(n, n, nnz, CSC_MAT, h->ctx);
  h->LS = SUNLinSol_KLU(h->y, h->A, h->ctx);
  if (!h->y || !h->mem || !h->A || !h->LS) return NULL;
  return h;
}

/* x: the state at times[0], replaced by the state at the last time; out: (n_t, n) rows, row 0 = x.
   Returns 0, or CVODE's flag (negative), with *t_fail the time it reached. */
int igf_cv_solve(void *hh, const double *p, double *x, long n_t, const double *times, double *out,
                 double rtol, double atol, long max_steps, double *t_fail) {
  igf_cv *h = (igf_cv *)hh;
  long n = h->n;
  h->p = p;
  memcpy(N_VGetArrayPointer(h->y), x, n * sizeof(double));
  memcpy(out, x, n * sizeof(double));
  int flag;
  if (!h->ready) {
    flag = CVodeInit(h->mem, igf_cv_rhs, times[0], h->y);
    if (!flag) flag = CVodeSetLinearSolver(h->mem, h->LS, h->A);
    if (!flag) flag = CVodeSetJacFn(h->mem, igf_cv_jac);
    if (!flag) flag = CVodeSetUserData(h->mem, h);
    if (flag) { *t_fail = times[0]; return flag; }
    h->ready = 1;
  } else {
    flag = CVodeReInit(h->mem, times[0], h->y);
    if (flag) { *t_fail = times[0]; return flag; }
  }
  CVodeSStolerances(h->mem, rtol, atol);
  CVodeSetMaxNumSteps(h->mem, max_steps);
  for (long i = 1; i < n_t; ++i) {
    sunrealtype t = times[i - 1];
    flag = CVode(h->mem, times[i], h->y, &t, CV_NORMAL);
    if (flag < 0) { *t_fail = t; return flag; }
    memcpy(out + i * n, N_VGetArrayPointer(h->y), n * sizeof(double));
  }
  memcpy(x, out + (n_t - 1) * n, n * sizeof(double));
  return 0;
}
"""

#: CVODE's return flags, as its documentation names them
FLAGS = {
    -1: "CV_TOO_MUCH_WORK: the step limit was reached before the output time",
    -2: "CV_TOO_MUCH_ACC: the tolerances cannot be met",
    -3: "CV_ERR_FAILURE: error test failures at the minimum step size",
    -4: "CV_CONV_FAILURE: the corrector did not converge at the minimum step size",
    -5: "CV_LINIT_FAIL: the linear solver could not be initialised",
    -6: "CV_LSETUP_FAIL: the sparse LU factorisation (KLU) failed",
    -7: "CV_LSOLVE_FAIL: the linear solve failed",
    -8: "CV_RHSFUNC_FAIL: the right-hand side is not finite",
    -9: "CV_FIRST_RHSFUNC_ERR: the right-hand side is not finite at the start",
    -10: "CV_REPTD_RHSFUNC_ERR: the right-hand side is repeatedly not finite",
    -11: "CV_UNREC_RHSFUNC_ERR: the right-hand side failed",
}


@dataclass(frozen=True)
class SundialsBuild:
    """The SUNDIALS the engine links: where, its version, and how it was built."""

    prefix: Path
    version: str
    build_type: str
    klu: bool


@lru_cache(maxsize=1)
def sundials_build() -> SundialsBuild:
    """The SUNDIALS and KLU static libraries the ``amici`` extra installed (found without importing
    amici); :class:`EngineUnavailableError` saying how to get them when they are missing."""
    spec = importlib.util.find_spec("amici")
    how = 'the cvodes engine needs the SUNDIALS and KLU libraries of the amici extra: pip install ".[amici]"'
    if spec is None or spec.origin is None:
        raise EngineUnavailableError(how)
    prefix = Path(spec.origin).parent / "_installation"
    config = prefix / "include" / "sundials" / "sundials_config.h"
    missing = [f"lib{name}.a" for name in LIBRARIES if not (prefix / "lib" / f"lib{name}.a").is_file()]
    if not config.is_file() or missing:
        raise EngineUnavailableError(f"{how} (not found in {prefix}: {', '.join(missing) or config.name})")
    text = config.read_text(encoding="utf-8", errors="replace")

    def define(name: str) -> str:
        found = re.search(rf'#define {name} "([^"]*)"', text)
        return found.group(1) if found else "unknown"

    build = SundialsBuild(prefix, define("SUNDIALS_VERSION"), define("SUN_BUILD_TYPE"), "SUNDIALS_KLU_ENABLED" in text)
    if not build.klu:
        raise EngineUnavailableError(f"{how} (the SUNDIALS in {prefix} was built without KLU)")
    return build


class CvodesSystem(CSystem):
    """A model's library with the CVODES driver; one integrator, made on first use."""

    def __init__(self, path: Path, load_from: Path | None = None):
        super().__init__(path, load_from)
        lib, ptr, long_, dbl = self.lib, ctypes.c_void_p, ctypes.c_long, ctypes.c_double
        lib.igf_cv_new.restype = ptr
        lib.igf_cv_new.argtypes = [long_, long_, ptr, ptr, ptr]
        lib.igf_cv_solve.restype = ctypes.c_int
        lib.igf_cv_solve.argtypes = [ptr, ptr, ptr, long_, ptr, ptr, dbl, dbl, long_, ptr]
        self._handle: int | None = None

    def _integrator(self) -> int:
        if self._handle is None:
            if not self.meta.has_jacobian:
                raise EngineUnavailableError("the cvodes engine needs the model's analytic Jacobian, which it lacks")
            n = self.n
            positions = set(self.meta.jac_nonzeros) | {i * n + i for i in range(n)}  # diagonal: for I - gamma J
            order = sorted(positions, key=lambda q: (q // n, q % n))  # column-major = CSC order
            rowidx = np.array([q % n for q in order], dtype=np.int64)
            colptr = np.searchsorted(np.array([q // n for q in order]), np.arange(n + 1)).astype(np.int64)
            nonzero = set(self.meta.jac_nonzeros)
            dense_pos = np.array([q if q in nonzero else -1 for q in order], dtype=np.int64)
            # the driver copies the pattern: the arrays need not outlive this call
            handle = self.lib.igf_cv_new(n, len(order), colptr.ctypes.data, rowidx.ctypes.data, dense_pos.ctypes.data)
            if not handle:
                raise EngineUnavailableError("the cvodes engine could not create its integrator (out of memory?)")
            self._handle = handle
        return self._handle

    def solve(self, p: np.ndarray, x0: np.ndarray, grid: np.ndarray, rtol: float, atol: float) -> np.ndarray:
        """States at ``grid`` from ``x0`` at ``grid[0]``; raises :class:`_SolverFailure`."""
        x = np.array(x0, dtype=float)
        times = np.ascontiguousarray(grid, dtype=float)
        out = np.empty((times.size, self.n))
        t_fail = ctypes.c_double(times[0])
        p = np.ascontiguousarray(p, dtype=float)
        flag = self.lib.igf_cv_solve(
            self._integrator(),
            p.ctypes.data,
            x.ctypes.data,
            times.size,
            times.ctypes.data,
            out.ctypes.data,
            rtol,
            atol,
            MAX_STEPS,
            ctypes.byref(t_fail),
        )
        if flag:
            raise _SolverFailure(f"CVODES {FLAGS.get(flag, f'flag {flag}')}", float(t_fail.value))
        return out


def _solve(sys_: System, p: np.ndarray, x0: np.ndarray, grid: np.ndarray, protocol: Protocol) -> np.ndarray:
    if x0.size == 0:  # nothing to integrate: every species is fixed or computed by a rule
        return np.zeros((grid.size, 0))
    assert isinstance(sys_, CvodesSystem)
    return sys_.solve(p, x0, grid, protocol.rtol, protocol.atol)


class CvodesEngine(ScipyEngine):
    """The scipy engine's model and semantics, integrated by CVODES (BDF) with KLU and the analytic Jacobian."""

    name = "cvodes"
    solver = "CVODES/KLU"
    _solve = staticmethod(_solve)

    def __init__(self) -> None:
        super().__init__(backend="c")

    def system(self, model: Model) -> System:
        sys_ = self._cache.get(model.sha256)
        if sys_ is None:
            build = sundials_build()
            cc = find_compiler()
            if cc is None:
                raise EngineUnavailableError("the cvodes engine needs a C compiler (cc, gcc, clang or $CC)")
            include = build.prefix / "include"
            args = (
                f"-I{include}",
                f"-I{include / 'suitesparse'}",
                f"-L{build.prefix / 'lib'}",
                *(f"-l{lib}" for lib in LIBRARIES),
            )
            variant = Variant("cvodes", DRIVER, args, CvodesSystem)
            sys_ = self._cache[model.sha256] = compiled_system(model.sbml, cc, variant)
        return sys_

    def check_model(self, model: Model) -> None:
        """:class:`EngineUnavailableError` when the SUNDIALS libraries or a compiler are missing."""
        self.system(model)
