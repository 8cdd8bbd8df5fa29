"""libRoadRunner (CVODE) engine: the only module that imports roadrunner.

One compiled RoadRunner per model per process; every run starts from ``resetToOrigin()`` and
states its output times explicitly, so no option leaks from one run into the next.
"""

from __future__ import annotations

import numpy as np

from igfsim.engines.protocol import Change, Protocol, segments
from igfsim.errors import SimulationError
from igfsim.model.sbml import Model

#: a steady state is reached when every species changes by less than this fraction per minute
STEADY_REL_RATE = 1e-7


class RoadRunnerEngine:
    """Deterministic ODE simulation with libRoadRunner's CVODE integrator."""

    name = "roadrunner"
    time_units = "min"

    def __init__(self) -> None:
        self._cache: dict[str, object] = {}

    def _compiled(self, model: Model):
        rr = self._cache.get(model.sha256)
        if rr is None:
            import roadrunner

            roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)
            rr = roadrunner.RoadRunner(model.sbml)
            self._cache[model.sha256] = rr
        return rr

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _apply(rr, model: Model, change: Change) -> None:
        if change.kind == "species":
            key = f"[{change.target}]"
            new = change.value + (rr[key] if change.mode == "add" else 0.0)
            rr[key] = 0.0 if new < 1e-12 else new
        else:
            new = change.value + (rr[change.target] if change.mode == "add" else 0.0)
            rr[change.target] = 0.0 if abs(new) < 1e-12 else new

    def _fail(self, protocol: Protocol, msg: str, t: float | None = None) -> SimulationError:
        return SimulationError(msg, engine=self.name, run_id=protocol.label, t_reached=t)

    def _preequilibrate(self, rr, model: Model, protocol: Protocol) -> None:
        """Integrate the ligand-free, drug-free cell until no species changes any more.

        One long integration per attempt (CVODE restarts from a near-steady state are where its
        corrector fails on this model), each attempt 10x longer, up to the protocol's limit.
        """
        ids = list(rr.model.getFloatingSpeciesIds())
        t, span = 0.0, min(1e5, protocol.preequilibration_max_min)
        rel = np.zeros(1)
        while t < protocol.preequilibration_max_min:
            x0 = np.array(rr.model.getFloatingSpeciesConcentrations())
            try:
                rr.simulate(t, t + span, 2)
            except RuntimeError as err:
                raise self._diagnose_preequilibration(rr, protocol, t, x0, err) from None
            t += span
            x = np.asarray(rr.model.getFloatingSpeciesConcentrations())
            dx = np.asarray(rr.model.getFloatingSpeciesConcentrationRates())
            if not np.all(np.isfinite(x)) or np.abs(x).max() > 1e12:
                raise self._fail(
                    protocol,
                    "pre-equilibration diverged: concentrations grow without bound; "
                    "check the cell's parameter overrides",
                    t,
                )
            rel = np.abs(dx) / (np.abs(x) + 1e-6)
            if rel.max() < STEADY_REL_RATE:
                return
            span = min(span * 10, protocol.preequilibration_max_min - t)
        worst = ids[int(np.argmax(rel))]
        raise self._fail(
            protocol,
            f"no steady state reached within {protocol.preequilibration_max_min:g} min of "
            f"ligand-free, drug-free pre-equilibration ({worst} still changes by "
            f"{rel.max():.2g} of its value per minute); the cell context or parameter "
            "overrides may make the network oscillate or grow without bound",
            t,
        )

    def _diagnose_preequilibration(self, rr, protocol: Protocol, t0: float, x0: np.ndarray, err: RuntimeError):
        """After CVODE failed: replay the attempt in short steps to tell divergence from a solver failure."""
        rr.model.setFloatingSpeciesConcentrations(x0)
        t, span = t0, 1.0
        try:
            while t < t0 + 1e5:
                rr.simulate(t, t + span, 2)
                t += span
                state = np.asarray(rr.model.getFloatingSpeciesConcentrations())
                if not np.all(np.isfinite(state)) or np.abs(state).max() > 1e12:
                    return self._fail(
                        protocol,
                        "pre-equilibration diverged: concentrations grow without bound "
                        f"(above 1e12 nM by t = {t:.4g} min); check the cell's parameter "
                        "overrides",
                        t,
                    )
                span *= 2
        except RuntimeError:
            pass
        msg = str(err).strip().splitlines()[0]
        return self._fail(protocol, f"pre-equilibration failed after t = {t:.6g} min: {msg}", t)

    # ------------------------------------------------------------------ API
    def output_times(self, protocol: Protocol) -> np.ndarray:
        """Minutes after the stimulus: ``protocol.times``."""
        return np.asarray(protocol.times, dtype=float)

    def simulate(self, model: Model, protocol: Protocol) -> np.ndarray:
        """Run ``protocol`` and return the selected values at ``protocol.times``."""
        rr = self._compiled(model)
        rr.resetToOrigin()
        integ = rr.integrator
        integ.relative_tolerance = protocol.rtol
        integ.absolute_tolerance = protocol.atol
        integ.maximum_num_steps = 100000
        for pid, value in protocol.overrides.items():
            rr[pid] = value
        rr.reset()  # re-evaluate initial assignments with the overrides
        for sid, value in protocol.initial.items():
            rr[f"[{sid}]"] = value
        if protocol.preequilibrate:
            self._preequilibrate(rr, model, protocol)
        sel = ["time"] + [f"[{s}]" if model.kind(s) == "species" else s for s in protocol.selections]
        rr.timeCourseSelections = sel
        out_t = np.asarray(protocol.times, dtype=float)
        out = np.full((out_t.size, len(sel) - 1), np.nan)
        events = {e.time: e for e in protocol.events}
        for seg in segments(protocol):
            if seg.event is not None:
                for ch in seg.event.changes:
                    self._apply(rr, model, ch)
            if seg.grid.size < 2:
                continue
            try:
                res = np.asarray(rr.simulate(times=seg.grid))
            except RuntimeError as err:
                raise self._fail(
                    protocol,
                    f"CVODE failed between t = {seg.start:g} and {seg.end:g} min: {str(err).strip().splitlines()[0]}",
                    seg.start,
                ) from None
            out[seg.rows] = res[seg.take, 1:]
        if out_t[-1] in events and out_t[-1] > protocol.t_start:
            # an event at the last output time: record the value just after it
            for ch in events[out_t[-1]].changes:
                self._apply(rr, model, ch)
            out[-1] = [rr[s] for s in sel[1:]]
        if not np.all(np.isfinite(out)):
            raise self._fail(protocol, "simulation produced non-finite values")
        return out
