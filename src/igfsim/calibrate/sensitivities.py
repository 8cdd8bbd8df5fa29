"""Exact gradients for PEtab problems: AMICI's forward sensitivities, through pyPESTO's AMICI objective.

AMICI (``pip install "igfsim[amici]"``) turns the PEtab problem's SBML model into C++ with its
sensitivity equations and compiles it once; the compiled module is kept in a per-user cache
folder keyed by the problem's files and the AMICI version (:func:`model_folder`), so later
calibrations, profiles and every worker process import it instead of compiling again. pyPESTO's
``AmiciObjective`` then gives the negative log-likelihood, its gradient from CVODES forward
sensitivities and the Fisher information matrix, which fides uses as its Hessian approximation.

pyPESTO pickles an AMICI objective (to send it to a worker process) through AMICI's HDF5 solver
settings, which a pip-built AMICI without HDF5 lacks; :class:`_PicklableAmiciObjective` sends the
few settings igfsim makes (tolerances, step limit) instead, and the worker rebuilds model, solver
and data from the compiled module. Imported lazily (it imports AMICI).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pypesto.objective import AmiciObjective

from igfsim.errors import EngineUnavailableError
from igfsim.resources import private_folder

if TYPE_CHECKING:
    from igfsim.calibrate.objective import Gradient, SolverSettings
    from igfsim.calibrate.petab_v2 import PetabV2Problem
    from igfsim.calibrate.problem import CalibrationProblem

__all__ = [
    "PicklableAmiciObjective",
    "SensitivitiesUnavailableError",
    "amici_available",
    "build_amici_problem",
    "model_folder",
    "require_amici",
]

CACHE_ENV = "IGFSIM_CACHE_DIR"


class SensitivitiesUnavailableError(EngineUnavailableError):
    """Exact gradients were asked for where they cannot be had (no AMICI, or not a PEtab problem)."""


def amici_available() -> bool:
    """Whether AMICI is installed (checked without importing it)."""
    return importlib.util.find_spec("amici") is not None


def require_amici(path: Path) -> None:
    """Raise :class:`SensitivitiesUnavailableError` naming ``path`` when AMICI is not installed."""
    if not amici_available():
        raise SensitivitiesUnavailableError(
            f"{path}: exact gradients (forward sensitivities) need AMICI, which is not installed; "
            'install it with `pip install "igfsim[amici]"` or use --gradient finite-differences'
        )


def model_folder(problem: CalibrationProblem | PetabV2Problem) -> Path:
    """Where the problem's compiled AMICI model lives: ``<cache>/amici/<name>-<hash>``.

    The hash covers every file of the problem (model, conditions, observables, measurements,
    parameters) and the AMICI version, so an edited problem or a new AMICI compiles afresh. The
    cache is ``$IGFSIM_CACHE_DIR`` or ``$XDG_CACHE_HOME/igfsim`` (``~/.cache/igfsim``), created
    readable by its owner only: Python imports the compiled module from it.
    """
    digest = hashlib.sha256(importlib.metadata.version("amici").encode())
    for path in problem.files:
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "igfsim"
    )
    root = Path(base) / "amici"
    if problem_ := private_folder(root):
        raise SensitivitiesUnavailableError(
            f"{root}: the compiled-model cache must belong to you and be writable by you only: {problem_}; "
            f"fix it or set {CACHE_ENV} to a private folder"
        )
    safe = "".join(c if c.isalnum() else "_" for c in problem.name) or "model"
    return root / f"{safe}_{digest.hexdigest()[:16]}"


def _module_name(folder: Path) -> str:
    return folder.name if folder.name[0].isalpha() else f"m_{folder.name}"


def build_amici_problem(
    problem: CalibrationProblem | PetabV2Problem, solver: SolverSettings, gradient: Gradient | None = None
) -> Any:
    """A ``pypesto.Problem`` whose objective gives values, gradients and the FIM (AMICI).

    ``gradient`` FINITE_DIFFERENCES wraps the AMICI objective in central differences (PEtab v2
    problems, which only AMICI simulates); any other value keeps AMICI's own gradient.
    """
    require_amici(problem.path)
    import pypesto.petab

    from igfsim.calibrate.objective import Gradient, library_quiet
    from igfsim.calibrate.problem import quiet_petab

    folder = model_folder(problem)
    _swig_on_path()
    quiet_amici_log()
    with library_quiet():
        importer = pypesto.petab.PetabImporter(
            problem.petab_problem, output_folder=str(folder), model_name=_module_name(folder), validate_petab=False
        )
        fresh = not folder.exists()
        try:
            with quiet_petab():  # AMICI lints the (converted) problem again and logs what it finds
                objective = importer.create_objective(verbose=False)
        except Exception as err:  # a compiler or AMICI import failure: say what and where
            if fresh:  # a half-built folder would be taken for a compiled model next time
                shutil.rmtree(folder, ignore_errors=True)
            raise SensitivitiesUnavailableError(
                f"{problem.path}: AMICI could not build or load the model in {folder}: {type(err).__name__}: {err}"
                + ("" if fresh else f" (delete {folder} to compile it again)")
            ) from None
    quiet_amici_log()
    objective.__class__ = _picklable_class(problem, objective)  # same object, pickled without HDF5
    objective.igfsim_solver = solver
    apply_solver_settings(objective, solver)
    if gradient is Gradient.FINITE_DIFFERENCES:
        from pypesto.objective import FD

        from igfsim.calibrate._calculator import FiniteOrFailedFD

        objective = FiniteOrFailedFD(objective, grad=True, hess=False, method=FD.CENTRAL, delta_grad=solver.fd_step)
    with library_quiet():
        return importer.create_problem(objective=objective)


def _picklable_class(problem: Any, objective: Any) -> type:
    """The igfsim subclass of the objective pyPESTO built (refusing one igfsim does not know)."""
    if type(objective) is AmiciObjective:
        return PicklableAmiciObjective
    from pypesto.objective.amici.amici import AmiciPetabV2Objective

    if type(objective) is AmiciPetabV2Objective:
        from igfsim.calibrate._amici_v2 import PicklableAmiciV2Objective

        return PicklableAmiciV2Objective
    raise SensitivitiesUnavailableError(
        f"{problem.path}: pyPESTO built a {type(objective).__name__}, not an AMICI objective igfsim knows"
    )


def apply_solver_settings(objective: Any, solver: SolverSettings) -> None:
    """igfsim's tolerances and step limit on the objective's AMICI solver."""
    s = objective.amici_solver
    s.set_relative_tolerance(solver.rtol)
    s.set_absolute_tolerance(solver.atol)
    s.set_max_steps(solver.max_steps)


def _swig_on_path() -> None:
    """AMICI runs ``swig`` to build a model; pip installs it beside this Python, maybe not on PATH."""
    if shutil.which("swig") is None:
        here = str(Path(sys.executable).parent)
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")


def quiet_amici_log() -> None:
    """AMICI logs its parameter mapping (debug) and every failed CVODES run (expected far from an
    optimum; such points are an infinite objective) as an error: keep both out of the user's terminal."""
    import logging

    names = [n for n in logging.root.manager.loggerDict if n.startswith(("amici", "pypesto.objective.amici"))]
    for name in {"amici", *names}:  # AMICI gives its module loggers levels of their own
        logging.getLogger(name).setLevel(logging.CRITICAL)


class PicklableAmiciObjective(AmiciObjective):
    """pyPESTO's ``AmiciObjective``, pickled without HDF5: the worker rebuilds model, solver and data
    from the compiled module (the objective's builder) and applies igfsim's solver settings."""

    igfsim_solver: SolverSettings

    def __getstate__(self) -> dict[str, Any]:
        import amici.sim.sundials as asd

        state = {k: v for k, v in self.__dict__.items() if k not in ("amici_model", "amici_solver", "edatas")}
        state["igfsim_model_settings"] = asd.get_model_settings(self.amici_model)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import amici.sim.sundials as asd

        state = dict(state)
        settings = state.pop("igfsim_model_settings")
        self.__dict__.update(state)
        quiet_amici_log()
        from igfsim.calibrate.objective import library_quiet

        builder = self.amici_object_builder
        with library_quiet():  # pandas deprecations inside pyPESTO/AMICI's data handling
            self.amici_model = builder.create_model(verbose=False)
            self.amici_solver = builder.create_solver(self.amici_model)
            self.edatas = builder.create_edatas(self.amici_model)
            self.apply_custom_timepoints()
            asd.set_model_settings(self.amici_model, settings)
        apply_solver_settings(self, self.igfsim_solver)
