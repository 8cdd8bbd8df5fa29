"""Global sensitivity (Morris, Sobol' via SALib) of scenario metrics.

* :func:`morris` and :func:`sobol` take a SALib ``problem`` and a vectorised ``evaluate(X) -> y``
  (one row of ``X`` per model evaluation, columns in ``problem["names"]`` order). ``problem`` may give
  ``"dists"`` per input: SALib's (``unif``, ``triang``, ``norm``, ``truncnorm``, ``lognorm``) or
  ``"logunif"`` (log-uniform between the bounds: sampled uniformly in log10 and transformed back, so
  Morris elementary effects are taken on the log10 scale).
* :func:`scenario_metric_evaluator` builds ``evaluate`` for a metric of a scenario, with each column
  of ``X`` applied to a *target* (``parameter:<id>``, ``scale:<id>``, ``expression:<key>``,
  ``initial:<species>``, ``dose:<arm>/<drug>`` or ``dose:*/<drug>``, ``stimulus:<species>``; the
  grammar and how values reach the arms: :mod:`igfsim.scenario.targets`).

The evaluator runs its scenario variants as sweeps of explicit design rows
(:mod:`igfsim.analysis.variants`, :func:`igfsim.sweep.run_sweep` with design ``points``): the same
executors, per-run failure records, batching and progress bar. Robustness of expectations over
uncertainty ensembles (:func:`lognormal_ensemble`, :func:`expectation_robustness`,
:class:`Robustness`) lives in :mod:`igfsim.analysis.robustness`, and :func:`apply_values` in
:mod:`igfsim.analysis.variants`; both are importable from here too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from igfsim.analysis.robustness import Robustness, expectation_robustness, lognormal_ensemble
from igfsim.analysis.variants import PointRuns, apply_values, load_inputs, sweep_executor
from igfsim.model.sbml import Model
from igfsim.result.metrics import metric as metric_value
from igfsim.result.scenario_result import RunStatus
from igfsim.scenario.loading import parse_scenario
from igfsim.scenario.schema import Scenario
from igfsim.scenario.targets import parse_target
from igfsim.sweep import SweepResult
from igfsim.sweep.spec import TARGET_KINDS

__all__ = [
    "MetricEvaluator",
    "Robustness",
    "apply_values",
    "expectation_robustness",
    "lognormal_ensemble",
    "morris",
    "scenario_metric_evaluator",
    "sobol",
]

_LOG_DISTS = ("logunif", "loguniform", "log10unif")


# ------------------------------------------------------------------------------- SALib wrappers


def _prepare(problem: dict) -> tuple[dict, Callable[[np.ndarray], np.ndarray]]:
    """SALib problem in sampling space, plus the map from sampling space to model inputs."""
    names = list(problem["names"])
    bounds = [list(map(float, b)) for b in problem["bounds"]]
    if len(bounds) != len(names):
        raise ValueError(f"problem has {len(names)} names but {len(bounds)} bounds")
    dists = list(problem.get("dists") or ["unif"] * len(names))
    if len(dists) != len(names):
        raise ValueError(f"problem has {len(names)} names but {len(dists)} dists")
    log_cols = [i for i, d in enumerate(dists) if d in _LOG_DISTS]
    for i in log_cols:
        lo, hi = bounds[i]
        if not 0 < lo < hi:
            raise ValueError(f"log-uniform input {names[i]!r} needs 0 < low < high, got {bounds[i]}")
        bounds[i] = [math.log10(lo), math.log10(hi)]
        dists[i] = "unif"
    sp = {"num_vars": len(names), "names": names, "bounds": bounds}
    if any(d != "unif" for d in dists):
        sp["dists"] = dists
    if "groups" in problem:
        sp["groups"] = list(problem["groups"])

    def to_model(x: np.ndarray) -> np.ndarray:
        out = np.array(x, dtype=float, copy=True)
        if log_cols:
            out[:, log_cols] = 10.0 ** out[:, log_cols]
        return out

    return sp, to_model


def _evaluate(evaluate, x: np.ndarray) -> np.ndarray:
    y = np.asarray(evaluate(x), dtype=float)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"evaluate returned {y.shape[0]} values for {x.shape[0]} input rows")
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(
            f"evaluate returned {int(bad.sum())} non-finite value(s) out of {y.size} (failed runs?); "
            "SALib estimators need every evaluation: narrow the bounds or fix the failing runs"
        )
    return y


def _columns(y: np.ndarray, outputs):
    if y.ndim == 1:
        return [(None, y)]
    names = list(outputs) if outputs is not None else [f"y{i}" for i in range(y.shape[1])]
    if len(names) != y.shape[1]:
        raise ValueError(f"{len(names)} output names for {y.shape[1]} outputs")
    return [(n, y[:, i]) for i, n in enumerate(names)]


def _frame(rows: list[tuple], names: list[str], columns: list[str], outputs_used: bool, attrs: dict):
    import pandas as pd

    index: pd.Index
    if outputs_used:
        index = pd.MultiIndex.from_tuples([(o, n) for o, _ in rows for n in names], names=["output", "parameter"])
        data = np.concatenate([np.column_stack([r[c] for c in columns]) for _, r in rows])
    else:
        index = pd.Index(names, name="parameter")
        data = np.column_stack([rows[0][1][c] for c in columns])
    df = pd.DataFrame(data, index=index, columns=columns)
    df.attrs.update(attrs)
    return df


def morris(
    evaluate: Callable[[np.ndarray], np.ndarray],
    problem: dict,
    *,
    n_trajectories: int,
    seed: int,
    num_levels: int = 4,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    outputs=None,
):
    """Morris elementary-effects screening (Morris 1991; mu* of Campolongo et al. 2007).

    Runs ``n_trajectories * (k + 1)`` evaluations. Returns a ``pandas.DataFrame`` indexed by parameter
    (or by ``(output, parameter)`` when ``evaluate`` returns several columns, named by ``outputs``) with
    ``mu``, ``mu_star``, ``sigma`` and ``mu_star_conf`` (half-width of the bootstrap interval);
    ``attrs`` hold the method, seed and number of evaluations. Same ``seed`` -> same table.
    As in SALib, an elementary effect is the output change per *full range* of the input (the step is a
    fraction of the unit hypercube), in sampling space: for ``logunif`` per the whole log10 span."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    sp, to_model = _prepare(problem)
    if any(d != "unif" for d in sp.get("dists", [])):
        raise ValueError("Morris needs uniform or log-uniform inputs")
    x = morris_sample.sample(sp, N=int(n_trajectories), num_levels=num_levels, seed=seed)
    y = _evaluate(evaluate, to_model(x))
    rows = []
    for out, col in _columns(y, outputs):
        res = morris_analyze.analyze(
            sp, x, col, num_resamples=num_resamples, conf_level=conf_level, num_levels=num_levels, seed=seed
        )
        rows.append((out, {k: np.asarray(res[k], dtype=float) for k in ("mu", "mu_star", "sigma", "mu_star_conf")}))
    return _frame(
        rows,
        sp["names"],
        ["mu", "mu_star", "sigma", "mu_star_conf"],
        y.ndim == 2,
        {
            "method": "morris",
            "seed": seed,
            "n_evaluations": int(x.shape[0]),
            "num_levels": num_levels,
            "conf_level": conf_level,
        },
    )


