"""What a calibration returns: every start (converged or failed), the best fit and its tables.

:meth:`CalibrationResult.parameter_table` is the PEtab parameter table with the best values in
``nominalValue`` (the form PEtab tools read back); :meth:`convergence_table` has one row per start
(objective, evaluations, time, exit flag and message), :meth:`fit_table` the measurements beside the
simulation at the best parameters. :meth:`write_tables` writes them as TSV plus ``calibration.json``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from igfsim.calibrate.objective import FitProblem, Gradient, SolverSettings
from igfsim.calibrate.problem import unscale
from igfsim.sweep.store import atomic_write

__all__ = ["CalibrationResult", "StartRecord"]

SUMMARY_FILE = "calibration.json"
PARAMETERS_FILE = "best_parameters.tsv"
STARTS_FILE = "starts.tsv"
FIT_FILE = "fit.tsv"


@dataclass(frozen=True)
class StartRecord:
    """One optimiser start: where it began, where it ended and how."""

    start: int
    optimizer: str
    fval: float  # negative log-likelihood; inf when the start failed
    x0: tuple[float, ...]  # on the parameters' scales (log10 for log10 parameters)
    x: tuple[float, ...]
    n_fval: int
    n_grad: int
    time_s: float
    exitflag: str
    message: str

    @property
    def ok(self) -> bool:
        return math.isfinite(self.fval)


@dataclass(frozen=True)
class CalibrationResult:
    """A finished multi-start calibration."""

    problem: FitProblem
    starts: tuple[StartRecord, ...]  # best first; failed starts last
    optimizer: str
    fallback: str | None
    seed: int
    solver: SolverSettings
    wall_s: float
    n_workers: int | None
    nominal_fval: float | None = None  # objective at the table's nominal values, when they are complete
    gradient: Gradient = Gradient.FINITE_DIFFERENCES  # what the main optimiser was given
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> StartRecord:
        return self.starts[0]

    @property
    def n_ok(self) -> int:
        return sum(s.ok for s in self.starts)

    @property
    def n_failed(self) -> int:
        return len(self.starts) - self.n_ok

    def n_at_best(self, tol: float = 1.0) -> int:
        """Starts whose objective is within ``tol`` of the best (``tol`` in negative log-likelihood units)."""
        return sum(s.ok and s.fval - self.best.fval <= tol for s in self.starts)

    def best_values(self) -> dict[str, float]:
        """The best estimate of each estimated quantity, on its natural (linear) scale."""
        ids, scales = self.problem.parameter_ids, self.problem.scales
        return {p: unscale(v, s) for p, v, s in zip(ids, self.best.x, scales, strict=True)}

    def pypesto_result(self, pp: Any) -> Any:
        """A ``pypesto.Result`` of the pyPESTO problem ``pp`` holding the best fit, which pyPESTO's
        profiling and sampling start from."""
        import numpy as np
        import pypesto
        from pypesto.result import OptimizerResult

        full = pp.get_full_vector(np.asarray(self.best.x, dtype=float), pp.x_fixed_vals)
        res = pypesto.Result(pp)
        res.optimize_result.append(OptimizerResult(id="best", x=full, fval=self.best.fval, x0=full))
        return res

    def parameter_table(self) -> Any:
        """The problem's parameter table with the best estimates (PEtab form for PEtab problems)."""
        return self.problem.parameter_table(self.best.x if self.best.ok else None)

    def convergence_table(self) -> Any:
        import pandas as pd

        rows = [
            {
                "rank": k + 1,
                "start": s.start,
                "optimizer": s.optimizer,
                "fval": s.fval,
                "delta_to_best": s.fval - self.best.fval if s.ok and self.best.ok else math.inf,
                "n_fval": s.n_fval,
                "n_grad": s.n_grad,
                "time_s": round(s.time_s, 3),
                "exitflag": s.exitflag,
                "message": s.message,
            }
            for k, s in enumerate(self.starts)
        ]
        return pd.DataFrame(rows)

    def fit_table(self) -> Any:
        """Measurements beside the simulation at the best parameters (one row per measurement)."""
        return self.problem.fit_table(self.best.x, self.solver)

    def summary(self) -> dict[str, Any]:
        return {
            "problem": str(self.problem.path),
            "n_parameters": len(self.problem.parameter_ids),
            "n_measurements": self.problem.n_measurements,
            "optimizer": self.optimizer,
            "fallback": self.fallback,
            "gradient": _GRADIENT_TEXT[self.gradient],
            "seed": self.seed,
            "solver": {"rtol": self.solver.rtol, "atol": self.solver.atol, "fd_step": self.solver.fd_step},
            "n_starts": len(self.starts),
            "n_ok": self.n_ok,
            "n_failed": self.n_failed,
            "n_within_1_of_best": self.n_at_best(1.0),
            "best_fval": _json_float(self.best.fval),
            "nominal_fval": _json_float(self.nominal_fval),
            "best_parameters": {k: _json_float(v) for k, v in self.best_values().items()} if self.best.ok else {},
            "wall_s": round(self.wall_s, 3),
            "n_workers": self.n_workers,
            **self.meta,
        }

    def write_tables(self, folder: str | Path) -> list[Path]:
        """``best_parameters.tsv``, ``starts.tsv``, ``fit.tsv`` (when a start succeeded), ``calibration.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / PARAMETERS_FILE, folder / STARTS_FILE]
        self.parameter_table().to_csv(written[0], sep="\t")
        self.convergence_table().to_csv(written[1], sep="\t", index=False)
        if self.best.ok:
            written.append(folder / FIT_FILE)
            self.fit_table().to_csv(written[-1], sep="\t", index=False)
        written.append(folder / SUMMARY_FILE)
        atomic_write(written[-1], json.dumps(self.summary(), indent=2) + "\n")
        return written


_GRADIENT_TEXT = {
    Gradient.SENSITIVITIES: "exact: AMICI forward sensitivities (Fisher information as Hessian)",
    Gradient.FINITE_DIFFERENCES: "finite differences (central)",
    Gradient.NONE: "none (derivative-free)",
    Gradient.AUTO: "auto",
}


def _json_float(x: float | None) -> float | str | None:
    if x is None:
        return None
    return float(x) if math.isfinite(x) else str(x)
