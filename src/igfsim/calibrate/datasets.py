"""Fit igfsim's own model to the measured data scenarios carry (``data/``): a calibration problem.

Where a PEtab problem (:mod:`igfsim.calibrate.problem`) is simulated by pyPESTO's libRoadRunner
objective, a data problem is simulated by igfsim itself (:func:`igfsim.run_scenario`), so every
protocol a scenario can state (pre-treatment, wash-out, medium changes, antibody options, cell
contexts) is available to the fit. What is estimated is a log10 multiplier of each chosen model
parameter (``scale:<id>`` targets, applied to the parameter's effective value in every arm, so a
context's own settings are kept relative); its bounds are folds of the model's value.

The likelihood is PEtab's normal one: for a ``relative`` dataset (arbitrary units) the scale
``s >= 0`` in ``measurement = s x readout`` is fitted in closed form for every parameter vector
(hierarchical optimisation, Weber et al. 2011 Bioinformatics 27:2871; Loos et al. 2018
Bioinformatics 34:4266), and a dataset without a published SD gets its noise SD in closed form too.

A problem file (YAML)::

    data: [data/]                     # scenario files or folders of them (each with a data: block)
    model: models/igf1r.antimony      # optional; default the bundled model
    parameters:                       # what to estimate, bounds as folds of the model value
      - {id: k_IRS_act, lower_fold: 0.01, upper_fold: 100}
      - {id: "expression:InsR_B", lower_fold: 0.1, upper_fold: 10}   # the cell's IR-B level
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from igfsim.calibrate.objective import Gradient, SolverSettings
from igfsim.errors import CalibrationError, IgfsimError, Issue, did_you_mean
from igfsim.model.sbml import Model, load_model
from igfsim.scenario.dataset import Dataset
from igfsim.scenario.schema import Scenario

__all__ = ["DataProblem", "FitParameter", "data_files", "data_problem", "load_data_problem", "scenario_from_table"]

_MIN_SD_FRACTION = (
    1e-6  # an estimated SD is at least this share of the data's RMS (a perfect fit is not infinitely likely)
)


@dataclass(frozen=True)
class FitParameter:
    """What to estimate, as a log10 multiplier within ``[lower_fold, upper_fold]``.

    ``id`` is a model parameter (its effective value in every arm is multiplied: ``scale:<id>``) or
    ``expression:<key>``, an expression level of the cell (a key of ``cell.expression``: the
    scenario's own level, 1 when it sets none, is multiplied), which is how a user's cell line
    becomes a calibrated context.
    """

    id: str
    lower_fold: float = 0.01
    upper_fold: float = 100.0

    @property
    def is_expression(self) -> bool:
        return self.id.startswith("expression:")

    @property
    def key(self) -> str:
        return self.id.split(":", 1)[1] if self.is_expression else self.id

    def __post_init__(self) -> None:
        if not (0 < self.lower_fold < 1 < self.upper_fold) or not math.isfinite(self.upper_fold):
            raise ValueError(
                f"parameter {self.id}: expected 0 < lower_fold < 1 < upper_fold (finite), "
                f"got {self.lower_fold!r}, {self.upper_fold!r}"
            )


@dataclass(frozen=True)
class DataProblem:
    """Scenarios with data, the model, and which of its parameters to estimate."""

    path: Path
    model: Model
    scenarios: tuple[tuple[str, Scenario], ...]  # (file, scenario) of every scenario with data
    parameters: tuple[FitParameter, ...]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle (into workers, pyPESTO's copies) with the model as its SBML text, compiled again there."""
        model = self.model
        return _rebuild, (self.path, model.sbml, model.path, model.mapping, self.scenarios, self.parameters)

    # ---------------------------------------------------------------- what the optimiser sees
    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def parameter_ids(self) -> list[str]:
        return [f"log10_fold_{p.id.replace(':', '_')}" for p in self.parameters]

    @property
    def scales(self) -> list[str]:
        return ["lin"] * len(self.parameters)  # the estimated quantity is itself a log10 fold

    @property
    def lower_scaled(self) -> np.ndarray:
        return np.log10([p.lower_fold for p in self.parameters])

    @property
    def upper_scaled(self) -> np.ndarray:
        return np.log10([p.upper_fold for p in self.parameters])

    @property
    def nominal_scaled(self) -> np.ndarray:
        return np.zeros(len(self.parameters))  # the model's own values

    @property
    def n_measurements(self) -> int:
        return sum(len(d.rows) for _, s in self.scenarios for d in s.data)

    @property
    def supports_sensitivities(self) -> bool:
        """No exact gradients: igfsim's scenarios are simulated by ``run_scenario``, not AMICI."""
        return False

    @property
    def datasets(self) -> list[Dataset]:
        return [d for _, s in self.scenarios for d in s.data]

    def build(self, gradient: Gradient, solver: SolverSettings) -> Any:
        """A ``pypesto.Problem`` whose objective simulates the scenarios with igfsim."""
        import pypesto

        from igfsim.calibrate._calculator import FiniteOrFailedFD

        objective: Any = pypesto.Objective(fun=_Nll(self, solver))
        if gradient is Gradient.FINITE_DIFFERENCES:
            objective = FiniteOrFailedFD(
                objective, grad=True, hess=False, method=FiniteOrFailedFD.CENTRAL, delta_grad=solver.fd_step
            )
        return pypesto.Problem(
            objective=objective,
            lb=self.lower_scaled,
            ub=self.upper_scaled,
            x_names=self.parameter_ids,
        )

    # ---------------------------------------------------------------- likelihood and tables
    def simulate(self, theta: np.ndarray, solver: SolverSettings) -> list[tuple[Dataset, np.ndarray, np.ndarray]]:
        """(dataset, measured, simulated readout) for every dataset at ``theta`` (NaN where a run failed)."""
        from igfsim.runner import run_scenario
        from igfsim.scenario.targets import apply_targets

        out = []
        targets = [p.id if p.is_expression else f"scale:{p.id}" for p in self.parameters]
        folds = [float(10.0**v) for v in theta]
        for _, scen in self.scenarios:
            sim = scen.simulation.model_copy(update={"rtol": solver.rtol, "atol": solver.atol})
            values = [
                f * scen.cell.expression.get(p.key, 1.0) if p.is_expression else f
                for p, f in zip(self.parameters, folds, strict=True)
            ]
            variant = apply_targets(scen.model_copy(update={"simulation": sim}), targets, values, model=self.model)
            res = run_scenario(variant, self.model, on_error="record")
            step = scen.simulation.duration_min / (scen.simulation.points - 1)
            for data in scen.data:
                y = data.measured
                h = np.array(
                    [res.get(arm, readout)[int(round(t / step))] for arm, readout, t, *_ in data.rows], dtype=float
                )
                out.append((data, y, h))
        return out

    def nll(self, theta: np.ndarray, solver: SolverSettings | None = None) -> float:
        """The negative log-likelihood at ``theta`` (log10 folds); inf when a simulation failed."""
        total = 0.0
        for data, y, h in self.simulate(np.asarray(theta, dtype=float), solver or SolverSettings()):
            if not np.all(np.isfinite(h)):
                return math.inf
            total += dataset_nll(data, y, h)
        return total

    def parameter_table(self, x: tuple[float, ...] | None) -> Any:
        import pandas as pd

        rows = []
        for k, p in enumerate(self.parameters):
            base = 1.0 if p.is_expression else self.model.parameters.get(p.id, math.nan)
            fold = float(10.0 ** x[k]) if x is not None else math.nan
            rows.append(
                {
                    "parameterId": p.id,
                    "model_value": base,
                    "fitted_fold": fold,
                    "fitted_value": base * fold,
                    "lower_fold": p.lower_fold,
                    "upper_fold": p.upper_fold,
                    "unit": "1 (x context)" if p.is_expression else _unit(self.model, p.id),
                }
            )
        return pd.DataFrame(rows).set_index("parameterId")

    def fit_table(self, x: tuple[float, ...], solver: SolverSettings) -> Any:
        import pandas as pd

        rows = []
        doses = {data.id: _dose_axis(scen, data) for _, scen in self.scenarios for data in scen.data}
        for data, y, h in self.simulate(np.asarray(x, dtype=float), solver):
            s = fitted_scale(data, y, h)
            sd = row_sd(data, y, h)
            species, dose = doses[data.id]
            for (arm, readout, t, *_), yi, hi, si in zip(data.rows, y, h, sd, strict=True):
                rows.append(
                    {
                        "dose_species": species,
                        "dose_nM": dose.get(arm, math.nan),
                        "observableId": f"{data.id}:{readout}",
                        "simulationConditionId": arm,
                        "time": t,
                        "measurement": yi,
                        "simulation": s * hi,
                        "noiseParameters": si,
                        "unit": data.unit,
                        "scale": s,
                    }
                )
        return pd.DataFrame(rows)


def _dose_axis(scen: Scenario, data: Dataset) -> tuple[str, dict[str, float]]:
    """The stimulus species whose concentration varies across a dataset's arms, and its nM per arm.

    ``("", {})`` unless exactly one species varies (a dose-response), so that a fit plot can draw
    the data against the dose instead of time.
    """
    arms = list(dict.fromkeys(r[0] for r in data.rows))
    stimuli = {a: {**scen.stimulus, **(scen.arm(a).stimulus or {})} for a in arms}
    species = {k for st in stimuli.values() for k in st}
    varying = [k for k in sorted(species) if len({st.get(k, 0.0) for st in stimuli.values()}) > 1]
    if len(varying) != 1:
        return "", {}
    return varying[0], {a: float(st.get(varying[0], 0.0)) for a, st in stimuli.items()}


def _rebuild(path: Path, sbml: str, name: str, mapping: Any, scenarios: Any, parameters: Any) -> DataProblem:
    from igfsim.model.sbml import load_model_string

    return DataProblem(path, load_model_string(sbml, name, mapping=mapping), scenarios, parameters)


def _unit(model: Model, pid: str) -> str:
    row = model.provenance.get(pid)
    return row.unit if row is not None else ""


class _Nll:
    """The objective function pyPESTO calls (a module-level class: it pickles into workers)."""

    def __init__(self, problem: DataProblem, solver: SolverSettings):
        self.problem = problem
        self.solver = solver

    def __call__(self, x: np.ndarray) -> float:
        try:
            return self.problem.nll(x, self.solver)
        except IgfsimError:  # a variant the scenario checks refuse, a simulation that raised
            return math.inf


def fitted_scale(data: Dataset, y: np.ndarray, h: np.ndarray) -> float:
    """The (weighted, with published SDs) least-squares scale ``s >= 0`` of ``y ~ s h`` (1 for absolute data)."""
    if data.scale == "absolute":
        return 1.0
    sd = data.sd
    w = 1.0 / sd**2 if sd is not None else np.ones_like(y)
    hh = float(np.sum(w * h * h))
    return max(0.0, float(np.sum(w * y * h)) / hh) if hh > 0 else 0.0


def fitted_sd(data: Dataset, y: np.ndarray, h: np.ndarray) -> float:
    """The maximum-likelihood noise SD of the dataset's residuals (floored, see ``_MIN_SD_FRACTION``)."""
    r = y - fitted_scale(data, y, h) * h
    rms_y = float(np.sqrt(np.mean(y**2))) or 1.0
    return max(float(np.sqrt(np.mean(r**2))), _MIN_SD_FRACTION * rms_y)


def row_sd(data: Dataset, y: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The SD of every row: the published one, else the dataset's maximum-likelihood SD."""
    sd = data.sd
    return sd if sd is not None else np.full(len(y), fitted_sd(data, y, h))


def dataset_nll(data: Dataset, y: np.ndarray, h: np.ndarray) -> float:
    """PEtab's normal negative log-likelihood of one dataset, scale (and SD) at their optimum."""
    s = fitted_scale(data, y, h)
    sd = row_sd(data, y, h)
    r = (y - s * h) / sd
    return float(0.5 * np.sum(np.log(2 * math.pi * sd**2) + r**2))


# ------------------------------------------------------------------------------------ loading


def data_files(items: list[str | Path]) -> list[Path]:
    """Scenario files named, with folders expanded to their ``*.yaml``."""
    files: list[Path] = []
    for item in map(Path, items):
        files += sorted([*item.glob("*.yaml"), *item.glob("*.yml")]) if item.is_dir() else [item]
    return files


def load_data_problem(path: str | Path) -> DataProblem:
    """Read a data-problem file (see the module docstring); :class:`CalibrationError` lists every problem."""
    from igfsim.calibrate.problem import read_mapping
    from igfsim.scenario.loading import load_scenario

    path = Path(path)
    spec = read_mapping(path, "a mapping with data and parameters")
    issues: list[Issue] = [
        Issue(k, "unknown key (expected data, model, parameters)")
        for k in spec
        if k not in ("data", "model", "parameters")
    ]
    base = path.parent
    try:
        model = load_model(base / spec["model"]) if spec.get("model") else load_model()
    except IgfsimError as err:
        raise CalibrationError(str(path), [Issue("model", str(err))]) from None
    items = spec.get("data")
    scenarios: list[tuple[str, Scenario]] = []
    if not isinstance(items, list) or not items:
        issues.append(Issue("data", "expected a list of scenario files or folders"))
    else:
        for f in data_files([base / str(i) for i in items]):
            try:
                scen = load_scenario(f)
            except (IgfsimError, OSError) as err:
                issues.append(Issue(f"data: {f}", str(err)))
                continue
            if scen.data:
                from igfsim.scenario.checks import check_scenario

                issues += [Issue(f"data: {f}: {i.where}", i.message) for i in check_scenario(scen, model)]
                scenarios.append((str(f), scen))
        if not scenarios and not issues:
            issues.append(Issue("data", "no scenario with a data: block was found there"))
    params, more = _parameters(spec.get("parameters"), model)
    issues += more
    if issues:
        raise CalibrationError(str(path), issues)
    return DataProblem(path=path, model=model, scenarios=tuple(scenarios), parameters=tuple(params))


def _parameters(raw: object, model: Model) -> tuple[list[FitParameter], list[Issue]]:
    params: list[FitParameter] = []
    issues: list[Issue] = []
    if not isinstance(raw, list) or not raw:
        return params, [Issue("parameters", "expected a list of {id, lower_fold, upper_fold}")]
    for k, item in enumerate(raw):
        where = f"parameters[{k}]"
        if not isinstance(item, dict) or "id" not in item:
            issues.append(Issue(where, "expected a mapping with id (and lower_fold, upper_fold)"))
            continue
        pid = str(item["id"])
        if pid.startswith("expression:"):
            key, keys = pid.split(":", 1)[1], model.mapping.expression
            if key not in keys:
                why = f"unknown expression key {key!r}{did_you_mean(key, keys)}"
                issues.append(Issue(f"{where}.id", why))
                continue
        elif pid not in model.parameters:
            why = f"unknown model parameter {pid!r}{did_you_mean(pid, model.parameters)}"
            issues.append(Issue(f"{where}.id", why))
            continue
        if not pid.startswith("expression:") and model.parameters[pid] == 0:
            issues.append(Issue(f"{where}.id", f"{pid} is 0 in the model: a multiplier of it changes nothing"))
            continue
        extra = set(item) - {"id", "lower_fold", "upper_fold"}
        if extra:
            issues.append(Issue(where, f"unknown key(s) {sorted(extra)} (expected id, lower_fold, upper_fold)"))
        try:
            lo, hi = float(item.get("lower_fold", 0.01)), float(item.get("upper_fold", 100.0))
            params.append(FitParameter(pid, lo, hi))
        except (TypeError, ValueError) as err:
            issues.append(Issue(where, str(err)))
    ids = [p.id for p in params]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        issues.append(Issue("parameters", f"given more than once: {dup}"))
    return params, issues


def scenario_from_table(
    table: Any,
    *,
    name: str,
    readout: str,
    stimulus: dict[str, float],
    citation: str,
    figure: str,
    digitised: str,
    conditions: str,
    unit: str,
    cell: dict[str, Any] | None = None,
    treatments: list[dict[str, Any]] | None = None,
    scale: str = "relative",
    noise_sd: float | None = None,
    max_points: int = 20_001,
) -> Scenario:
    """A data scenario from a measured time course (a CSV path or a DataFrame).

    The table needs columns ``time_min`` and ``value`` (one arm), or also ``arm`` (several arms; each
    gets the same stimulus, cell and treatments), and may give ``sd``, each measurement's SD. The
    output grid is the coarsest one on which every measured minute lies (to 0.001 min) and runs to
    the last measurement.
    """
    import pandas as pd

    from igfsim.scenario.loading import parse_scenario

    df = pd.read_csv(table) if isinstance(table, str | Path) else pd.DataFrame(table)
    missing = [c for c in ("time_min", "value") if c not in df.columns]
    if missing:
        raise ValueError(f"the table needs columns time_min and value (missing {missing}); it has {list(df.columns)}")
    if "arm" not in df.columns:
        df = df.assign(arm=name)
    millis = [int(round(float(t) * 1000)) for t in df["time_min"]]
    if min(millis) < 0:
        raise ValueError("time_min must be >= 0 (minutes after the stimulus)")
    step = math.gcd(*millis) if any(millis) else 1000
    duration = max(millis) / 1000 or 1.0
    points = int(round(max(millis) / step)) + 1 if any(millis) else 2
    if points > max_points:
        raise ValueError(f"the measured minutes need a grid of {points} points (step {step / 1000:g} min); round them")
    arms = [
        {"name": str(a), "stimulus": dict(stimulus), "treatments": list(treatments or [])}
        for a in dict.fromkeys(df["arm"])
    ]
    rows: list[list[Any]] = [
        [str(a), readout, float(t), float(v)] for a, t, v in zip(df["arm"], df["time_min"], df["value"], strict=True)
    ]
    if "sd" in df.columns:  # the published SD of every measurement
        rows = [[*r, float(sd)] for r, sd in zip(rows, df["sd"], strict=True)]
    doc = {
        "name": name,
        "title": f"{readout} measured in {conditions}",
        "simulation": {"duration_min": duration, "points": max(points, 2)},
        "cell": cell or {},
        "readouts": [readout],
        "arms": arms,
        "data": [
            {
                "id": name,
                "citation": citation,
                "figure": figure,
                "digitised": digitised,
                "conditions": conditions,
                "unit": unit,
                "scale": scale,
                **({"noise_sd": noise_sd} if noise_sd is not None else {}),
                "rows": rows,
            }
        ],
    }
    return parse_scenario(doc, source=f"<data {name}>")


def data_problem(
    scenarios: list[Scenario], parameters: list[FitParameter], model: Model | None = None, name: str = "data"
) -> DataProblem:
    """A data problem from parsed scenarios (checked against the model; :class:`CalibrationError` lists problems)."""
    from igfsim.scenario.checks import check_scenario

    model = model or load_model()
    issues = [Issue(f"{s.name}: {i.where}", i.message) for s in scenarios for i in check_scenario(s, model)]
    issues += [Issue(s.name, "no data: block") for s in scenarios if not s.data]
    ids = set(model.parameters)
    issues += [
        Issue(p.id, f"unknown model parameter{did_you_mean(p.id, ids)}")
        for p in parameters
        if not p.is_expression and p.id not in ids
    ]
    if issues:
        raise CalibrationError(f"<data problem {name}>", issues)
    return DataProblem(Path(f"{name}.yaml"), model, tuple((f"<{s.name}>", s) for s in scenarios), tuple(parameters))
