"""Multi-start calibration with pyPESTO: random starts in the bounds, a local optimiser from each.

The default local optimiser is fides (a trust-region method), given exact gradients from AMICI's
forward sensitivities with the Fisher information as its Hessian approximation where it can have
them (PEtab problems, AMICI installed), else finite-difference gradients with a BFGS Hessian
approximation (:mod:`igfsim.calibrate.objective`). A start whose
gradient-based run fails (the simulation fails along the way, a non-finite objective) is re-run
from the same point with the derivative-free fallback (Nelder-Mead), and recorded either way:
the calibration goes on. Starts are drawn uniformly on the parameters' scales (log10 for log10
parameters) from ``numpy.random.default_rng(seed)``, so a calibration repeats exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from igfsim.calibrate.engine import ExecutorEngine, StartDone
from igfsim.calibrate.objective import FitProblem, Gradient, SolverSettings, library_quiet, native_output_silenced
from igfsim.calibrate.problem import load_problem
from igfsim.calibrate.result import CalibrationResult, StartRecord

__all__ = ["CalibrationOptions", "Optimizer", "calibrate"]


class Optimizer(StrEnum):
    """Local optimisers (all from libraries: fides, SciPy through pyPESTO)."""

    FIDES = "fides"  # trust region, gradient; Hessian: Fisher information (sensitivities) or BFGS
    LBFGSB = "l-bfgs-b"  # SciPy, gradient
    NELDER_MEAD = "nelder-mead"  # SciPy, derivative-free

    @property
    def derivative_free(self) -> bool:
        return self is Optimizer.NELDER_MEAD

    def gradient_for(self, gradient: Gradient) -> Gradient:
        """The gradient this optimiser is given when the calibration's (resolved) gradient is ``gradient``."""
        return Gradient.NONE if self.derivative_free else gradient


@dataclass(frozen=True)
class CalibrationOptions:
    """How to calibrate: starts, optimiser, gradient, fallback, seed, iteration limit and solver settings."""

    n_starts: int = 20
    optimizer: Optimizer = Optimizer.FIDES
    gradient: Gradient = Gradient.AUTO
    fallback: Optimizer | None = Optimizer.NELDER_MEAD
    seed: int = 0
    max_iter: int = 1000
    solver: SolverSettings = field(default_factory=SolverSettings)

    def __post_init__(self) -> None:
        if not (isinstance(self.n_starts, int) and 1 <= self.n_starts <= 100_000):
            raise ValueError(f"n_starts: expected an integer from 1 to 100000, got {self.n_starts!r}")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise ValueError(f"seed: expected a non-negative integer, got {self.seed!r}")
        if not (isinstance(self.max_iter, int) and self.max_iter >= 1):
            raise ValueError(f"max_iter: expected a positive integer, got {self.max_iter!r}")
        if self.gradient is Gradient.NONE and not self.optimizer.derivative_free:
            raise ValueError(f"gradient: {self.optimizer.value} needs one (auto, sensitivities, finite-differences)")
        if self.fallback is not None and not self.fallback.derivative_free:
            raise ValueError(f"fallback: expected a derivative-free optimiser, got {self.fallback.value!r}")


def _optimizer(which: Optimizer, max_iter: int) -> Any:
    import logging

    import pypesto.optimize as po

    if which is Optimizer.FIDES:
        return po.FidesOptimizer(verbose=logging.ERROR, options={"maxiter": max_iter})
    if which is Optimizer.LBFGSB:
        return po.ScipyOptimizer(method="L-BFGS-B", options={"maxiter": max_iter})
    return po.ScipyOptimizer(method="Nelder-Mead", options={"maxiter": max_iter * 10, "adaptive": True})


