"""Metrics of trajectories and the verdict of each scenario expectation."""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from igfsim.engines import equations_of
from igfsim.result.metrics import metric
from igfsim.result.scenario_result import ScenarioResult
from igfsim.scenario.schema import Expectation, Scenario

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


class Verdict(StrEnum):
    """The verdict on one expectation in one engine (values are the words written to summary.json)."""

    PASS = "pass"
    FAIL = "fail"
    #: a known failure that still fails
    XFAIL = "xfail"
    #: a known failure that now passes: the marker is stale, so this fails validation
    XPASS = "xpass"
    #: the expectation has no form in this engine (``not_expressible``)
    NOT_EXPRESSIBLE = "n/a"

    @property
    def ok(self) -> bool:
        """Whether this verdict lets ``validate`` succeed (n/a neither passes nor fails)."""
        return self in (Verdict.PASS, Verdict.XFAIL, Verdict.NOT_EXPRESSIBLE)

    @property
    def holds(self) -> bool:
        """Whether the claim itself is true (pass, or a known failure that now passes)."""
        return self in (Verdict.PASS, Verdict.XPASS)

    @property
    def label(self) -> str:
        """The word printed in tables: PASS, FAIL, XFAIL, XPASS, N/A."""
        return self.value.upper()


@dataclass(frozen=True)
class ExpectationOutcome:
    """An expectation with what the simulation gave and the verdict."""

    index: int
    expectation: Expectation
    observed: float
    #: n/a: not expressible in this engine, ``detail`` says why
    verdict: Verdict
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", Verdict(self.verdict))  # a verdict word ("pass") becomes the enum

    @property
    def ok(self) -> bool:
        """Whether this outcome lets ``validate`` succeed (n/a neither passes nor fails)."""
        return self.verdict.ok


def describe(e: Expectation) -> str:
    """One-line text of an expectation, e.g. ``pAkt auc cix / control >= 0.5``.

    With ``vs_normalize`` both sides are written out as ratios, e.g.
    ``pAkt auc (lins_adapted / control_adapted) / (lins_default / control_default) >= 1.5``.
    """
    sign = "/" if e.compare == "ratio" else "-"
    if e.trend:
        what = f"Spearman rho of {e.readout} {e.metric} over {len(e.trend_arms())} arms ({e.trend})"
        if e.vs_normalize:
            arms = f"arms normalised to {e.normalize}" if e.normalize else "arms not normalised"
            what += f" ({arms}, references normalised to {e.vs_normalize})"
        elif e.normalize:
            what += f" (normalised to {e.normalize})"
    elif e.vs_normalize:
        left = f"({e.arm} / {e.normalize})" if e.normalize else e.arm
        what = f"{e.readout} {e.metric} {left} {sign} ({e.vs} / {e.vs_normalize})"
    else:
        what = f"{e.readout} {e.metric} {e.arm}"
        if e.vs:
            what += f" {sign} {e.vs}"
        if e.normalize:
            what += f" (normalised to {e.normalize})"
    target = "[{:g}, {:g}]".format(*e.bounds()) if e.op == "between" else f"{e.threshold():g}"
    return f"{what} {e.op} {target}"


def _value(result: ScenarioResult, e: Expectation, arm: str, *, vs_side: bool = False) -> float:
    """The metric of ``arm``, divided by the normaliser's (``vs_normalize`` on the vs side, when given)."""
    v = metric(result.times, result.get(arm, e.readout), e.metric)
    norm = e.vs_normalize if vs_side and e.vs_normalize else e.normalize
    if norm:
        v = _safe_div(v, metric(result.times, result.get(norm, e.readout), e.metric))
    return v


def _safe_div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


def _observe(result: ScenarioResult, e: Expectation) -> float:
    if e.trend:
        from scipy.stats import spearmanr

        vals = [_value(result, e, a) for a in e.trend_arms()]
        if isinstance(e.vs, list):
            refs = [_value(result, e, r, vs_side=True) for r in e.vs]
            vals = [(_safe_div(v, ref) if e.compare == "ratio" else v - ref) for v, ref in zip(vals, refs, strict=True)]
        if len(set(vals)) == 1:
            return 0.0
        rho = float(spearmanr(np.arange(len(vals)), vals).statistic)
        return rho if e.trend == "increasing" else -rho
    v = _value(result, e, e.main_arm())
    if isinstance(e.vs, str):
        ref = _value(result, e, e.vs, vs_side=True)
        return _safe_div(v, ref) if e.compare == "ratio" else v - ref
    return v


def check_expectation(result: ScenarioResult, e: Expectation, index: int = 0) -> ExpectationOutcome:
    """Evaluate one expectation on a result.

    In an engine named in ``not_expressible`` the verdict is ``n/a`` and ``detail`` is the reason (the
    observed value is still computed where possible, for information only). Entries for an engine
    apply to the engines integrating its equations too (:func:`igfsim.engines.equations_of`).
    """
    engines = dict.fromkeys((result.engine, equations_of(result.engine)))  # cvodes: also the scipy engine's
    reason = next((r for r in map(e.not_expressible_in, engines) if r is not None), None)
    if reason is not None:
        try:
            with warnings.catch_warnings():  # informational only: NaN readouts must not warn or raise
                warnings.simplefilter("ignore")
                observed = _observe(result, e)
        except (ValueError, KeyError, ArithmeticError):
            observed = math.nan
        return ExpectationOutcome(index, e, observed, Verdict.NOT_EXPRESSIBLE, reason)
    observed = _observe(result, e)
    if e.readout in result.readouts and np.all(np.isnan(result.values[..., result.readouts.index(e.readout)])):
        passed, detail = False, f"{e.readout} is not available in the {result.engine} engine"
    elif math.isnan(observed):
        passed, detail = False, "undefined (0/0: both arms are zero)"
    elif e.op == "between":
        low, high = e.bounds()
        passed, detail = low <= observed <= high, ""
    else:
        passed, detail = bool(_OPS[e.op](observed, e.threshold())), ""
    known = next((k for k in map(e.known_failure_in, engines) if k), None)
    if known:
        verdict = Verdict.XPASS if passed else Verdict.XFAIL
        detail = (detail + "; " if detail else "") + (
            "known failure now passes: remove 'known_failure'" if passed else f"known failure: {known}"
        )
    else:
        verdict = Verdict.PASS if passed else Verdict.FAIL
    return ExpectationOutcome(index, e, observed, verdict, detail)


def check_expectations(result: ScenarioResult, scenario: Scenario) -> list[ExpectationOutcome]:
    """Evaluate every expectation of ``scenario`` on ``result``."""
    return [check_expectation(result, e, i) for i, e in enumerate(scenario.expect)]


def scenario_header(name: str, title: str, claims=(), references=()) -> list[str]:
    """The lines that introduce a scenario in reports: claim ids, name and title, then references."""
    ids = ", ".join(claims) if claims else "-"
    lines = [f"{ids}  {name}: {title}"]
    if references:
        lines.append(f"{' ' * (len(ids) + 2)}references: {'; '.join(references)}")
    return lines


def verdict_counts(outcomes: Iterable[ExpectationOutcome]) -> dict[Verdict, int]:
    """``{verdict: count}`` in the order of :class:`Verdict` (zero counts left out)."""
    verdicts = [o.verdict for o in outcomes]
    return {v: n for v in Verdict if (n := verdicts.count(v))}
