"""Metrics on synthetic trajectories and expectation verdicts on hand-made results."""

from __future__ import annotations

import math
import re
from importlib.metadata import requires

import numpy as np
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import igfsim
from igfsim.analysis.expectations import check_expectation, describe
from igfsim.result.metrics import compute_metrics, metric
from igfsim.result.scenario_result import ArmRecord, ScenarioResult
from igfsim.scenario.schema import Expectation

T = np.linspace(0.0, 10.0, 11)


# ------------------------------------------------------------------------------------ metrics


def test_auc_of_constant():
    assert metric(T, np.full_like(T, 3.0), "auc") == pytest.approx(30.0)


def test_auc_of_ramp_is_trapezoid():
    assert metric(T, 2 * T, "auc") == pytest.approx(100.0)


def test_peak_tpeak_final_min():
    y = np.array([0, 1, 4, 9, 3, 2, 1, 0.5, 0.2, -1, 0.1])
    assert metric(T, y, "peak") == 9
    assert metric(T, y, "tpeak") == 3.0
    assert metric(T, y, "final") == 0.1
    assert metric(T, y, "min") == -1


def test_tpeak_takes_the_first_maximum():
    y = np.array([0, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0.0])
    assert metric(T, y, "tpeak") == 1.0


def test_mean_is_time_average():
    assert metric(T, np.full_like(T, 2.5), "mean") == pytest.approx(2.5)
    assert metric(T, T, "mean") == pytest.approx(5.0)
    t = np.array([0.0, 1.0, 10.0])  # uneven grid: weights by time, not by point
    assert metric(t, np.array([0.0, 10.0, 10.0]), "mean") == pytest.approx((5 + 90) / 10)


@pytest.mark.parametrize(("name", "expected"), [("at_0", 0.0), ("at_2.5", 5.0), ("at_10", 20.0), ("at_7", 14.0)])
def test_at_interpolates(name, expected):
    assert metric(T, 2 * T, name) == pytest.approx(expected)


@pytest.mark.parametrize("name", ["at_10.5", "at_100"])
def test_at_outside_range_raises(name):
    with pytest.raises(ValueError, match="outside"):
        metric(T, T, name)


def test_unknown_metric_raises():
    with pytest.raises(ValueError, match="unknown metric"):
        metric(T, T, "median")


def test_declared_numpy_floor_provides_trapezoid():
    """metric() uses np.trapezoid, which NumPy added in 2.0: the declared minimum must allow it."""
    reqs = [Requirement(r) for r in requires("igfsim") or []]
    numpy_req = next(r for r in reqs if r.name == "numpy" and r.marker is None)
    floors = [Version(s.version) for s in numpy_req.specifier if s.operator in (">=", ">", "==", "~=")]
    assert floors and max(floors) >= Version("2.0"), f"igfsim declares {numpy_req}"


# ------------------------------------------------------------------------------- expectations

ARMS = ("a", "b", "c", "d", "zero1", "zero2")


def _result(**curves) -> ScenarioResult:
    """A one-readout ("x") result with the given constant or array curve per arm."""
    arms = tuple(curves)
    values = np.stack([np.broadcast_to(np.asarray(v, dtype=float), T.shape) for v in curves.values()])[:, :, None]
    return ScenarioResult(
        scenario="synthetic",
        engine="none",
        arms=arms,
        times=T,
        readouts=("x",),
        values=values.copy(),
        records=tuple(ArmRecord(a, "ok") for a in arms),
        units={"x": "u"},
    )


def _exp(**kw) -> Expectation:
    base = {"readout": "x", "metric": "final"}
    return Expectation(**{**base, **kw})


def test_ratio_pass_and_fail():
    res = _result(a=1.0, b=4.0)
    out = check_expectation(res, _exp(arm="a", vs="b", op="<=", value=0.3))
    assert out.observed == pytest.approx(0.25) and out.verdict == "pass" and out.ok
    out = check_expectation(res, _exp(arm="a", vs="b", op=">=", value=0.3))
    assert out.verdict == "fail" and not out.ok


def test_plain_value_without_vs():
    res = _result(a=0.7)
    assert check_expectation(res, _exp(arm="a", op=">", value=0.5)).observed == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("op", "value", "passes"),
    [
        (">", 2.0, False),
        (">=", 2.0, True),
        ("<", 2.0, False),
        ("<=", 2.0, True),
        ("between", (2.0, 2.0), True),
        ("between", (2.1, 3.0), False),
    ],
)
def test_operators_at_the_boundary(op, value, passes):
    res = _result(a=2.0, b=1.0)
    out = check_expectation(res, _exp(arm="a", vs="b", op=op, value=value))
    assert (out.verdict == "pass") is passes


def test_difference_with_normalize():
    res = _result(a=2.0, b=1.0, c=4.0)  # normalised to c: 0.5 - 0.25
    out = check_expectation(
        res, _exp(arm="a", vs="b", normalize="c", compare="difference", op="between", value=(0.2, 0.3))
    )
    assert out.observed == pytest.approx(0.25) and out.verdict == "pass"
    out = check_expectation(
        res, _exp(arm="b", vs="a", normalize="c", compare="difference", op="between", value=(0.2, 0.3))
    )
    assert out.observed == pytest.approx(-0.25) and out.verdict == "fail"