def start_points(
    problem: FitProblem,
    n_starts: int,
    seed: int,
    *,
    solver: SolverSettings | None = None,
    check: bool = True,
    max_tries: int = 20,
    objective: Any = None,
) -> np.ndarray:
    """``n_starts`` points uniform in the bounds on the parameters' scales (from the priors of a PEtab v2 problem).

    With ``check`` (the default) a point where the model cannot be simulated (non-finite objective)
    is drawn again, up to ``max_tries`` times, as pyPESTO's ``check_fval`` does: wide bounds such as
    Fujita 2010's eight decades each way put many uniform draws where CVODE fails. A point that
    stays non-finite is kept (its start will be recorded as failed). ``objective`` (the problem's
    value-only pyPESTO objective) saves building it again when the caller has it.
    """
    rng = np.random.default_rng(seed)
    lb, ub = problem.lower_scaled, problem.upper_scaled
    sample = getattr(problem, "sample_starts", None)  # a problem with priors of its own (PEtab v2)

    def draw(n: int) -> np.ndarray:
        return np.asarray(sample(rng, n)) if sample is not None else lb + rng.random((n, len(lb))) * (ub - lb)

    x0s = draw(n_starts)
    if not check:
        return x0s
    if objective is None:
        objective = problem.build(Gradient.NONE, solver or SolverSettings()).objective
    for k in range(n_starts):
        for _ in range(max_tries):
            try:
                with library_quiet(), native_output_silenced():
                    ok = bool(np.isfinite(objective(x0s[k])))
            except Exception:  # a simulation failure raised instead of reported: draw again
                ok = False
            if ok:
                break
            x0s[k] = draw(1)[0]
    return x0s


def _run(
    problem: FitProblem,
    which: Optimizer,
    x0s: np.ndarray,
    ids: list[str],
    options: CalibrationOptions,
    engine: ExecutorEngine,
    gradient: Gradient,
) -> list[Any]:
    import pypesto.optimize as po

    pp = problem.build(which.gradient_for(gradient), options.solver)
    pp.set_x_guesses(np.array([pp.get_full_vector(x, pp.x_fixed_vals) for x in x0s]))
    with library_quiet():
        res = po.minimize(
            pp,
            optimizer=_optimizer(which, options.max_iter),
            n_starts=len(x0s),
            ids=ids,
            engine=engine,
            progress_bar=False,
            options=po.OptimizeOptions(allow_failed_starts=True, report_hess=False, report_sres=False),
        )
    found = list(res.optimize_result.list)
    for r in found:  # pyPESTO reports full vectors (fixed parameters included); keep the estimated ones
        for key in ("x", "x0"):
            v = getattr(r, key, None)
            if v is not None and len(v) == pp.dim_full and pp.dim_full != pp.dim:
                setattr(r, key, np.asarray(v)[pp.x_free_indices])
    return found


def calibrate(
    problem: FitProblem | str | Path,
    options: CalibrationOptions | None = None,
    *,
    executor: object = None,
    n_workers: int | None = None,
    progress: bool = True,
    on_start_done: StartDone | None = None,
    start_at: np.ndarray | None = None,
) -> CalibrationResult:
    """Fit a PEtab problem by multi-start local optimisation; return every start and the best fit.

    ``start_at`` (one row per start, the estimated parameters on their scales, inside the bounds) are
    the start points instead of ``options.n_starts`` random draws, e.g. rows of :func:`start_points`
    to re-run chosen starts of an earlier calibration.
    ``executor`` is what sweeps take: None (a spawn process pool of ``n_workers``), ``"serial"``, any
    ``concurrent.futures.Executor`` or a ``distributed.Client``. ``on_start_done(index, result)`` is
    called as each start finishes (pyPESTO's ``OptimizerResult``).
    """
    options = options or CalibrationOptions()
    if isinstance(problem, str | Path):
        problem = load_any(problem)
    gradient = options.gradient.resolve(problem)  # refuses sensitivities it cannot give, before any work
    t0 = time.perf_counter()
    # the start check and the nominal value use the optimiser's own simulator: CVODE under AMICI and
    # under libRoadRunner fail at different points, and a start AMICI cannot simulate is no start
    checker = Gradient.SENSITIVITIES if gradient is Gradient.SENSITIVITIES else Gradient.NONE
    value_objective = problem.build(checker, options.solver).objective  # built once for both uses
    if start_at is None:
        x0s = start_points(problem, options.n_starts, options.seed, objective=value_objective)
    else:
        x0s = _given_starts(problem, start_at)
    ids = [str(i) for i in range(len(x0s))]
    label = f"calibrate {problem.name} ({options.optimizer.value})"
    engine = ExecutorEngine(executor, n_workers, progress=progress, label=label, on_done=on_start_done)
    found = _run(problem, options.optimizer, x0s, ids, options, engine, gradient)
    records = {int(r.id): _record(int(r.id), options.optimizer.value, r, x0s[int(r.id)]) for r in found}
    redo = [i for i, rec in records.items() if not rec.ok]
    if redo and options.fallback is not None:
        engine.label = f"calibrate {problem.name} (fallback {options.fallback.value})"
        again = _run(problem, options.fallback, x0s[redo], [str(i) for i in redo], options, engine, Gradient.NONE)
        for r in again:
            i = int(r.id)
            rec = _record(i, options.fallback.value, r, x0s[i])
            first = records[i].message
            records[i] = StartRecord(**{**rec.__dict__, "message": f"{rec.message} (after {first})"})
    starts = sorted(records.values(), key=lambda s: (not s.ok, s.fval if s.ok else 0.0, s.start))
    return CalibrationResult(
        problem=problem,
        starts=tuple(starts),
        optimizer=options.optimizer.value,
        gradient=options.optimizer.gradient_for(gradient),
        fallback=options.fallback.value if options.fallback else None,
        seed=options.seed,
        solver=options.solver,
        wall_s=time.perf_counter() - t0,
        n_workers=n_workers,
        nominal_fval=_nominal_fval(problem, value_objective),
    )


