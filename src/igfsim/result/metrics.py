"""Metrics of one trajectory (AUC, peak, final, mean, min, time of peak, value at a time)."""

from __future__ import annotations

import numpy as np

from igfsim.result.scenario_result import ScenarioResult

STANDARD_METRICS = ("auc", "peak", "final", "mean", "min", "tpeak")


def metric(times: np.ndarray, y: np.ndarray, name: str) -> float:
    """``auc`` (trapezoid, readout x min), ``peak``, ``final``, ``mean`` (time average), ``min``,
    ``tpeak`` (minutes) or ``at_<minutes>`` (linear interpolation)."""
    if name == "auc":
        return float(np.trapezoid(y, times))
    if name == "peak":
        return float(np.max(y))
    if name == "final":
        return float(y[-1])
    if name == "mean":
        span = times[-1] - times[0]
        return float(np.trapezoid(y, times) / span) if span > 0 else float(y[0])
    if name == "min":
        return float(np.min(y))
    if name == "tpeak":
        return float(times[int(np.argmax(y))])
    if name.startswith("at_"):
        t = float(name[3:])
        if t < times[0] or t > times[-1]:
            raise ValueError(
                f"metric {name!r} asks for t = {t:g} min outside the simulated {times[0]:g}..{times[-1]:g} min"
            )
        return float(np.interp(t, times, y))
    raise ValueError(f"unknown metric {name!r}")


def compute_metrics(result: ScenarioResult, names=STANDARD_METRICS) -> dict:
    """``{arm: {readout: {metric: value}}}`` for every arm and readout."""
    return {
        arm: {r: {m: metric(result.times, result.get(arm, r), m) for m in names} for r in result.readouts}
        for arm in result.arms
    }
