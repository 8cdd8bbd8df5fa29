"""Read a PEtab problem and check it, reporting every problem at once with the file and key.

The checks a user's problem fails most often are made here, with names a user can act on (the
table file, the row, the column): a measurement whose observable or condition does not exist, a
parameter the model does not know, bounds that exclude the nominal value or are not positive on a
log scale. What passes those goes through the PEtab library's own lint. Time-point-specific
observable/noise parameter overrides are flattened (``petab.flatten_timepoint_specific_output_overrides``),
the usual preparation for simulators that map parameters per condition.

Version 2 problems are read by :mod:`igfsim.calibrate.petab_v2` (simulated through AMICI); any
other version is refused with that reason rather than read as something else.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from igfsim.errors import CalibrationError, Issue, did_you_mean, read_text_file

if TYPE_CHECKING:
    from igfsim.calibrate.petab_v2 import PetabV2Problem

__all__ = ["CalibrationProblem", "load_problem"]

_TABLES = {
    "condition_files": "condition table",
    "measurement_files": "measurement table",
    "observable_files": "observable table",
    "sbml_files": "SBML model",
}
_LOG_SCALES = ("log", "log10")


class PetabProblemBase:
    """What every PEtab problem (v1 or v2) answers the same way: its name, its estimated ids, gradients."""

    path: Path
    petab_problem: Any

    @property
    def supports_sensitivities(self) -> bool:
        """Exact gradients are available for PEtab problems (through AMICI, when installed)."""
        return True

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def parameter_ids(self) -> list[str]:
        """Ids of the estimated parameters, in the optimiser's order."""
        return list(self.petab_problem.x_free_ids)


@dataclass(frozen=True)
class CalibrationProblem(PetabProblemBase):
    """A checked PEtab (v1) problem: the petab library's object plus what the optimiser needs."""

    path: Path
    petab_problem: Any  # petab.v1.Problem (flattened when it had time-point-specific overrides)
    flattened: bool
    files: tuple[Path, ...] = ()  # the YAML and every table and model file it names

    @property
    def scales(self) -> list[str]:
        df = self.petab_problem.parameter_df
        return [str(df.loc[i, "parameterScale"]) for i in self.parameter_ids]

    @property
    def lower_scaled(self) -> np.ndarray:
        return np.asarray(self.petab_problem.get_lb(fixed=False, scaled=True), dtype=float)

    @property
    def upper_scaled(self) -> np.ndarray:
        return np.asarray(self.petab_problem.get_ub(fixed=False, scaled=True), dtype=float)

    @property
    def nominal_scaled(self) -> np.ndarray:
        return np.asarray(self.petab_problem.x_nominal_free_scaled, dtype=float)

    @property
    def n_measurements(self) -> int:
        return len(self.petab_problem.measurement_df)

    def build(self, gradient: Any, solver: Any) -> Any:
        """The ``pypesto.Problem`` (see :func:`igfsim.calibrate.objective.build_problem`)."""
        from igfsim.calibrate.objective import build_problem

        return build_problem(self, gradient, solver)

    def parameter_table(self, x: tuple[float, ...] | None) -> Any:
        """The PEtab parameter table with ``x`` (on the parameters' scales) as ``nominalValue``."""
        df = self.petab_problem.parameter_df.copy()
        if x is not None:
            for pid, value, scale in zip(self.parameter_ids, x, self.scales, strict=True):
                df.loc[pid, "nominalValue"] = unscale(value, scale)
        return df

    def fit_table(self, x: tuple[float, ...], solver: Any) -> Any:
        """Measurements beside the simulation at ``x`` (one row per measurement)."""
        from pypesto.objective.roadrunner import simulation_to_measurement_df

        from igfsim.calibrate.objective import Gradient, library_quiet, native_output_silenced

        pp = self.build(Gradient.NONE, solver)
        with library_quiet(), native_output_silenced():
            ret = pp.objective(np.asarray(x), return_dict=True)
            sim = simulation_to_measurement_df(ret["simulation_results"], self.petab_problem.measurement_df)
        out = self.petab_problem.measurement_df.copy()
        out["simulation"] = sim.sort_index()["simulation"].to_numpy() if "simulation" in sim else np.nan
        out["observableId"] = [str(o).split("__")[0] for o in out["observableId"]]  # undo flattening
        return out


