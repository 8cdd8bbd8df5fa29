"""PEtab version 2 problems: read and checked by the petab library, simulated by AMICI through pyPESTO.

pyPESTO simulates a version-2 problem with AMICI only (its libRoadRunner objective reads version
1), so a version-2 problem needs the ``amici`` extra; without it the problem is refused with that
reason. Version 2 has no ``parameterScale``: parameters are estimated on their own (linear) scale,
as pyPESTO does, and start points are drawn from each parameter's prior (``priorDistribution``),
or uniformly within its bounds when it has none, which is what the format specifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from igfsim.calibrate.problem import PetabProblemBase
from igfsim.errors import CalibrationError, Issue

__all__ = ["PetabV2Problem", "load_problem_v2"]

_DEFAULT = "__default__"  # AMICI's id of the experiment of measurements that name none
_FILE_LISTS = (
    "parameter_files",
    "measurement_files",
    "condition_files",
    "experiment_files",
    "observable_files",
    "mapping_files",
)


@dataclass(frozen=True)
class PetabV2Problem(PetabProblemBase):
    """A checked PEtab v2 problem: the petab library's object plus what the optimiser needs."""

    path: Path
    petab_problem: Any  # petab.v2.Problem
    files: tuple[Path, ...] = ()  # the YAML and every table and model file it names

    @property
    def _estimated(self) -> list[Any]:
        by_id = {p.id: p for p in self.petab_problem.parameters}
        return [by_id[i] for i in self.parameter_ids]

    @property
    def scales(self) -> list[str]:
        return ["lin"] * len(self.parameter_ids)  # version 2 has no parameter scales

    @property
    def lower_scaled(self) -> np.ndarray:
        return np.array([float(p.lb) for p in self._estimated])

    @property
    def upper_scaled(self) -> np.ndarray:
        return np.array([float(p.ub) for p in self._estimated])

    @property
    def nominal_scaled(self) -> np.ndarray:
        return np.asarray(self.petab_problem.x_nominal_free, dtype=float)

    @property
    def n_measurements(self) -> int:
        return int(self.petab_problem.n_measurements)

    def sample_starts(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` points from the parameters' priors (uniform in the bounds where none), within the bounds."""
        lb, ub = self.lower_scaled, self.upper_scaled
        columns = []
        for k, p in enumerate(self._estimated):
            if p.prior_distribution:
                state = np.random.get_state()  # petab's distributions draw from numpy's global generator
                np.random.seed(int(rng.integers(2**32)))
                try:
                    columns.append(np.asarray(p.prior_dist.sample(n), dtype=float))
                finally:
                    np.random.set_state(state)
            else:
                columns.append(lb[k] + rng.random(n) * (ub[k] - lb[k]))
        return np.clip(np.column_stack(columns), lb, ub) if columns else np.zeros((n, 0))

    def build(self, gradient: Any, solver: Any) -> Any:
        """The ``pypesto.Problem`` with AMICI's objective (exact gradients, or wrapped in finite differences)."""
        from igfsim.calibrate.sensitivities import build_amici_problem

        return build_amici_problem(self, solver, gradient=gradient)

    def parameter_table(self, x: tuple[float, ...] | None) -> Any:
        """The PEtab parameter table with ``x`` as ``nominalValue``."""
        df = self.petab_problem.parameter_df.copy()
        df = df.drop(columns=[c for c in ("index",) if c in df.columns])
        if x is not None:
            for pid, value in zip(self.parameter_ids, x, strict=True):
                df.loc[pid, "nominalValue"] = float(value)
        return df

    def fit_table(self, x: tuple[float, ...], solver: Any) -> Any:
        """Measurements beside the simulation at ``x`` (one row per measurement)."""
        from igfsim.calibrate.objective import Gradient, library_quiet, native_output_silenced

        objective = self.build(Gradient.NONE, solver).objective
        values = dict(zip(self.parameter_ids, (float(v) for v in x), strict=True))
        with library_quiet(), native_output_silenced():
            result = objective._petab_simulator.simulate(values)  # pyPESTO's v2 objective offers no table
        observables = list(objective.amici_model.get_observable_ids())
        simulated: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        for edata, rdata in zip(result.edatas, result.rdatas, strict=True):
            ts, y = np.asarray(rdata.ts, dtype=float), np.asarray(rdata.y, dtype=float)
            for j, obs in enumerate(observables):
                simulated[(str(edata.id), obs)] = (ts, y[:, j] if y.ndim == 2 and y.size else np.full(ts.size, np.nan))
        out = self.petab_problem.measurement_df.copy()
        out = out.drop(columns=[c for c in ("index",) if c in out.columns]).reset_index(drop=True)
        # a measurement without experimentId is simulated in AMICI's default experiment
        out["simulationConditionId"] = [str(e) if isinstance(e, str) and e else _DEFAULT for e in out["experimentId"]]
        out["simulation"] = [
            _at(simulated.get((str(e), str(o))), float(t))
            for e, o, t in zip(out["simulationConditionId"], out["observableId"], out["time"], strict=True)
        ]
        return out


def _at(series: tuple[np.ndarray, np.ndarray] | None, t: float) -> float:
    """The simulated value at the output time nearest ``t`` (NaN when the experiment was not simulated)."""
    if series is None or not series[0].size:
        return float("nan")
    ts, y = series
    k = int(np.argmin(np.abs(ts - t)))
    return float(y[k]) if abs(ts[k] - t) <= 1e-9 * max(1.0, abs(t)) else float("nan")


def load_problem_v2(path: Path) -> PetabV2Problem:
    """Read and check a PEtab v2 problem; :class:`CalibrationError` lists every problem."""
    from igfsim.calibrate.sensitivities import amici_available

    if not amici_available():
        raise CalibrationError(
            str(path),
            [
                Issue(
                    "format_version",
                    "PEtab version 2 problems are simulated through AMICI (pyPESTO's libRoadRunner objective "
                    'reads version 1 only), which is not installed: `pip install "igfsim[amici]"`, '
                    "or write the problem in version 1",
                )
            ],
        )
    import petab.v2 as v2

    from igfsim.calibrate.objective import library_quiet

    try:
        with library_quiet():
            problem = v2.Problem.from_yaml(str(path))
    except Exception as err:  # the petab library raises plain exceptions for unreadable tables
        raise CalibrationError(str(path), _library_issues(err)) from None
    with library_quiet():
        results = problem.validate()
    issues = [
        Issue(f"petab ({getattr(r, 'task', None) or 'lint'})", str(r.message))
        for r in results
        if getattr(r.level, "name", str(r.level)).upper() in ("ERROR", "CRITICAL")
    ]
    issues += _bound_issues(problem)
    if not issues and not list(problem.x_free_ids):
        issues.append(Issue("parameter table", "no parameter is estimated (estimate true): there is nothing to fit"))
    if issues:
        raise CalibrationError(str(path), issues)
    return PetabV2Problem(path=path, petab_problem=problem, files=_files(path, problem))


def _library_issues(err: Exception) -> list[Issue]:
    """The petab library's complaint, one issue per row it refused (its pydantic models name the row)."""
    errors = getattr(err, "errors", None)
    if not callable(errors):
        return [Issue("petab", f"the PEtab library cannot read the problem: {err}")]
    issues = []
    table = str(getattr(err, "title", "table")).lower()
    for e in errors():
        row = e.get("input") if isinstance(e.get("input"), dict) else {}
        ident = next((str(v) for k, v in row.items() if k.endswith("Id") and isinstance(v, str)), "")
        where = f"{table} table" + (f", {ident}" if ident else "")
        field = ".".join(str(x) for x in e.get("loc", ()))
        issues.append(
            Issue(where + (f", {field}" if field else ""), str(e.get("msg", "")).removeprefix("Value error, "))
        )
    return issues


def _bound_issues(problem: Any) -> list[Issue]:
    """Estimated parameters whose bounds are missing, inverted or exclude the nominal value."""
    issues = []
    for p in problem.parameters:
        if not p.estimate:
            continue
        where = f"parameter table, parameter {p.id}"
        lb, ub = p.lb, p.ub
        if lb is None or ub is None or not (np.isfinite(lb) and np.isfinite(ub)) or lb >= ub:
            issues.append(Issue(where, f"expected finite bounds lowerBound < upperBound, got {lb!r}, {ub!r}"))
        elif p.nominal_value is not None and not lb <= p.nominal_value <= ub:
            issues.append(Issue(where, f"nominalValue {p.nominal_value:g} lies outside the bounds [{lb:g}, {ub:g}]"))
    return issues


def _files(path: Path, problem: Any) -> tuple[Path, ...]:
    config = problem.config
    base = Path(getattr(config, "base_path", None) or path.parent)
    names: list[Path] = []
    for key in _FILE_LISTS:
        names += [Path(f) for f in getattr(config, key, None) or []]
    names += [Path(m.location) for m in (getattr(config, "model_files", None) or {}).values()]
    return (path, *sorted({n if n.is_absolute() else base / n for n in names}))
