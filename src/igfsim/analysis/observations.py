"""Compare a simulation with the published observations of its scenario (the ``validation/`` suite).

Each :class:`~igfsim.scenario.observation.Observation` is turned into one number from the result
(an IC50 or EC50 interpolated on a log-dose axis between the arms that bracket the half-way
response, a peak time, a ratio of two arms or a metric) and compared with the published value
within the tolerance the observation defends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from igfsim.result.metrics import metric
from igfsim.result.scenario_result import ScenarioResult
from igfsim.scenario.observation import Observation, Quantity
from igfsim.scenario.schema import Scenario


@dataclass(frozen=True)
class ObservationOutcome:
    """One observation with the simulated value and whether it lies within tolerance."""

    scenario: str
    observation: Observation
    #: the simulated value, in the published unit (inf: the half-way response is not reached)
    simulated: float
    detail: str = ""

    @property
    def within(self) -> bool:
        """Whether the simulated value is within the tolerance of the published one."""
        if math.isinf(self.simulated) and self.simulated > 0 and self.observation.published.limit == "at_least":
            return True  # e.g. an IC50 beyond the top dose meets "IC50 >= 1 uM"
        return math.isfinite(self.simulated) and self.observation.within(self.simulated)

    @property
    def ratio(self) -> float:
        """simulated / published (nan when the published value is 0)."""
        pub = self.observation.published.value
        return self.simulated / pub if pub else math.nan

    @property
    def anchor(self) -> bool:
        """Whether the observation set a parameter (a calibration anchor, not validation)."""
        return self.observation.anchor is not None


def _metric(result: ScenarioResult, arm: str, obs: Observation) -> float:
    return metric(result.times, result.get(arm, obs.readout), obs.metric)


def crossing(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, level: float, *, log: bool = True
) -> float:
    """First ``x`` (ascending; positive when ``log``) where ``y`` crosses ``level``, interpolated in
    log10 x (or linearly in x).

    Returns inf when ``y`` never reaches ``level``; x[0] when it already starts past it.
    """
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    above = ys[0] >= level
    for i in range(1, len(xs)):
        if (ys[i] >= level) != above:
            f = (level - ys[i - 1]) / (ys[i] - ys[i - 1])
            if not log:
                return float(xs[i - 1] + f * (xs[i] - xs[i - 1]))
            lx0, lx1 = math.log10(xs[i - 1]), math.log10(xs[i])
            return 10 ** (lx0 + f * (lx1 - lx0))
    return xs[0] if ys[0] == level else math.inf


def _ic50(result: ScenarioResult, scenario: Scenario, obs: Observation) -> tuple[float, str]:
    doses = []
    for arm in scenario.arms:
        dose = sum(t.dose_nM for t in arm.treatments if t.drug == obs.drug)
        if dose > 0:
            doses.append((dose, arm.name))
    doses.sort()
    ref = _metric(result, obs.control or "", obs)
    if ref == 0:
        return math.nan, f"{obs.readout} {obs.metric} is 0 in the control arm"
    rel = [_metric(result, name, obs) / ref for _, name in doses]
    x = [d for d, _ in doses]
    level = 0.5 if obs.ic50_kind == "absolute" else 0.5 * (1.0 + rel[-1])
    value = crossing(x, rel, level)
    detail = f"{obs.readout} at the top dose {x[-1]:g} nM: {rel[-1]:.3g} of control"
    if math.isinf(value):
        detail += f"; never falls to {level:.3g}"
    return value, detail


def _ec50(result: ScenarioResult, scenario: Scenario, obs: Observation) -> tuple[float, str]:
    levels = []
    for arm in scenario.arms:
        stim = arm.stimulus if arm.stimulus is not None else scenario.stimulus
        levels.append((stim.get(obs.ligand or "", 0.0), arm.name))
    levels.sort()
    base = _metric(result, obs.control, obs) if obs.control else None
    dosed = [(c, name) for c, name in levels if c > 0]
    y = [_metric(result, name, obs) for _, name in dosed]
    low = base if base is not None else min(y)
    top = max(y)
    if top <= low:
        return math.nan, f"{obs.readout} does not rise with {obs.ligand}"
    value = crossing([c for c, _ in dosed], y, low + 0.5 * (top - low))
    return value, f"{obs.readout} {obs.metric} from {low:.3g} to {top:.3g}"


def observe(result: ScenarioResult, scenario: Scenario, obs: Observation) -> ObservationOutcome:
    """The simulated value of ``obs`` on ``result``."""
    q = obs.quantity
    detail = ""
    if q is Quantity.IC50:
        value, detail = _ic50(result, scenario, obs)
    elif q is Quantity.EC50:
        value, detail = _ec50(result, scenario, obs)
    elif q is Quantity.TPEAK:
        value = metric(result.times, result.get(obs.arm or "", obs.readout), "tpeak")
    elif q is Quantity.THALF:
        y = result.get(obs.arm or "", obs.readout)
        peak = int(np.argmax(y))
        value = crossing(result.times[: peak + 1], y[: peak + 1], 0.5 * float(y[peak]), log=False) if peak else math.nan
    elif q is Quantity.RATIO:
        ref = _metric(result, obs.vs or "", obs)
        value = _metric(result, obs.arm or "", obs) / ref if ref else math.nan
    else:
        value = _metric(result, obs.arm or "", obs)
    return ObservationOutcome(scenario.name, obs, float(value), detail)


def check_observations(result: ScenarioResult, scenario: Scenario) -> list[ObservationOutcome]:
    """Every observation of ``scenario`` on ``result``."""
    return [observe(result, scenario, o) for o in scenario.observations]


@dataclass(frozen=True)
class ValidationSummary:
    """Counts over a suite: anchors are listed but do not count as validation."""

    outcomes: tuple[ObservationOutcome, ...]

    @property
    def validation(self) -> list[ObservationOutcome]:
        return [o for o in self.outcomes if not o.anchor]

    @property
    def anchors(self) -> list[ObservationOutcome]:
        return [o for o in self.outcomes if o.anchor]

    @property
    def n_within(self) -> int:
        return sum(o.within for o in self.validation)

    @property
    def share_within(self) -> float:
        n = len(self.validation)
        return self.n_within / n if n else math.nan

    def line(self) -> str:
        """``13/16 observations within tolerance (81 %); 2 calibration anchors not counted``."""
        n = len(self.validation)
        pct = f" ({100 * self.share_within:.0f} %)" if n else ""
        anchors = f"; {len(self.anchors)} calibration anchor(s) not counted" if self.anchors else ""
        return f"{self.n_within}/{n} published observations within tolerance{pct}{anchors}"