def load_problem(path: str | Path) -> CalibrationProblem | PetabV2Problem:
    """Read and check a PEtab problem YAML; raise :class:`CalibrationError` listing every problem."""
    import petab.v1 as petab

    path = Path(path)
    if _major_version(path) == "2":
        from igfsim.calibrate.petab_v2 import load_problem_v2

        return load_problem_v2(path)
    spec = _read_yaml(path)
    files = _table_files(path, spec)
    with quiet_petab():
        tables, issues = _read_tables(files)
    if issues:
        raise CalibrationError(str(path), issues)
    issues = _check(tables, files)
    if issues:
        raise CalibrationError(str(path), issues)
    try:
        with quiet_petab():
            problem = petab.Problem.from_yaml(str(path))
    except Exception as err:  # the petab library raises plain exceptions on what we did not foresee
        raise CalibrationError(
            str(path), [Issue("petab", f"the PEtab library cannot read the problem: {err}")]
        ) from None
    with quiet_petab():
        lint = _lint(problem)
    if lint:
        raise CalibrationError(str(path), lint)
    flattened = bool(petab.lint.measurement_table_has_timepoint_specific_mappings(problem.measurement_df))
    if flattened:
        with quiet_petab():
            petab.flatten_timepoint_specific_output_overrides(problem)
    listed = (path, *sorted({f for group in files.values() for f in group}))
    return CalibrationProblem(path=path, petab_problem=problem, flattened=flattened, files=listed)


# ------------------------------------------------------------------------------------ reading


def read_mapping(path: Path, expected: str) -> dict[str, Any]:
    """The YAML mapping in ``path``; :class:`CalibrationError` when unreadable, not YAML or not a mapping."""
    text, why = read_text_file(path)
    if text is None:
        raise CalibrationError(str(path), [Issue("file", why)])
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise CalibrationError(str(path), [Issue("file", f"not valid YAML ({err})")]) from None
    if not isinstance(spec, dict):
        raise CalibrationError(str(path), [Issue("file", f"expected {expected}")])
    return spec


def _major_version(path: Path) -> str:
    spec = read_mapping(path, "a PEtab problem mapping (format_version, ...)")
    return str(spec.get("format_version", "")).strip().split(".")[0]


def _read_yaml(path: Path) -> dict[str, Any]:
    spec = read_mapping(path, "a PEtab problem mapping (format_version, problems)")
    version = str(spec.get("format_version", "")).strip()
    if version.split(".")[0] != "1":
        why = f"expected PEtab format_version 1 or 2, got {version or 'none'!r}"
        raise CalibrationError(str(path), [Issue("format_version", why)])
    problems = spec.get("problems")
    if not isinstance(problems, list) or len(problems) != 1 or not isinstance(problems[0], dict):
        raise CalibrationError(str(path), [Issue("problems", "expected a list with exactly one problem")])
    return spec


def _table_files(path: Path, spec: dict[str, Any]) -> dict[str, list[Path]]:
    base = path.parent
    problem = spec["problems"][0]
    out: dict[str, list[Path]] = {}
    issues: list[Issue] = []
    for key in _TABLES:
        names = problem.get(key)
        if isinstance(names, str):
            names = [names]
        if not names or not isinstance(names, list):
            issues.append(Issue(f"problems[0].{key}", f"expected a list of {_TABLES[key]} files"))
            continue
        out[key] = [base / str(n) for n in names]
    param = spec.get("parameter_file")
    if isinstance(param, list) and len(param) == 1:
        param = param[0]
    if not isinstance(param, str):
        issues.append(Issue("parameter_file", "expected the parameter table file"))
    else:
        out["parameter_file"] = [base / param]
    for key, paths in out.items():
        issues += [Issue(key, f"{p.name}: file not found") for p in paths if not p.is_file()]
    if issues:
        raise CalibrationError(str(path), issues)
    return out


