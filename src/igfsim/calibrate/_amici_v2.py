"""pyPESTO's AMICI objective for PEtab v2 problems, pickled into worker processes without HDF5.

The objective's PEtab simulator and the AMICI solver do not pickle; a worker rebuilds them from the
compiled module (the objective's builder) and keeps everything else the optimiser set (the free
parameters, igfsim's solver settings). Imported only when a v2 problem is built (it imports AMICI).
"""

from __future__ import annotations

from typing import Any

from pypesto.objective.amici.amici import AmiciPetabV2Objective

__all__ = ["PicklableAmiciV2Objective"]

_REBUILT = ("_petab_simulator", "amici_model", "amici_solver", "edatas", "calculator")


class PicklableAmiciV2Objective(AmiciPetabV2Objective):
    """``AmiciPetabV2Objective`` whose simulator is rebuilt from the compiled module after unpickling."""

    igfsim_solver: Any  # igfsim.calibrate.objective.SolverSettings

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in _REBUILT}
        state["igfsim_free_ids"] = set(getattr(self.calculator, "free_parameter_ids", set()) or set())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from igfsim.calibrate.objective import library_quiet
        from igfsim.calibrate.problem import quiet_petab
        from igfsim.calibrate.sensitivities import apply_solver_settings, quiet_amici_log

        state = dict(state)
        free = state.pop("igfsim_free_ids")
        self.__dict__.update(state)
        quiet_amici_log()
        with library_quiet(), quiet_petab():
            fresh = self.amici_object_builder.create_objective(verbose=False)
        for key in _REBUILT:
            setattr(self, key, getattr(fresh, key))
        self.calculator.free_parameter_ids = free
        apply_solver_settings(self, self.igfsim_solver)
