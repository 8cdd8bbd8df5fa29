"""Global sensitivity (Morris, Sobol' via SALib) of scenario metrics, and robustness of expectations.

* :func:`morris` and :func:`sobol` take a SALib ``problem`` and a vectorised ``evaluate(X) -> y``
  (one row of ``X`` per model evaluation, columns in ``problem["names"]`` order). ``problem`` may give
  ``"dists"`` per input: SALib's (``unif``, ``triang``, ``norm``, ``truncnorm``, ``lognorm``) or
  ``"logunif"`` (log-uniform between the bounds: sampled uniformly in log10 and transformed back, so
  Morris elementary effects are taken on the log10 scale).
* :func:`scenario_metric_evaluator` builds ``evaluate`` for a metric of a scenario, with each column
  of ``X`` applied to a *target* (``parameter:<id>``, ``scale:<id>``, ``expression:<key>``,
  ``initial:<species>``, ``dose:<arm>/<drug>`` or ``dose:*/<drug>``, ``stimulus:<species>``; the
  grammar and how values reach the arms: :mod:`igfsim.scenario.targets`).
* :func:`expectation_robustness` runs a scenario over an uncertainty ensemble (e.g. from
  :func:`lognormal_ensemble`) and reports, per expectation, the percent of members in which it holds.

Both run their scenario variants as sweeps of explicit design rows (:func:`igfsim.sweep.run_sweep`,
design ``points``): the same executors, per-run failure records, batching and progress bar.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from igfsim.analysis.expectations import ExpectationOutcome, Verdict, check_expectations, describe
from igfsim.errors import ScenarioError
from igfsim.model.sbml import Model, load_model
from igfsim.result.metrics import metric as metric_value
from igfsim.result.scenario_result import RunStatus
from igfsim.runner import run_scenario
from igfsim.scenario.checks import validate_scenario
from igfsim.scenario.loading import load_scenario, parse_scenario
from igfsim.scenario.schema import Scenario
from igfsim.scenario.targets import apply_targets, parse_target
from igfsim.sweep import Axis, Sweep, SweepResult, check_sweep, run_sweep
from igfsim.sweep.spec import TARGET_KINDS

if TYPE_CHECKING:
    import pandas as pd

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


# ------------------------------------------------------------------------- scenario variants


def _load(scenario: Scenario | str | Path, model: Model | str | Path | None) -> tuple[Scenario, Model]:
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    m = model if isinstance(model, Model) else load_model(model)
    return sc, m


def apply_values(
    scenario: Scenario, targets: Sequence[str], values: Sequence[float], *, model: Model | None = None
) -> Scenario:
    """A copy of ``scenario`` with each target set to its value.

    The one applier of targets, :func:`igfsim.scenario.targets.apply_targets` (sweeps use it too),
    under its former name here: ``parameter:``/``expression:``/``initial:`` go into the scenario's cell
    and every arm cell (so they win over arms), ``stimulus:`` into the scenario's medium and the arm
    media that list the species, ``dose:<arm>/<drug>`` (or ``dose:*/<drug>``) into that drug's
    treatments, and ``scale:<id>`` multiplies each arm's effective value (needs ``model``).
    """
    return apply_targets(scenario, list(targets), list(values), model=model)


def _sweep_executor(executor: object) -> object:
    """The adapters run in-process by default (None = "serial"); an Executor or a Dask client goes to
    :func:`igfsim.sweep.run_sweep` as given."""
    if executor is None:
        return "serial"
    if isinstance(executor, str) and executor != "serial":
        raise ValueError(
            f"executor must be None, 'serial', a concurrent.futures.Executor or a distributed.Client, not {executor!r}"
        )
    return executor


@dataclass(frozen=True)
class _PointRuns:
    """Runs explicit design rows of a scenario through :func:`igfsim.sweep.run_sweep` (design ``points``)."""

    model: Model
    engine: str
    executor: object
    n_workers: int | None
    batch_size: int | None
    progress: bool

    def sweep(
        self, scenario: Scenario, targets: Sequence[str], x: np.ndarray, metrics: list[str], keep: bool = False
    ) -> Sweep:
        """Row ``i`` of ``x`` sets ``targets`` in run ``i`` (no targets: one run of the scenario)."""
        axes = [Axis(name=f"x{j}", target=t, values=x[:, j].tolist()) for j, t in enumerate(targets)]
        return Sweep(
            scenario=scenario, axes=axes, design="points", metrics=metrics, keep_trajectories=keep, engine=self.engine
        )

    def check(self, scenario: Scenario, targets: Sequence[str], metrics: list[str]) -> None:
        """ScenarioError naming every problem of the targets (checked with value 1) and the scenario."""
        where = f"<{scenario.name} with {', '.join(targets)}>"
        validate_scenario(scenario, self.model, where)
        probe = self.sweep(scenario, targets, np.ones((1, len(targets))), metrics)
        if issues := check_sweep(probe, self.model):
            raise ScenarioError(where, issues)

    def run(self, sweep: Sweep) -> SweepResult:
        return run_sweep(
            sweep,
            executor=self.executor,
            n_workers=self.n_workers,
            batch_size=self.batch_size,
            progress=self.progress,
            model=self.model,
        )


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
    runs: _PointRuns

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if x.shape[1] != len(self.targets):
            raise ValueError(f"X has {x.shape[1]} columns for {len(self.targets)} targets")
        if x.shape[0] == 0:
            return np.zeros(0)
        if not self.targets:  # nothing varies: one run stands for every row
            return np.repeat(self._values(self.runs.run(self.runs.sweep(self.scenario, [], x, [self.metric]))), len(x))
        return self._values(self.runs.run(self.runs.sweep(self.scenario, self.targets, x, [self.metric])))

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
    sc, m = _load(scenario, model)
    names = [a.name for a in sc.arms]
    for a in (arm, vs):
        if a is not None and a not in names:
            raise ValueError(f"no arm named {a!r} in {sc.name}; arms are: {', '.join(names)}")
    if compare not in ("ratio", "difference"):
        raise ValueError("compare must be 'ratio' or 'difference'")
    for t in targets:
        parse_target(t, TARGET_KINDS)
    metric_value(np.array([0.0, sc.simulation.duration_min]), np.array([1.0, 1.0]), metric)  # validate the name
    runs = _PointRuns(m, engine, _sweep_executor(executor), n_workers, batch_size, progress)
    keep = [a for a in names if a in (arm, vs)]
    d = sc.model_dump(exclude_unset=True)
    d["arms"] = [a for a in d["arms"] if a["name"] in keep]
    d["expect"] = []
    d["readouts"] = [readout]
    trimmed = parse_scenario(d, f"<{sc.name}: arms {', '.join(keep)}>")
    runs.check(trimmed, targets, [metric])  # fail early on unknown ids
    return MetricEvaluator(trimmed, list(targets), arm, vs, readout, metric, compare, runs)


# ----------------------------------------------------------------------- uncertainty ensembles


def lognormal_ensemble(
    model, parameter_ids: Sequence[str], sigma: float | dict, n: int, seed: int, *, kind: str = "multiplier"
) -> list[dict[str, float]]:
    """``n`` members, each ``{parameter_id: factor}`` with ``ln(factor) ~ Normal(0, sigma)`` (median 1;
    ``sigma`` may be a dict per parameter; sigma = 0.5 spans about x0.38..x2.7 at 95 %).

    ``kind="value"`` returns ``model.parameters[id] * factor`` instead (absolute values around the model's
    defaults; context- or scenario-level overrides are then replaced). ``model`` may be None for
    multipliers (no id check). Same ``seed`` -> same members."""
    from igfsim.errors import did_you_mean

    if kind not in ("multiplier", "value"):
        raise ValueError("kind must be 'multiplier' or 'value'")
    ids = list(parameter_ids)
    if model is not None:
        for pid in ids:
            if pid not in model.parameters:
                raise ValueError(f"no model parameter {pid!r}{did_you_mean(pid, model.parameters)}")
    elif kind == "value":
        raise ValueError("kind='value' needs the model")
    sig = np.array([float(sigma[p]) if isinstance(sigma, dict) else float(sigma) for p in ids])
    if np.any(sig < 0):
        raise ValueError("sigma must be >= 0")
    rng = np.random.default_rng(seed)
    factors = np.exp(rng.standard_normal((int(n), len(ids))) * sig)
    if kind == "value":
        base = np.array([float(model.parameters[p]) for p in ids])
        factors = factors * base
    return [{p: float(v) for p, v in zip(ids, row, strict=True)} for row in factors]


@dataclass(frozen=True)
class Robustness:
    """What :func:`expectation_robustness` found.

    ``table``: one row per expectation (``index``) with ``expectation`` (text), ``nominal`` (verdict of
    the unperturbed scenario), ``n_members``, ``n_evaluated``, ``n_holds``, ``percent_holds`` and the
    median / 5th / 95th percentile of the observed value. ``holds`` and ``observed``: member x
    expectation (True/False/NaN where not evaluated). ``failed``: members whose simulation failed.
    """

    table: pd.DataFrame
    holds: pd.DataFrame
    observed: pd.DataFrame
    failed: tuple[int, ...]


def _member_targets(member: Mapping[str, float], mode: str) -> tuple[list[str], list[float]]:
    targets, values = [], []
    for key, v in member.items():
        targets.append(key if ":" in key else (f"scale:{key}" if mode == "multiplier" else f"parameter:{key}"))
        values.append(float(v))
    return targets, values


def _member_outcomes(
    sc: Scenario, members: Sequence[Mapping[str, float]], mode: str, runs: _PointRuns
) -> list[list[ExpectationOutcome] | None]:
    """Per member, the outcome of every expectation (None: the member's run failed).

    Members that set the same targets run as one sweep (design ``points``) that keeps the
    trajectories; each run's expectations are then checked on that run's result. Only the readouts
    the expectations read are recorded.
    """
    groups: dict[tuple[str, ...], list[int]] = {}
    rows: list[list[float]] = []
    for i, member in enumerate(members):
        member_targets, values = _member_targets(member, mode)
        groups.setdefault(tuple(member_targets), []).append(i)
        rows.append(values)
    readouts = list(dict.fromkeys(e.readout for e in sc.expect))
    scenario = sc.model_copy(update={"readouts": readouts}) if readouts else sc
    out: list[list[ExpectationOutcome] | None] = [None] * len(members)
    for targets, idx in groups.items():
        x = np.array([rows[i] for i in idx], dtype=float).reshape(len(idx), len(targets))
        res = runs.run(runs.sweep(scenario, targets, x, ["final"], keep=True))
        for k, i in enumerate(idx):
            run = k if targets else 0  # without targets the sweep is one run of the scenario
            if res.status[run] == RunStatus.OK:
                out[i] = check_expectations(res.run_result(run), sc)
    return out


def _verdict_arrays(
    outcomes: list[list[ExpectationOutcome] | None], n_exp: int
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(holds, observed, failed members): member x expectation, NaN where not evaluated."""
    holds = np.full((len(outcomes), n_exp), np.nan)
    observed = np.full((len(outcomes), n_exp), np.nan)
    failed = []
    for i, row in enumerate(outcomes):
        if row is None:
            failed.append(i)
            continue
        for j, o in enumerate(row):
            observed[i, j] = float(o.observed)
            if o.verdict is not Verdict.NOT_EXPRESSIBLE:
                holds[i, j] = 1.0 if o.verdict.holds else 0.0
    return holds, observed, failed


def _robustness_table(
    sc: Scenario, nominal: list[ExpectationOutcome], holds: np.ndarray, observed: np.ndarray
) -> pd.DataFrame:
    import pandas as pd

    table = []
    for j, e in enumerate(sc.expect):
        h = holds[:, j]
        ok = ~np.isnan(h)
        obs = observed[ok, j]
        obs = obs[np.isfinite(obs)]
        q = np.percentile(obs, [50, 5, 95]) if obs.size else [math.nan] * 3
        table.append(
            {
                "index": j,
                "expectation": describe(e),
                "nominal": nominal[j].verdict,
                "n_members": holds.shape[0],
                "n_evaluated": int(ok.sum()),
                "n_holds": int(np.nansum(h)),
                "percent_holds": float(100.0 * np.nanmean(h)) if ok.any() else math.nan,
                "observed_median": float(q[0]),
                "observed_p05": float(q[1]),
                "observed_p95": float(q[2]),
            }
        )
    return pd.DataFrame(table).set_index("index")


def expectation_robustness(
    scenario: Scenario | str | Path,
    members: Sequence[Mapping[str, float]],
    *,
    mode: str = "multiplier",
    model: Model | str | Path | None = None,
    engine: str = "roadrunner",
    executor: object = None,
    n_workers: int | None = None,
    batch_size: int | None = None,
    progress: bool = False,
) -> Robustness:
    """Run ``scenario`` once per ensemble member and report, per expectation, the percent of members in
    which it holds.

    Each member is a dict ``{parameter_id: multiplier}`` (``mode="multiplier"``: scales each arm's
    effective value, see ``scale:`` in :func:`igfsim.scenario.targets.apply_targets`) or
    ``{parameter_id: value}`` (``mode="value"``); keys containing ``:`` are used as targets verbatim
    (e.g. ``expression:IRS``). An expectation *holds* when its claim is true (verdict ``pass``, or
    ``xpass`` for a known failure); ``n/a`` verdicts and members whose simulation failed are not
    counted (``n_evaluated``). The members run through :func:`igfsim.sweep.run_sweep` (design
    ``points``, trajectories kept, expectations checked on each run's result); ``executor``,
    ``n_workers``, ``batch_size`` and ``progress`` as in :func:`scenario_metric_evaluator`.
    """
    import pandas as pd

    if mode not in ("multiplier", "value"):
        raise ValueError("mode must be 'multiplier' or 'value'")
    sc, m = _load(scenario, model)
    runs = _PointRuns(m, engine, _sweep_executor(executor), n_workers, batch_size, progress)
    nominal = check_expectations(run_scenario(sc, m, engine=engine), sc)
    holds, observed, failed = _verdict_arrays(_member_outcomes(sc, members, mode, runs), len(sc.expect))
    cols = [f"e{j}" for j in range(len(sc.expect))]
    return Robustness(
        table=_robustness_table(sc, nominal, holds, observed),
        holds=pd.DataFrame(holds, columns=cols).rename_axis("member"),
        observed=pd.DataFrame(observed, columns=cols).rename_axis("member"),
        failed=tuple(failed),
    )
