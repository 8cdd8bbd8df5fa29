"""Every bundled scenario, run with the real roadrunner engine, reproduces its claims.

An expectation may be a documented known failure (``xfail``); a known failure that starts to pass
(``xpass``) fails here so the marker cannot go stale.
"""

from __future__ import annotations

import pytest

import igfsim
from igfsim.analysis.expectations import describe
from igfsim.resources import bundled_scenarios_dir

SCENARIOS = sorted(bundled_scenarios_dir().glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_bundled_scenario_expectations_hold(igf_model, path):
    scenario = igfsim.load_scenario(path)
    result = igfsim.run_scenario(scenario, igf_model, engine="roadrunner")
    assert result.ok, [r.message for r in result.records if r.status != "ok"]
    outcomes = igfsim.check_expectations(result, scenario)
    assert len(outcomes) == len(scenario.expect) > 0
    bad = [
        f"[{o.index}] {o.verdict.upper()}: {describe(o.expectation)}; observed {o.observed:.4g}"
        + (f" ({o.detail})" if o.detail else "")
        for o in outcomes
        if not o.ok
    ]
    assert not bad, f"{path.name}:\n" + "\n".join(bad)