@dataclass(frozen=True)
class _Tables:
    measurements: Any
    conditions: Any
    observables: Any
    parameters: Any
    model_ids: frozenset[str]
    valid_parameter_ids: frozenset[str]


def _read_tables(files: dict[str, list[Path]]) -> tuple[_Tables | None, list[Issue]]:
    import pandas as pd
    import petab.v1 as petab

    issues: list[Issue] = []
    read: dict[str, Any] = {}
    getters = {
        "measurement_files": petab.get_measurement_df,
        "condition_files": petab.get_condition_df,
        "observable_files": petab.get_observable_df,
        "parameter_file": petab.get_parameter_df,
    }
    for key, get in getters.items():
        try:
            frames = [get(str(p)) for p in files[key]]
            read[key] = frames[0] if len(frames) == 1 else pd.concat(frames)
        except Exception as err:
            issues.append(
                Issue(", ".join(p.name for p in files[key]), f"cannot read the {key.split('_')[0]} table: {err}")
            )
    model = None
    try:
        from petab.v1.models.sbml_model import SbmlModel

        with quiet_petab():
            model = SbmlModel.from_file(str(files["sbml_files"][0]))
        if model.sbml_model is None:
            raise ValueError("no SBML model in the file")
    except Exception as err:
        issues.append(Issue(files["sbml_files"][0].name, f"cannot read the SBML model: {err}"))
    if issues or model is None:
        return None, issues
    ids = {str(i) for i in model.get_valid_ids_for_condition_table()} | {
        p.getId() for p in model.sbml_model.getListOfParameters()
    }
    try:
        valid = petab.get_valid_parameters_for_parameter_table(
            model, read["condition_files"], read["observable_files"], read["measurement_files"]
        )
    except Exception as err:
        return None, [Issue("parameter table", f"cannot work out which parameters the problem has: {err}")]
    return _Tables(
        measurements=read["measurement_files"],
        conditions=read["condition_files"],
        observables=read["observable_files"],
        parameters=read["parameter_file"],
        model_ids=frozenset(ids),
        valid_parameter_ids=frozenset(str(v) for v in valid),
    ), []


# ------------------------------------------------------------------------------------- checks


def _check(tables: _Tables | None, files: dict[str, list[Path]]) -> list[Issue]:
    if tables is None:
        return []
    mfile = ", ".join(p.name for p in files["measurement_files"])
    cfile = ", ".join(p.name for p in files["condition_files"])
    ofile = ", ".join(p.name for p in files["observable_files"])
    pfile = files["parameter_file"][0].name
    return (
        _check_measurements(tables, mfile, cfile, ofile)
        + _check_conditions(tables, cfile)
        + _check_parameters(tables, pfile)
    )


def _check_measurements(t: _Tables, mfile: str, cfile: str, ofile: str) -> list[Issue]:
    issues: list[Issue] = []
    observables = {str(i) for i in t.observables.index}
    conditions = {str(i) for i in t.conditions.index}
    m = t.measurements
    for col, known, table in (
        ("observableId", observables, ofile),
        ("simulationConditionId", conditions, cfile),
        ("preequilibrationConditionId", conditions, cfile),
    ):
        if col not in m.columns:
            if col != "preequilibrationConditionId":
                issues.append(Issue(f"{mfile}, column {col}", "missing (a PEtab measurement table needs it)"))
            continue
        unknown: dict[str, list[int]] = {}
        for row, value in enumerate(m[col], start=2):  # row 1 is the header
            if isinstance(value, float) and math.isnan(value):
                continue
            if str(value) not in known and str(value) != "":
                unknown.setdefault(str(value), []).append(row)
        for value, rows in unknown.items():
            where = f"{mfile}, row{'s' if len(rows) > 1 else ''} {_rows(rows)}, {col}"
            issues.append(Issue(where, f"{value!r} is not in {table}{did_you_mean(value, known)}"))
    if "measurement" in m.columns:
        bad = [r for r, v in enumerate(m["measurement"], start=2) if not _finite(v)]
        if bad:
            issues.append(Issue(f"{mfile}, rows {_rows(bad)}, measurement", "expected a finite number"))
    return issues


