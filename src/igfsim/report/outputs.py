"""Write a scenario run to disk: timecourse.csv, summary.json and timecourse.png."""

from __future__ import annotations

from pathlib import Path

from igfsim.analysis.expectations import ExpectationOutcome
from igfsim.report.summary import SUMMARY_FILE, RunSummary
from igfsim.result.scenario_result import ScenarioResult
from igfsim.scenario.schema import Scenario


def summary_dict(result: ScenarioResult, scenario: Scenario, outcomes: list[ExpectationOutcome]) -> dict:
    """The content of ``summary.json`` as a plain dict (:meth:`RunSummary.to_dict`)."""
    return RunSummary.from_run(result, scenario, outcomes).to_dict()


def write_run_outputs(
    result: ScenarioResult,
    scenario: Scenario,
    outcomes: list[ExpectationOutcome],
    out_dir: str | Path,
    *,
    png: bool = True,
    readouts: list[str] | None = None,
    groups: dict[str, str] | None = None,
) -> Path:
    """Write the three files into ``out_dir/<scenario name>/`` and return that folder. The figure shows
    ``readouts`` (default: those the scenario is about), ordered and titled by ``groups``."""
    folder = Path(out_dir) / scenario.name
    folder.mkdir(parents=True, exist_ok=True)
    result.to_dataframe().to_csv(folder / "timecourse.csv", index=False, float_format="%.8g")
    (folder / SUMMARY_FILE).write_text(RunSummary.from_run(result, scenario, outcomes).to_json())
    if png:
        from igfsim.report.plots import plot_scenario

        fig = plot_scenario(
            result, readouts, title=f"{scenario.name}: {scenario.title}", scenario=scenario, groups=groups
        )
        fig.savefig(folder / "timecourse.png", dpi=90)
    return folder
