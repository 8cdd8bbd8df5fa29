"""Write a scenario run to disk: timecourse.csv, summary.json and timecourse.png."""

from __future__ import annotations

import json
import math
from pathlib import Path

from igfsim.analysis.expectations import ExpectationOutcome, Verdict, describe, verdict_counts
from igfsim.result.metrics import compute_metrics
from igfsim.result.scenario_result import ScenarioResult
from igfsim.scenario.schema import Scenario


def _num(x: float):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def summary_dict(result: ScenarioResult, scenario: Scenario, outcomes: list[ExpectationOutcome]) -> dict:
    """The content of ``summary.json``."""
    from igfsim._version import __version__

    metrics = compute_metrics(result)
    counts = verdict_counts(outcomes)
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "claims": scenario.claims,
        "time_units": result.time_units,
        "references": scenario.references,
        "engine": result.engine,
        "igfsim_version": __version__,
        "mechanism": scenario.mechanism.model_dump() if scenario.mechanism else None,
        "model": {"path": result.attrs.get("model_path"), "sha256": result.attrs.get("model_sha256")},
        "tolerances": {"rtol": result.attrs.get("rtol"), "atol": result.attrs.get("atol")},
        "arms": {
            rec.arm: {
                "status": rec.status,
                "message": rec.message,
                "wall_s": round(rec.wall_s, 4),
                "metrics": {r: {m: _num(v) for m, v in ms.items()} for r, ms in metrics[rec.arm].items()},
            }
            for rec in result.records
        },
        "expectations": [
            {
                "index": o.index,
                "text": describe(o.expectation),
                **o.expectation.model_dump(exclude_none=True),
                "observed": _num(o.observed),
                "verdict": o.verdict,
                "detail": o.detail,
            }
            for o in outcomes
        ],
        "passed": counts.get(Verdict.PASS, 0),
        "failed": sum(not o.ok for o in outcomes),
        "known_failures": counts.get(Verdict.XFAIL, 0),
        "not_expressible": counts.get(Verdict.NOT_EXPRESSIBLE, 0),
    }


def write_run_outputs(
    result: ScenarioResult,
    scenario: Scenario,
    outcomes: list[ExpectationOutcome],
    out_dir: str | Path,
    *,
    png: bool = True,
) -> Path:
    """Write the three files into ``out_dir/<scenario name>/`` and return that folder."""
    folder = Path(out_dir) / scenario.name
    folder.mkdir(parents=True, exist_ok=True)
    result.to_dataframe().to_csv(folder / "timecourse.csv", index=False, float_format="%.8g")
    (folder / "summary.json").write_text(json.dumps(summary_dict(result, scenario, outcomes), indent=2) + "\n")
    if png:
        from igfsim.report.plots import plot_scenario

        fig = plot_scenario(result, title=f"{scenario.name}: {scenario.title}")
        fig.savefig(folder / "timecourse.png", dpi=90)
    return folder
