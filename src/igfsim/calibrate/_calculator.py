"""pyPESTO's libRoadRunner calculator and finite differences, with failed simulations as an infinite objective.

libRoadRunner raises ``RuntimeError`` when CVODE gives up (too much work, repeated error-test
failures); pyPESTO's calculator lets that propagate, which ends the optimiser's start. Returning
an infinite objective instead is what AMICI-based objectives do: trust-region and line-search
optimisers step back from such points, and a start fails only when its own start point cannot
be simulated. Imported lazily (it imports pyPESTO).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pypesto.objective import FD
from pypesto.objective.roadrunner import RoadRunnerCalculator


class FailureAsInfCalculator(RoadRunnerCalculator):
    """A failed simulation gives ``fval = inf`` (and no simulation results) instead of raising."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return super().__call__(*args, **kwargs)
        except RuntimeError as err:
            return {"fval": math.inf, "llh": -math.inf, "simulation_results": {}, "message": str(err)}


class FiniteOrFailedFD(FD):
    """pyPESTO's finite differences, with a point whose gradient is not finite reported as failed.

    When a perturbed point cannot be simulated (infinite objective there), the difference quotient
    is infinite while the objective at the point itself is finite; fides then stops the whole start
    ("non-finite gradient"). Reporting the point as failed (infinite objective) instead makes the
    trust-region step back, which is what it does for any point that cannot be simulated.
    """

    def call_unprocessed(self, x: Any, sensi_orders: Any, mode: Any, return_dict: Any, **kwargs: Any) -> Any:
        result = super().call_unprocessed(x, sensi_orders, mode, return_dict, **kwargs)
        grad = result.get("grad")
        if grad is not None and not np.all(np.isfinite(grad)):
            result["fval"] = math.inf
        return result