def test_between_bounds():
    res = _result(a=3.0, b=4.0)
    assert check_expectation(res, _exp(arm="a", vs="b", op="between", value=(0.7, 0.8))).verdict == "pass"
    assert check_expectation(res, _exp(arm="a", vs="b", op="between", value=(0.8, 0.9))).verdict == "fail"


def test_between_needs_two_values():
    with pytest.raises(ValueError, match="between"):
        _exp(arm="a", op="between", value=1.0)


@pytest.mark.parametrize(
    ("trend", "values", "rho"),
    [
        ("increasing", [1, 2, 3, 4], 1.0),
        ("decreasing", [4, 3, 2, 1], 1.0),
        ("increasing", [4, 3, 2, 1], -1.0),
        ("decreasing", [1, 2, 3, 4], -1.0),
        ("increasing", [1, 3, 2, 4], 0.8),
    ],
)
def test_trend_is_signed_spearman_rho(trend, values, rho):
    res = _result(**dict(zip("abcd", values, strict=True)))
    out = check_expectation(res, _exp(trend=trend, arms=list("abcd"), op=">=", value=0.75))
    assert out.observed == pytest.approx(rho)
    assert out.verdict == ("pass" if rho >= 0.75 else "fail")


def test_trend_with_reference_arms_uses_ratios():
    # raw values decrease, ratios to their references increase
    res = _result(a=4.0, b=3.0, c=2.0, d=40.0, zero1=10.0, zero2=4.0)
    out = check_expectation(
        res, _exp(trend="increasing", arms=["a", "b", "c"], vs=["d", "zero1", "zero2"], op=">=", value=0.9)
    )
    assert out.observed == pytest.approx(1.0) and out.verdict == "pass"


def test_trend_of_constant_values_is_zero():
    res = _result(a=1.0, b=1.0, c=1.0)
    out = check_expectation(res, _exp(trend="increasing", arms=["a", "b", "c"], op=">=", value=0.5))
    assert out.observed == 0.0 and out.verdict == "fail"


def test_known_failure_that_fails_is_xfail():
    res = _result(a=1.0, b=4.0)
    out = check_expectation(res, _exp(arm="a", vs="b", op=">=", value=0.5, known_failure="model limitation"))
    assert out.verdict == "xfail" and out.ok and "model limitation" in out.detail


def test_known_failure_that_passes_is_xpass():
    res = _result(a=1.0, b=4.0)
    out = check_expectation(res, _exp(arm="a", vs="b", op="<=", value=0.5, known_failure="model limitation"))
    assert out.verdict == "xpass" and not out.ok and "remove 'known_failure'" in out.detail


def test_zero_over_zero_fails():
    res = _result(zero1=0.0, zero2=0.0)
    for op, value in ((">=", 0.0), ("<=", 1e9), ("between", (-1e9, 1e9))):
        out = check_expectation(res, _exp(arm="zero1", vs="zero2", op=op, value=value))
        assert math.isnan(out.observed) and out.verdict == "fail" and "0/0" in out.detail


def test_nonzero_over_zero_is_infinite():
    res = _result(a=1.0, zero1=0.0)
    out = check_expectation(res, _exp(arm="a", vs="zero1", op=">=", value=1e6))
    assert out.observed == math.inf and out.verdict == "pass"


def test_check_expectations_follows_scenario_order(minimal_scenario_dict):
    minimal_scenario_dict["expect"] = [
        {"readout": "pAkt", "metric": "final", "arm": "control", "op": ">=", "value": 0.5},
        {"readout": "pAkt", "metric": "final", "arm": "cixutumumab", "vs": "control", "op": "<=", "value": 0.5},
    ]
    sc = igfsim.parse_scenario(minimal_scenario_dict, "order")
    res = ScenarioResult(
        scenario="order",
        engine="none",
        arms=("control", "cixutumumab"),
        times=T,
        readouts=("pAkt",),
        values=np.stack([np.full((11, 1), 0.8), np.full((11, 1), 0.2)]),
        records=(ArmRecord("control", "ok"), ArmRecord("cixutumumab", "ok")),
    )
    outs = igfsim.check_expectations(res, sc)
    assert [o.index for o in outs] == [0, 1]
    assert [o.verdict for o in outs] == ["pass", "pass"]
    assert outs[1].observed == pytest.approx(0.25)


def test_describe_mentions_the_comparison():
    text = describe(_exp(arm="a", vs="b", op="<=", value=0.3))
    assert re.search(r"x final a / b <= 0\.3", text), text
    text = describe(_exp(arm="a", vs="b", compare="difference", normalize="c", op="between", value=(0, 1)))
    assert "a - b" in text and "normalised to c" in text and "[0, 1]" in text


def test_compute_metrics_covers_every_arm_and_readout():
    res = _result(a=1.0, b=T)
    m = compute_metrics(res)
    assert set(m) == {"a", "b"} and set(m["a"]) == {"x"}
    assert m["a"]["x"]["auc"] == pytest.approx(10.0) and m["b"]["x"]["tpeak"] == 10.0
