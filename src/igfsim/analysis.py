"""Metrics of trajectories and the verdict of each scenario expectation."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np

from .result import ScenarioResult
from .scenario import Expectation, Scenario

STANDARD_METRICS = ("auc", "peak", "final", "mean", "min", "tpeak")
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


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
            raise ValueError(f"metric {name!r} asks for t = {t:g} min outside the simulated "
                             f"{times[0]:g}..{times[-1]:g} min")
        return float(np.interp(t, times, y))
    raise ValueError(f"unknown metric {name!r}")


def compute_metrics(result: ScenarioResult, names=STANDARD_METRICS) -> dict:
    """``{arm: {readout: {metric: value}}}`` for every arm and readout."""
    return {arm: {r: {m: metric(result.times, result.get(arm, r), m) for m in names}
                  for r in result.readouts}
            for arm in result.arms}


@dataclass(frozen=True)
class ExpectationOutcome:
    """An expectation with what the simulation gave and the verdict."""

    index: int
    expectation: Expectation
    observed: float
    verdict: str  # pass, fail, xfail (known failure still fails), xpass (known failure now passes)
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Whether this outcome lets ``validate`` succeed."""
        return self.verdict in ("pass", "xfail")


def describe(e: Expectation) -> str:
    """One-line text of an expectation, e.g. ``pAkt auc cix/control >= 0.5``."""
    if e.trend:
        what = f"Spearman rho of {e.readout} {e.metric} over {len(e.arms)} arms ({e.trend})"
    else:
        what = f"{e.readout} {e.metric} {e.arm}"
        if e.vs:
            what += f" {'/' if e.compare == 'ratio' else '-'} {e.vs}"
    if e.normalize:
        what += f" (normalised to {e.normalize})"
    target = f"[{e.value[0]:g}, {e.value[1]:g}]" if e.op == "between" else f"{e.value:g}"
    return f"{what} {e.op} {target}"


def _value(result: ScenarioResult, e: Expectation, arm: str) -> float:
    v = metric(result.times, result.get(arm, e.readout), e.metric)
    if e.normalize:
        v = _safe_div(v, metric(result.times, result.get(e.normalize, e.readout), e.metric))
    return v


def _safe_div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


def _observe(result: ScenarioResult, e: Expectation) -> float:
    if e.trend:
        from scipy.stats import spearmanr

        vals = [_value(result, e, a) for a in e.arms]
        if isinstance(e.vs, list):
            vals = [(_safe_div(v, _value(result, e, r)) if e.compare == "ratio" else v - _value(result, e, r))
                    for v, r in zip(vals, e.vs, strict=True)]
        if len(set(vals)) == 1:
            return 0.0
        rho = float(spearmanr(np.arange(len(vals)), vals).statistic)
        return rho if e.trend == "increasing" else -rho
    v = _value(result, e, e.arm)
    if e.vs:
        ref = _value(result, e, e.vs)
        return _safe_div(v, ref) if e.compare == "ratio" else v - ref
    return v


def check_expectation(result: ScenarioResult, e: Expectation, index: int = 0) -> ExpectationOutcome:
    """Evaluate one expectation on a result."""
    observed = _observe(result, e)
    if e.readout in result.readouts and np.all(np.isnan(result.values[..., result.readouts.index(e.readout)])):
        passed, detail = False, f"{e.readout} is not available in the {result.engine} engine"
    elif math.isnan(observed):
        passed, detail = False, "undefined (0/0: both arms are zero)"
    elif e.op == "between":
        passed, detail = e.value[0] <= observed <= e.value[1], ""
    else:
        passed, detail = bool(_OPS[e.op](observed, e.value)), ""
    known = e.known_failure and (e.known_failure_engines is None or result.engine in e.known_failure_engines)
    if known:
        verdict = "xpass" if passed else "xfail"
        detail = (detail + "; " if detail else "") + (
            "known failure now passes: remove 'known_failure'" if passed else f"known failure: {e.known_failure}")
    else:
        verdict = "pass" if passed else "fail"
    return ExpectationOutcome(index, e, observed, verdict, detail)


def check_expectations(result: ScenarioResult, scenario: Scenario) -> list[ExpectationOutcome]:
    """Evaluate every expectation of ``scenario`` on ``result``."""
    return [check_expectation(result, e, i) for i, e in enumerate(scenario.expect)]
