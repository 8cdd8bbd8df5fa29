"""pyPESTO's libRoadRunner calculator with simulation failures reported as an infinite objective.

libRoadRunner raises ``RuntimeError`` when CVODE gives up (too much work, repeated error-test
failures); pyPESTO's calculator lets that propagate, which ends the optimiser's start. Returning
an infinite objective instead is what AMICI-based objectives do: trust-region and line-search
optimisers step back from such points, and a start fails only when its own start point cannot
be simulated. Imported lazily (it imports pyPESTO).
"""

from __future__ import annotations

import math
from typing import Any

from pypesto.objective.roadrunner import RoadRunnerCalculator


class FailureAsInfCalculator(RoadRunnerCalculator):  # type: ignore[misc]
    """A failed simulation gives ``fval = inf`` (and no simulation results) instead of raising."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return super().__call__(*args, **kwargs)
        except RuntimeError as err:
            return {"fval": math.inf, "llh": -math.inf, "simulation_results": {}, "message": str(err)}