def sobol(
    evaluate: Callable[[np.ndarray], np.ndarray],
    problem: dict,
    *,
    n_base: int,
    seed: int,
    second_order: bool = False,
    conf_level: float = 0.95,
    num_resamples: int = 100,
    outputs=None,
):
    """Sobol' variance-based indices with Saltelli sampling (Sobol' 2001; Saltelli 2002/2010).

    ``n_base`` (a power of 2) base samples give ``n_base * (k + 2)`` evaluations (``(2k + 2)`` with
    ``second_order``). Returns a ``pandas.DataFrame`` (indexed like :func:`morris`) with ``S1``,
    ``S1_conf``, ``ST``, ``ST_conf`` (bootstrap half-widths); with ``second_order`` the DataFrames
    ``attrs["S2"]`` and ``attrs["S2_conf"]`` (single output) hold the pairwise indices. Same ``seed`` ->
    same table."""
    import pandas as pd
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    n_base = int(n_base)
    if n_base < 2 or n_base & (n_base - 1):
        raise ValueError(f"n_base must be a power of 2 (balance of the Sobol' sequence), not {n_base}")
    sp, to_model = _prepare(problem)
    x = sobol_sample.sample(sp, N=n_base, calc_second_order=second_order, scramble=True, seed=seed)
    y = _evaluate(evaluate, to_model(x))
    rows, s2 = [], None
    for out, col in _columns(y, outputs):
        res = sobol_analyze.analyze(
            sp, col, calc_second_order=second_order, num_resamples=num_resamples, conf_level=conf_level, seed=seed
        )
        rows.append((out, {k: np.asarray(res[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}))
        if second_order and s2 is None:
            s2 = (
                pd.DataFrame(res["S2"], index=sp["names"], columns=sp["names"]),
                pd.DataFrame(res["S2_conf"], index=sp["names"], columns=sp["names"]),
            )
    attrs = {
        "method": "sobol",
        "seed": seed,
        "n_evaluations": int(x.shape[0]),
        "n_base": n_base,
        "conf_level": conf_level,
    }
    if s2 is not None and y.ndim == 1:
        attrs.update(S2=s2[0], S2_conf=s2[1])
    return _frame(rows, sp["names"], ["S1", "S1_conf", "ST", "ST_conf"], y.ndim == 2, attrs)


# ------------------------------------------------------------------- scenario metric evaluator


@dataclass(frozen=True, eq=False)
class MetricEvaluator:
    """``evaluate(X) -> y`` made by :func:`scenario_metric_evaluator`; ``targets`` in column order."""

    scenario: Scenario
    targets: list[str]
    arm: str
    vs: str | None
    readout: str
    metric: str
    compare: str
    runs: PointRuns

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if x.shape[1] != len(self.targets):
            raise ValueError(f"X has {x.shape[1]} columns for {len(self.targets)} targets")
        if x.shape[0] == 0:
            return np.zeros(0)
        if not self.targets:  # nothing varies: one run stands for every row
            return np.repeat(self._values(self.runs.run(self.runs.sweep(self.scenario, [], x, [self.metric]))), len(x))
        y = np.full(len(x), np.nan)  # a row the sweep cannot run (NaN, a negative dose, ...) gives NaN
        ok = self.runs.valid_rows(self.targets, x)
        if ok.any():
            y[ok] = self._values(self.runs.run(self.runs.sweep(self.scenario, self.targets, x[ok], [self.metric])))
        return y

    def _values(self, res: SweepResult) -> np.ndarray:
        """``y`` per run of ``res`` (NaN for a failed run)."""
        summary = res.dataset["summary"].sel(readout=self.readout, metric=self.metric)
        ok = np.array([s == RunStatus.OK for s in res.status])
        v = np.where(ok, summary.sel(arm=self.arm).values, np.nan)  # a failed run gives NaN
        if self.vs is None:
            return v
        ref = summary.sel(arm=self.vs).values
        if self.compare == "difference":
            return v - ref
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(ref != 0, v / ref, np.nan)


def scenario_metric_evaluator(
    scenario: Scenario | str | Path,
    *,
    arm: str,
    readout: str,
    metric: str,
    targets: list[str],
    vs: str | None = None,
    compare: str = "ratio",
    executor: object = None,
    model: Model | str | Path | None = None,
    engine: str = "roadrunner",
    n_workers: int | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> MetricEvaluator:
    """A vectorised ``evaluate(X) -> y`` for :func:`morris`/:func:`sobol`: row ``i`` of ``X`` sets
    ``targets`` (see :func:`igfsim.scenario.targets.apply_targets`) and ``y[i]`` is ``metric`` of
    ``readout`` in ``arm`` -- divided by (``compare="ratio"``) or minus (``"difference"``) the same in
    arm ``vs`` when given.

    Each call runs the rows as one :func:`igfsim.sweep.run_sweep` of design ``points`` (only the arms
    needed, no expectations), so a failed run is recorded and gives NaN. ``executor``: None or
    ``"serial"`` (in-process, the default), any ``concurrent.futures.Executor`` (the model's SBML goes
    with the tasks) or a ``distributed.Client``; ``n_workers``, ``batch_size`` and ``progress`` are
    passed on. Targets, scenario and metric are checked here (ScenarioError, ValueError).
    """
    sc, m = load_inputs(scenario, model)
    names = [a.name for a in sc.arms]
    for a in (arm, vs):
        if a is not None and a not in names:
            raise ValueError(f"no arm named {a!r} in {sc.name}; arms are: {', '.join(names)}")
    if compare not in ("ratio", "difference"):
        raise ValueError("compare must be 'ratio' or 'difference'")
    for t in targets:
        parse_target(t, TARGET_KINDS)
    metric_value(np.array([0.0, sc.simulation.duration_min]), np.array([1.0, 1.0]), metric)  # validate the name
    runs = PointRuns(m, engine, sweep_executor(executor), n_workers, batch_size, progress)
    keep = [a for a in names if a in (arm, vs)]
    d = sc.model_dump(exclude_unset=True)
    d["arms"] = [a for a in d["arms"] if a["name"] in keep]
    d["expect"] = []
    d["readouts"] = [readout]
    trimmed = parse_scenario(d, f"<{sc.name}: arms {', '.join(keep)}>")
    runs.check(trimmed, targets, [metric])  # fail early on unknown ids
    return MetricEvaluator(trimmed, list(targets), arm, vs, readout, metric, compare, runs)
