"""Inputs of the HTML report: run and sweep output folders, bundled runs, and provenance facts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from igfsim.analysis.ensemble import EnsembleSummary
from igfsim.errors import IgfsimError, ReportInputError
from igfsim.report.summary import SUMMARY_FILE, RunSummary
from igfsim.result.scenario_result import ArmRecord, RunStatus, ScenarioResult

if TYPE_CHECKING:
    from igfsim.analysis.consistency import ScenarioConsistency
    from igfsim.scenario.schema import Scenario
    from igfsim.sweep.result import SweepResult

DEPENDENCIES = ("numpy", "scipy", "libroadrunner", "antimony", "python-libsbml", "xarray", "pandas", "matplotlib")


@dataclass
class ScenarioSection:
    """One scenario run: its ``summary.json`` content, trajectories, and optionally the scenario file and
    the cross-engine comparison."""

    summary: RunSummary
    result: ScenarioResult | None
    source: str
    scenario: Scenario | None = None  #: the scenario file, when found
    consistency: ScenarioConsistency | None = None  #: the cross-engine comparison (``--engines all``)


@dataclass
class SweepSection:
    """One sweep folder."""

    path: Path
    sweep: SweepResult
    spec: dict | None = None  #: the content of ``sweep.json`` (the sweep, its scenario included)
    notes: list[str] = field(default_factory=list)


@dataclass
class CalibrationSection:
    """One calibration folder (``igfsim calibrate --out``): its ``calibration.json`` and tables."""

    path: Path
    summary: dict
    starts: Any  # pandas.DataFrame of starts.tsv
    fit: Any | None  # pandas.DataFrame of fit.tsv, when a start finished
    parameters: Any  # pandas.DataFrame of best_parameters.tsv
    profiles: Any | None = None  # pandas.DataFrame of profiles.tsv (igfsim calibrate --profile)
    profile_paths: Any | None = None  # pandas.DataFrame of profile_paths.tsv


@dataclass
class EnsembleSection:
    """One ensemble-verdict folder (``igfsim validate --ensemble FILE --out DIR``): its summary."""

    path: Path
    summary: EnsembleSummary


Section = ScenarioSection | SweepSection | CalibrationSection | EnsembleSection


def _load_calibration_folder(p: Path) -> CalibrationSection:
    import pandas as pd

    try:
        summary = json.loads((p / "calibration.json").read_text(encoding="utf-8"))
        starts = pd.read_csv(p / "starts.tsv", sep="\t")
        parameters = pd.read_csv(p / "best_parameters.tsv", sep="\t")
        fit = pd.read_csv(p / "fit.tsv", sep="\t") if (p / "fit.tsv").is_file() else None
        profiled = (p / "profiles.tsv").is_file() and (p / "profile_paths.tsv").is_file()
        profiles = pd.read_csv(p / "profiles.tsv", sep="\t") if profiled else None
        paths = pd.read_csv(p / "profile_paths.tsv", sep="\t") if profiled else None
    except (OSError, ValueError) as err:
        raise ReportInputError(f"{p}: a calibration folder whose tables cannot be read ({err})") from None
    missing = [c for c in ("fval", "start", "optimizer", "exitflag") if c not in starts.columns]
    if missing or not isinstance(summary, dict):
        raise ReportInputError(f"{p}/starts.tsv: missing columns {missing} (not written by igfsim calibrate?)")
    return CalibrationSection(p, summary, starts, fit, parameters, profiles, paths)


# ----------------------------------------------------------------------------------------- inputs


def _find_scenario(name: str, dirs=()) -> Scenario | None:
    """The scenario file named ``name`` (file stem or ``name:`` field) in ``dirs`` or the bundled
    scenarios, parsed; None when there is none."""
    from igfsim.resources import bundled_scenarios_dir
    from igfsim.scenario.loading import load_scenario

    for folder in [*map(Path, dirs), bundled_scenarios_dir()]:
        files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]) if folder.is_dir() else [folder]
        files.sort(key=lambda f: f.stem != name)  # the likely file first
        for path in files:
            try:
                sc = load_scenario(path)
            except (IgfsimError, OSError):
                continue
            if sc.name == name:
                return sc
    return None


def result_from_csv(csv: str | Path, summary: RunSummary) -> ScenarioResult:
    """Rebuild a :class:`ScenarioResult` from ``timecourse.csv`` and its ``summary.json`` content."""
    import pandas as pd

    from igfsim.scenario.readouts import unit_of

    frame = pd.read_csv(csv)
    if not {"arm", "time"} <= set(frame.columns):
        raise ReportInputError(f"{csv}: not an igfsim time course (columns arm, time missing)")
    arms = tuple(summary.arms or dict.fromkeys(frame["arm"].astype(str)))
    readouts = tuple(c for c in frame.columns if c not in ("arm", "time"))
    first = frame[frame["arm"].astype(str) == arms[0]]
    times = first["time"].to_numpy(dtype=float)
    values = np.full((len(arms), times.size, len(readouts)), np.nan)
    for i, arm in enumerate(arms):
        part = frame[frame["arm"].astype(str) == arm]
        if len(part) == times.size:
            values[i] = part[list(readouts)].to_numpy(dtype=float)
    info = summary.arms
    records = tuple(
        ArmRecord(a, info[a].status, info[a].message) if a in info else ArmRecord(a, RunStatus.OK) for a in arms
    )
    engine = summary.engine
    units = {r: (unit_of(r) if engine != "boolean" else "activity 0..1") for r in readouts}
    return ScenarioResult(
        scenario=summary.scenario,
        engine=engine,
        arms=arms,
        times=times,
        readouts=readouts,
        values=values,
        records=records,
        units=units,
        time_units=summary.time_units,
    )


def _load_run_folder(folder: Path, scenario_dirs=()) -> ScenarioSection:
    summary = RunSummary.read(folder / SUMMARY_FILE)  # a bad or missing field is a ReportInputError
    csv = folder / "timecourse.csv"
    result = result_from_csv(csv, summary) if csv.is_file() else None
    return ScenarioSection(summary, result, str(folder), scenario=_find_scenario(summary.scenario, scenario_dirs))


def load_inputs(paths, scenario_dirs=()) -> list[Section]:
    """Sections for each input folder (run output folder, one scenario's folder, sweep or calibration folder).

    The scenario files (for the question and the parameter overrides, which ``summary.json`` does not
    hold) are looked up by name in ``scenario_dirs`` (folders or files), then among the bundled ones."""
    from igfsim.sweep.result import SweepResult

    sections: list[Section] = []
    for p in map(Path, paths):
        if not p.is_dir():
            raise ReportInputError(f"{p}: no such folder (give run, validate --out or sweep output folders)")
        if (p / "manifest.json").is_file():
            sweep = SweepResult.open(p, trajectories=False)  # SweepStoreError is an IgfsimError
            try:
                spec = json.loads((p / "sweep.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                spec = None
            sections.append(SweepSection(p, sweep, spec))
        elif (p / "calibration.json").is_file():
            sections.append(_load_calibration_folder(p))
        elif (p / EnsembleSummary.FILE).is_file():
            sections.append(EnsembleSection(p, EnsembleSummary.read(p / EnsembleSummary.FILE)))
        elif (p / SUMMARY_FILE).is_file():
            sections.append(_load_run_folder(p, scenario_dirs))
        else:
            subs = sorted(d for d in p.iterdir() if (d / SUMMARY_FILE).is_file())
            if not subs:
                raise ReportInputError(
                    f"{p}: neither a run output folder (<scenario>/summary.json), a sweep folder (manifest.json) "
                    "nor a calibration folder (calibration.json) nor ensemble verdicts (ensemble_summary.json)"
                )
            sections += [_load_run_folder(d, scenario_dirs) for d in subs]
    return sections


def run_bundled(
    scenarios=None,
    *,
    model=None,
    engines: str = "roadrunner",
    on_done: Callable[[int, int, str], None] | None = None,
    catalogs: Sequence[str | Path] = (),
) -> list[ScenarioSection]:
    """Simulate scenario files (default: the bundled ones) with roadrunner; with ``engines="all"`` also
    with scipy and the Boolean engine, for the agreement table. ``on_done(i, n, name)`` is called as
    each scenario finishes (progress); ``catalogs`` are read after each scenario's own."""
    from igfsim.analysis.consistency import compare_scenario
    from igfsim.analysis.expectations import check_expectations
    from igfsim.model.sbml import load_model
    from igfsim.resources import bundled_scenarios_dir
    from igfsim.runner import run_scenario
    from igfsim.scenario.loading import load_scenario, with_catalogs

    model = load_model(model) if not hasattr(model, "sha256") else model
    files = [Path(s) for s in scenarios] if scenarios else sorted(bundled_scenarios_dir().glob("*.yaml"))
    sections = []
    for i, path in enumerate(files, 1):
        sc = with_catalogs(load_scenario(path), catalogs)
        consistency = None
        if engines == "all":
            consistency = compare_scenario(sc, model, source=str(path))
            result = consistency.results.get("roadrunner")
            outcomes = consistency.outcomes.get("roadrunner", [])
            if result is None:
                result = run_scenario(sc, model, on_error="record", source=str(path))
                outcomes = check_expectations(result, sc) if result.ok else []
        else:
            result = run_scenario(sc, model, on_error="record", source=str(path))
            outcomes = check_expectations(result, sc) if result.ok else []
        sections.append(ScenarioSection(RunSummary.from_run(result, sc, outcomes), result, str(path), sc, consistency))
        if on_done is not None:
            on_done(i, len(files), sc.name)
    return sections


# ----------------------------------------------------------------------------------------- provenance


def versions() -> dict[str, str]:
    """igfsim and dependency versions (``not installed`` when missing)."""
    from importlib.metadata import PackageNotFoundError, version

    from igfsim._version import __version__

    out = {"igfsim": __version__}
    for dist in DEPENDENCIES:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def overrides(scenario: Scenario | None) -> list[str]:
    """Human-readable parameter overrides of a scenario: stimulus, cell context/expression/initial/
    parameters, and per arm treatments, cell and stimulus changes."""
    if scenario is None:
        return []
    lines = []
    if scenario.stimulus:
        lines.append("stimulus: " + ", ".join(f"{k} {v:g} nM" for k, v in scenario.stimulus.items()))
    cell = scenario.cell.model_dump(exclude_defaults=True)
    lines.append(
        f"cell: context {scenario.cell.context}"
        + "".join(f"; {k} {json.dumps(v)}" for k, v in cell.items() if k != "context")
    )
    for arm in scenario.arms:
        parts = [
            f"{t.drug} {t.dose_nM:g} nM from {t.start_min:g} min"
            + (f" to {t.stop_min:g} min" if t.stop_min is not None else "")
            for t in arm.treatments
        ]
        if arm.cell is not None:
            parts.append("cell " + json.dumps(arm.cell.model_dump(exclude_defaults=True)))
        if arm.stimulus is not None:
            parts.append("stimulus " + json.dumps(arm.stimulus))
        lines.append(f"arm {arm.name}: " + ("; ".join(parts) if parts else "untreated"))
    return lines
