"""The asynchronous Boolean update as one native call per stretch of steps.

An elementary update sets, in every trajectory, one chosen node to its rule's value, read from the
network's truth tables (:attr:`igfsim.model.bnet.BooleanNetwork.truth_tables`). Done from Python
it is a few numpy calls per elementary update, so an arm (about a thousand steps of some thirty
updates) takes a second or two; :func:`async_steps` runs many steps in one call of a small C
kernel, built once with the system compiler and kept in the engine cache (:mod:`.native`), and
falls back to the same loop in numpy without a compiler (or with ``IGFSIM_BOOLEAN_BACKEND=python``).
Both draw nothing themselves: the caller passes the chosen nodes, so both give the same states.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import warnings
from pathlib import Path

import numpy as np

from igfsim.cache import private_cache
from igfsim.engines.native import CFLAGS, compile_into, find_compiler, load_or_build, verified_copy
from igfsim.errors import EngineUnavailableError

#: environment variable choosing the update code: "auto" (default: C when a compiler is found), "c", "python"
BACKEND_ENV = "IGFSIM_BOOLEAN_BACKEND"

SOURCE = r"""
#include <stdint.h>
#include <stddef.h>

/* x: n_traj rows of `stride` bytes; picks: per step an (m, n_traj) block of node ids. A node's next
   value is table[offsets[k] + sum_j row[regs[k][j]] << j]. With `means`, row s of the (n_steps, n)
   array gets the mean of every node over the trajectories after step s. With `stop_at_fixed`, stops
   before the first step at which every trajectory is a fixed point; returns the steps done. */
long igf_async_steps(long n_traj, long stride, uint8_t *x, long n_nodes, long n_steps, long m,
                     const int64_t *picks, long width, const int64_t *regs, const int64_t *offsets,
                     const uint8_t *table, double *means, int stop_at_fixed)
{
  for (long s = 0; s < n_steps; ++s) {
    if (stop_at_fixed) {
      int fixed = 1;
      for (long t = 0; t < n_traj && fixed; ++t) {
        const uint8_t *row = x + t * stride;
        for (long k = 0; k < n_nodes; ++k) {
          const int64_t *r = regs + k * width;
          long idx = 0;
          for (long j = 0; j < width; ++j) idx |= (long)row[r[j]] << j;
          if (table[offsets[k] + idx] != row[k]) { fixed = 0; break; }
        }
      }
      if (fixed) return s;
    }
    const int64_t *ps = picks + s * m * n_traj;
    for (long u = 0; u < m; ++u) {
      for (long t = 0; t < n_traj; ++t) {
        int64_t k = ps[u * n_traj + t];
        uint8_t *row = x + t * stride;
        const int64_t *r = regs + k * width;
        long idx = 0;
        for (long j = 0; j < width; ++j) idx |= (long)row[r[j]] << j;
        row[k] = table[offsets[k] + idx];
      }
    }
    if (means) {
      double *out = means + s * n_nodes;
      for (long k = 0; k < n_nodes; ++k) {
        long on = 0;
        for (long t = 0; t < n_traj; ++t) on += x[t * stride + k];
        out[k] = (double)on / (double)n_traj;
      }
    }
  }
  return n_steps;
}
"""

_KERNEL: list[object] = []  # the loaded function, once per process (or None: no compiler)


def _load() -> object | None:
    choice = os.environ.get(BACKEND_ENV, "auto").strip().lower()
    if choice == "python":
        return None
    cc = find_compiler()
    if cc is None:
        if choice == "c":
            raise EngineUnavailableError("the Boolean engine's C update needs a C compiler (cc, gcc, clang or $CC)")
        return None
    key = hashlib.sha256("\0".join([SOURCE, cc, *CFLAGS, platform.machine(), platform.system()]).encode()).hexdigest()
    lib_path = private_cache("boolean") / f"boolean-kernel-{key[:40]}.so"
    return load_or_build(lib_path, _bind, lambda: compile_into(lib_path, SOURCE, cc, "boolean"), "boolean")


def _bind(lib_path: Path) -> object | None:
    """The update function of the stored library, or None when it is missing or does not verify."""
    with verified_copy(lib_path) as copy:
        if copy is None:
            return None
        fn = ctypes.CDLL(str(copy)).igf_async_steps
        fn.restype = ctypes.c_long
        long_, ptr = ctypes.c_long, ctypes.c_void_p
        fn.argtypes = [long_, long_, ptr, long_, long_, long_, ptr, long_, ptr, ptr, ptr, ptr, ctypes.c_int]
        return fn


def kernel() -> object | None:
    """The native update function, or None (no compiler, or the Python update chosen)."""
    if not _KERNEL:
        try:
            _KERNEL.append(_load())
        except EngineUnavailableError as err:
            if os.environ.get(BACKEND_ENV, "auto").strip().lower() == "c":
                raise
            warnings.warn(f"{err}; the Boolean engine uses its slower numpy update", RuntimeWarning, stacklevel=3)
            _KERNEL.append(None)
    return _KERNEL[0]


def async_steps(
    x: np.ndarray,
    picks: np.ndarray,
    tables: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_nodes: int,
    means: np.ndarray | None = None,
    stop_at_fixed: bool = False,
) -> int:
    """Run ``picks`` (``(steps, m, n_traj)`` node ids) on the states ``x`` (``(n_traj, n_nodes + 1)``
    uint8, C order, changed in place); fill ``means`` (``(steps, n_nodes)``) when given; with
    ``stop_at_fixed`` stop before a step at which every trajectory is at a fixed point. Returns
    the number of steps done."""
    regs, offsets, table = tables
    fn = kernel()
    if fn is None:
        return _numpy_steps(x, picks, tables, n_nodes, means, stop_at_fixed)
    regs64 = np.ascontiguousarray(regs, dtype=np.int64)
    off64 = np.ascontiguousarray(offsets, dtype=np.int64)
    tab8 = np.ascontiguousarray(table, dtype=np.uint8)
    p64 = np.ascontiguousarray(picks, dtype=np.int64)
    assert x.dtype == np.uint8 and x.flags.c_contiguous
    return int(
        fn(  # type: ignore[operator]
            x.shape[0],
            x.shape[1],
            x.ctypes.data,
            n_nodes,
            p64.shape[0],
            p64.shape[1],
            p64.ctypes.data,
            regs64.shape[1],
            regs64.ctypes.data,
            off64.ctypes.data,
            tab8.ctypes.data,
            None if means is None else means.ctypes.data,
            int(stop_at_fixed),
        )
    )


def _numpy_steps(x, picks, tables, n_nodes, means, stop_at_fixed) -> int:
    regs, offsets, table = tables
    rows = np.arange(len(x))
    w = (1 << np.arange(regs.shape[1])).astype(np.int64)
    every = np.arange(n_nodes)
    for s, step in enumerate(picks):
        if stop_at_fixed and np.array_equal(table[offsets[every] + x[:, regs[every]] @ w], x[:, :n_nodes]):
            return s
        for k in step:
            x[rows, k] = table[offsets[k] + x[rows[:, None], regs[k]] @ w]
        if means is not None:
            means[s] = x[:, :n_nodes].mean(axis=0)
    return len(picks)
