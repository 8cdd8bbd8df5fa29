"""Calibration: fit a PEtab problem with pyPESTO multi-start optimisation (``igfsim calibrate``).

>>> from igfsim.calibrate import CalibrationOptions, calibrate  # doctest: +SKIP
>>> res = calibrate("problem.yaml", CalibrationOptions(n_starts=20), n_workers=2)
>>> res.best.fval, res.n_at_best(1.0)  # doctest: +SKIP
>>> res.parameter_table()  # doctest: +SKIP

Modules, one job each: :mod:`~igfsim.calibrate.problem` reads and checks the PEtab tables,
:mod:`~igfsim.calibrate.objective` builds the likelihood (pyPESTO's libRoadRunner objective),
:mod:`~igfsim.calibrate.engine` runs starts on igfsim's executors, :mod:`~igfsim.calibrate.fit` is
the multi-start driver and :mod:`~igfsim.calibrate.result` what it returns. See docs/calibration.md.
"""

from igfsim.calibrate.datasets import DataProblem, FitParameter, data_problem, load_data_problem, scenario_from_table
from igfsim.calibrate.fit import CalibrationOptions, Optimizer, calibrate, load_any, objective_at, start_points
from igfsim.calibrate.objective import Gradient, SolverSettings
from igfsim.calibrate.problem import CalibrationProblem, load_problem
from igfsim.calibrate.result import CalibrationResult, StartRecord

__all__ = [
    "CalibrationOptions",
    "CalibrationProblem",
    "CalibrationResult",
    "DataProblem",
    "FitParameter",
    "Gradient",
    "Optimizer",
    "SolverSettings",
    "StartRecord",
    "calibrate",
    "data_problem",
    "load_any",
    "load_data_problem",
    "load_problem",
    "objective_at",
    "scenario_from_table",
    "start_points",
]
