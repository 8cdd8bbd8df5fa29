"""The objective a calibration minimises: PEtab's negative log-likelihood and, where it can, its gradient.

Two simulators, both through pyPESTO. **Values** come from pyPESTO's libRoadRunner objective
(``pypesto.objective.roadrunner``): it maps the problem's parameters per condition, simulates with
CVODE and evaluates the PEtab likelihood. **Exact gradients** of PEtab problems come from AMICI's
forward sensitivities (:mod:`igfsim.calibrate.sensitivities`, when AMICI is installed), with the
Fisher information as fides' Hessian approximation. Otherwise a gradient-based optimiser gets its
gradient from pyPESTO's finite differences (``pypesto.objective.FD``, central differences on the
optimiser's (log) scale) of the libRoadRunner objective. Those need tight integrator tolerances:
with CVODE at ``rtol=1e-6`` the difference quotient is dominated by solver noise (on Boehm 2014 a
gradient component of 25 at the optimum instead of about 0.01), so the defaults are ``rtol=1e-10``,
``atol=1e-12``. libRoadRunner's own forward sensitivities are not used: its
``timeSeriesSensitivities`` gives state sensitivities on evenly spaced times only, not those of
PEtab observables at the measured times.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from igfsim.calibrate.problem import CalibrationProblem

__all__ = ["FitProblem", "Gradient", "SolverSettings", "build_problem", "library_quiet", "native_output_silenced"]


class Gradient(StrEnum):
    """How the optimiser gets the objective's gradient."""

    SENSITIVITIES = "sensitivities"  # exact: AMICI forward sensitivities (PEtab problems, AMICI installed)
    FINITE_DIFFERENCES = "finite-differences"  # central differences of the libRoadRunner objective
    AUTO = "auto"  # sensitivities where available, else finite differences
    NONE = "none"  # derivative-free optimisers

    def resolve(self, problem: FitProblem) -> Gradient:
        """The gradient a gradient-based optimiser gets for ``problem`` (AUTO made concrete)."""
        from igfsim.calibrate.sensitivities import SensitivitiesUnavailableError, amici_available, require_amici

        if self is not Gradient.AUTO and self is not Gradient.SENSITIVITIES:
            return self
        possible = problem.supports_sensitivities and amici_available()
        if self is Gradient.AUTO:
            return Gradient.SENSITIVITIES if possible else Gradient.FINITE_DIFFERENCES
        if not problem.supports_sensitivities:
            raise SensitivitiesUnavailableError(
                f"{problem.path}: exact gradients are available for PEtab problems only; "
                "an igfsim data problem needs --gradient finite-differences (or auto)"
            )
        require_amici(problem.path)
        return self


@dataclass(frozen=True)
class SolverSettings:
    """CVODE settings of the calibration objective (tight: finite differences need them)."""

    rtol: float = 1e-10
    atol: float = 1e-12
    max_steps: int = 100_000
    fd_step: float = 1e-5  # central-difference step on the parameter's scale (log10 units for log10)

    def __post_init__(self) -> None:
        for name in ("rtol", "atol", "fd_step"):
            value = getattr(self, name)
            if not (isinstance(value, float | int) and 0 < value < 1):
                raise ValueError(f"SolverSettings.{name}: expected a number in (0, 1), got {value!r}")
        if self.max_steps < 1:
            raise ValueError(f"SolverSettings.max_steps: expected a positive integer, got {self.max_steps!r}")


class FitProblem(Protocol):
    """What the multi-start driver needs of a problem: a PEtab problem or igfsim's own data problem."""

    @property
    def path(self) -> Path: ...
    @property
    def name(self) -> str: ...
    @property
    def parameter_ids(self) -> list[str]: ...
    @property
    def scales(self) -> list[str]: ...
    @property
    def lower_scaled(self) -> np.ndarray: ...
    @property
    def upper_scaled(self) -> np.ndarray: ...
    @property
    def nominal_scaled(self) -> np.ndarray: ...
    @property
    def n_measurements(self) -> int: ...
    @property
    def supports_sensitivities(self) -> bool: ...
    def build(self, gradient: Gradient, solver: SolverSettings) -> Any: ...
    def parameter_table(self, x: tuple[float, ...] | None) -> Any: ...
    def fit_table(self, x: tuple[float, ...], solver: SolverSettings) -> Any: ...


def build_problem(problem: CalibrationProblem, gradient: Gradient, solver: SolverSettings) -> Any:
    """A ``pypesto.Problem`` (bounds, scales, fixed parameters from the PEtab parameter table)."""
    if gradient is Gradient.SENSITIVITIES:
        from igfsim.calibrate.sensitivities import build_amici_problem

        return build_amici_problem(problem, solver)
    if gradient is Gradient.AUTO:
        raise ValueError("build_problem: resolve Gradient.AUTO first (Gradient.resolve)")
    from pypesto.objective import FD
    from pypesto.objective.roadrunner import PetabImporterRR, SolverOptions

    from igfsim.engines.roadrunner_ode import quiet_solver_log

    quiet_solver_log()
    from igfsim.calibrate._calculator import FailureAsInfCalculator, FiniteOrFailedFD

    with library_quiet():
        importer = PetabImporterRR(problem.petab_problem)
        objective = importer.create_objective()
    objective.calculator = FailureAsInfCalculator()
    objective.solver_options = SolverOptions(
        relative_tolerance=solver.rtol, absolute_tolerance=solver.atol, maximum_num_steps=solver.max_steps
    )
    if gradient is Gradient.FINITE_DIFFERENCES:
        objective = FiniteOrFailedFD(objective, grad=True, hess=False, method=FD.CENTRAL, delta_grad=solver.fd_step)
    with library_quiet():
        return importer.create_problem(objective=objective)


@contextmanager
def library_quiet() -> Iterator[None]:
    """pandas/petab deprecation warnings raised inside the libraries are theirs, not the user's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def native_output_silenced() -> Iterator[None]:
    """SUNDIALS prints its warnings (``t + h = t``) straight to file descriptor 1, past libRoadRunner's
    logger, and libRoadRunner its errors to descriptor 2: point both at /dev/null while the solver runs
    (failures are reported as results; igfsim prints nothing meanwhile)."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # no descriptors (a detached worker): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
