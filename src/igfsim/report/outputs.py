"""Write a scenario run to disk: timecourse.csv, summary.json and (when asked) timecourse.png.

Every file is written to a temporary name beside it and renamed over it when complete, so a full disk
or a crash leaves the previous files whole, never a cut-off CSV beside an old summary; ``summary.json``
comes last. A symlink where an output goes is refused rather than written through.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from igfsim.analysis.expectations import ExpectationOutcome
from igfsim.report.summary import SUMMARY_FILE, RunSummary
from igfsim.result.scenario_result import ScenarioResult
from igfsim.scenario.schema import Scenario


def summary_dict(result: ScenarioResult, scenario: Scenario, outcomes: list[ExpectationOutcome]) -> dict:
    """The content of ``summary.json`` as a plain dict (:meth:`RunSummary.to_dict`)."""
    return RunSummary.from_run(result, scenario, outcomes).to_dict()


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise OSError(f"{path} is a symlink; igfsim does not write through symlinks (remove it or choose --out)")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; renamed over ``path`` when the block ends without error."""
    _refuse_symlink(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


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
    _refuse_symlink(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with replacing(folder / "timecourse.csv") as tmp:
        result.write_csv(tmp)
    if png:
        from igfsim.report.plots import plot_scenario

        fig = plot_scenario(
            result, readouts, title=f"{scenario.name}: {scenario.title}", scenario=scenario, groups=groups
        )
        with replacing(folder / "timecourse.png") as tmp:
            fig.savefig(tmp, dpi=90, format="png")
    with replacing(folder / SUMMARY_FILE) as tmp:
        tmp.write_text(RunSummary.from_run(result, scenario, outcomes).to_json(), encoding="utf-8")
    return folder