def _check_conditions(t: _Tables, cfile: str) -> list[Issue]:
    issues: list[Issue] = []
    for col in t.conditions.columns:
        if col == "conditionName" or col in t.model_ids:
            continue
        issues.append(
            Issue(
                f"{cfile}, column {col}",
                f"not a parameter, species or compartment of the model{did_you_mean(col, t.model_ids)}",
            )
        )
    return issues


def _check_parameters(t: _Tables, pfile: str) -> list[Issue]:
    issues: list[Issue] = []
    df = t.parameters
    for pid in df.index:
        pid = str(pid)
        if pid not in t.valid_parameter_ids:
            issues.append(
                Issue(
                    f"{pfile}, parameterId {pid}",
                    "unknown parameter: not in the model, nor an observable/noise parameter of the measurements"
                    + did_you_mean(pid, t.valid_parameter_ids),
                )
            )
            continue
        row = df.loc[pid]
        estimate = str(row.get("estimate", 1)).strip() in ("1", "1.0", "True", "true")
        if not estimate:
            continue
        lb, ub, nominal = (_number(row.get(k)) for k in ("lowerBound", "upperBound", "nominalValue"))
        scale = str(row.get("parameterScale", "lin"))
        where = f"{pfile}, parameterId {pid}"
        if lb is None or ub is None or not (math.isfinite(lb) and math.isfinite(ub)):
            issues.append(Issue(where, "an estimated parameter needs finite lowerBound and upperBound"))
            continue
        if lb >= ub:
            issues.append(Issue(where, f"lowerBound {lb:g} is not below upperBound {ub:g}"))
        if scale in _LOG_SCALES and lb <= 0:
            issues.append(Issue(where, f"parameterScale {scale} needs a positive lowerBound, got {lb:g}"))
        if nominal is not None and math.isfinite(nominal) and not lb <= nominal <= ub:
            issues.append(Issue(where, f"nominalValue {nominal:g} lies outside the bounds [{lb:g}, {ub:g}]"))
    return issues


def _lint(problem: Any) -> list[Issue]:
    """The PEtab library's lint; its error messages become issues."""
    import petab.v1 as petab

    records: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = _Keep(level=logging.ERROR)
    logger = logging.getLogger("petab")
    logger.addHandler(handler)
    try:
        with quiet_petab():
            failed = petab.lint_problem(problem)
    finally:
        logger.removeHandler(handler)
    if not failed:
        return []
    msgs = [r.getMessage() for r in records if r.levelno >= logging.ERROR] or ["the PEtab lint failed"]
    return [Issue("petab lint", m) for m in dict.fromkeys(msgs)]


@contextmanager
def quiet_petab() -> Iterator[None]:
    """The petab library warns through ``warnings`` and logs through ``logging``; we report ourselves."""
    import warnings

    logger = logging.getLogger("petab")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def unscale(value: float, scale: str) -> float:
    """A value on a PEtab parameter scale back on the linear scale."""
    if scale == "log10":
        return float(10.0**value)
    if scale == "log":
        return float(math.exp(value))
    return float(value)


def _rows(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:5]))
    return shown + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def _number(value: object) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _finite(value: object) -> bool:
    x = _number(value)
    return x is not None and math.isfinite(x)