def _given_starts(problem: FitProblem, starts: np.ndarray) -> np.ndarray:
    x0s = np.atleast_2d(np.asarray(starts, dtype=float))
    n = len(problem.parameter_ids)
    if x0s.ndim != 2 or x0s.shape[1] != n or x0s.shape[0] < 1:
        raise ValueError(f"start_at: expected rows of {n} values (the estimated parameters), got shape {x0s.shape}")
    lb, ub = np.asarray(problem.lower_scaled), np.asarray(problem.upper_scaled)
    outside = sorted({problem.parameter_ids[k] for k in np.nonzero(~((x0s >= lb) & (x0s <= ub)))[1]})
    if outside:
        raise ValueError(f"start_at: outside the bounds (on the parameters' scales) for {', '.join(outside)}")
    return x0s


def load_any(path: str | Path) -> FitProblem:
    """A PEtab problem (``format_version`` in the file) or an igfsim data problem (``data:``, ``parameters:``)."""
    from igfsim.calibrate.datasets import load_data_problem
    from igfsim.calibrate.problem import read_mapping

    head = read_mapping(Path(path), "a PEtab problem or an igfsim data problem (data, parameters)")
    if "format_version" not in head and ("data" in head or "parameters" in head):
        return load_data_problem(path)
    return load_problem(path)


def objective_at(problem: FitProblem, x_scaled: np.ndarray, solver: SolverSettings | None = None) -> float:
    """The negative log-likelihood at ``x_scaled`` (estimated parameters on their scales)."""
    pp = problem.build(Gradient.NONE, solver or SolverSettings())
    with library_quiet(), native_output_silenced():
        return float(pp.objective(np.asarray(x_scaled, dtype=float)))


def _nominal_fval(problem: FitProblem, objective: Any) -> float | None:
    x = problem.nominal_scaled
    if not np.all(np.isfinite(x)):
        return None
    try:
        with library_quiet(), native_output_silenced():
            return float(objective(np.asarray(x, dtype=float)))
    except Exception:  # a nominal point the model cannot simulate is not an error of the fit
        return math.inf


def _record(i: int, optimizer: str, r: Any, x0: np.ndarray) -> StartRecord:
    fval = float(r.fval) if r.fval is not None and np.isfinite(r.fval) else math.inf
    x = np.asarray(r.x if r.x is not None else x0, dtype=float)
    return StartRecord(
        start=i,
        optimizer=optimizer,
        fval=fval,
        x0=tuple(float(v) for v in np.asarray(x0, dtype=float)),
        x=tuple(float(v) for v in x),
        n_fval=int(r.n_fval or 0),
        n_grad=int(r.n_grad or 0),
        time_s=float(r.time or 0.0),
        exitflag=str(r.exitflag).removeprefix("ExitFlag."),
        message=str(r.message or ""),
    )
