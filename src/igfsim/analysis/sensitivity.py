"""Global sensitivity (Morris, Sobol' via SALib) of scenario metrics, and robustness of expectations.

* :func:`morris` and :func:`sobol` take a SALib ``problem`` and a vectorised ``evaluate(X) -> y``
  (one row of ``X`` per model evaluation, columns in ``problem["names"]`` order). ``problem`` may give
  ``"dists"`` per input: SALib's (``unif``, ``triang``, ``norm``, ``truncnorm``, ``lognorm``) or
  ``"logunif"`` (log-uniform between the bounds: sampled uniformly in log10 and transformed back, so
  Morris elementary effects are taken on the log10 scale).
* :func:`scenario_metric_evaluator` builds ``evaluate`` for a metric of a scenario, with each column
  of ``X`` applied to a *target* (``parameter:<id>``, ``scale:<id>``, ``expression:<key>``,
  ``dose:<arm>/<drug>``, ``stimulus:<species>``; see :func:`apply_values`).
* :func:`expectation_robustness` runs a scenario over an uncertainty ensemble (e.g. from
  :func:`lognormal_ensemble`) and reports, per expectation, the percent of members in which it holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


def _load(scenario, model):
    from igfsim.model.sbml import Model, load_model
    from igfsim.scenario.loading import load_scenario
    from igfsim.scenario.schema import Scenario

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    m = model if isinstance(model, Model) else load_model(model)
    return sc, m


def _parse_target(target: str) -> tuple[str, str]:
    kind, sep, key = str(target).partition(":")
    if not sep or not key or kind not in ("parameter", "scale", "expression", "dose", "stimulus"):
        raise ValueError(
            f"unknown target {target!r}; use parameter:<id>, scale:<id>, expression:<key>, "
            "dose:<arm>/<drug> or stimulus:<species>"
        )
    return kind, key


def apply_values(scenario, targets: Sequence[str], values: Sequence[float], *, model=None):
    """A copy of ``scenario`` with each target set to its value.

    * ``parameter:<id>`` -- the model parameter's absolute value, in the scenario's ``cell.parameters``
      and in every arm cell that overrides the same id (so it wins over contexts and drug potencies).
    * ``scale:<id>`` -- a multiplier on the parameter's *effective* value in each arm (model value, then
      context, drug potency and cell settings); needs ``model``.
    * ``expression:<key>`` -- the expression multiplier of ``cell.expression`` (applied on top of the
      context's, as in a scenario file), also in arm cells that set the key.
    * ``dose:<arm>/<drug>`` -- ``dose_nM`` of that drug's treatment(s) in that arm (name or alias).
    * ``stimulus:<species>`` -- the scenario stimulus concentration, also in arm stimuli that give it.
    """
    from igfsim.scenario.checks import validate_scenario
    from igfsim.scenario.drugs import find_drug
    from igfsim.scenario.loading import parse_scenario
    from igfsim.scenario.translate import build_protocol

    if len(targets) != len(values):
        raise ValueError(f"{len(targets)} targets but {len(values)} values")
    d = scenario.model_dump(exclude_unset=True)
    arms = d["arms"]
    scales = []
    for target, value in zip(targets, values, strict=True):
        kind, key = _parse_target(target)
        value = float(value)
        if kind in ("parameter", "expression"):
            field = "parameters" if kind == "parameter" else "expression"
            d.setdefault("cell", {}).setdefault(field, {})[key] = value
            for arm in arms:
                cell = arm.get("cell")
                if cell and key in cell.get(field, {}):
                    cell[field][key] = value
        elif kind == "stimulus":
            d.setdefault("stimulus", {})[key] = value
            for arm in arms:
                if arm.get("stimulus") and key in arm["stimulus"]:
                    arm["stimulus"][key] = value
        elif kind == "dose":
            arm_name, sep, drug_name = key.partition("/")
            drug = find_drug(drug_name)
            arm = next((a for a in arms if a["name"] == arm_name), None)
            if not sep or drug is None or arm is None:
                raise ValueError(f"target {target!r}: need dose:<arm>/<drug> with an existing arm and a known drug")
            hits = [tr for tr in arm.get("treatments", []) if (find_drug(tr["drug"]) or drug).name == drug.name]
            if not hits:
                raise ValueError(f"target {target!r}: arm {arm_name!r} has no {drug.name} treatment")
            for tr in hits:
                tr["dose_nM"] = value
        else:
            scales.append((key, value))
    new = parse_scenario(d, f"<variant of {scenario.name}>")
    if not scales:
        return new
    if model is None:
        raise ValueError("scale:<id> targets need the model (for the effective parameter values)")
    validate_scenario(new, model, f"<variant of {scenario.name}>")
    for key, _ in scales:
        if key not in model.parameters:
            from igfsim.errors import did_you_mean

            raise ValueError(f"scale:{key}: no model parameter {key!r}{did_you_mean(key, model.parameters)}")
    d = new.model_dump(exclude_unset=True)
    for arm_obj, arm in zip(new.arms, d["arms"], strict=True):
        eff = build_protocol(model, new, arm_obj).overrides
        params = arm.setdefault("cell", {}).setdefault("parameters", {})
        for key, mult in scales:
            params[key] = float(eff.get(key, model.parameters[key])) * mult
    return parse_scenario(d, f"<variant of {scenario.name}>")


def _metric_value(result, arm: str, readout: str, metric_name: str, vs: str | None, compare: str) -> float:
    from igfsim.result.metrics import metric

    v = metric(result.times, result.get(arm, readout), metric_name)
    if vs is None:
        return v
    ref = metric(result.times, result.get(vs, readout), metric_name)
    if compare == "difference":
        return v - ref
    return v / ref if ref != 0 else math.nan


def _run_row(job: tuple) -> float:
    """One evaluation (module level so that process pools can pickle it)."""
    from igfsim.model.sbml import Model, load_model
    from igfsim.runner import run_scenario
    from igfsim.scenario.loading import parse_scenario

    sc_dict, model_ref, engine, targets, values, arm, vs, readout, metric_name, compare = job
    model = model_ref if isinstance(model_ref, Model) else load_model(model_ref)
    base = parse_scenario(sc_dict)
    variant = apply_values(base, targets, values, model=model)
    res = run_scenario(variant, model, engine=engine, on_error="record")
    if not res.ok:
        return math.nan
    return _metric_value(res, arm, readout, metric_name, vs, compare)


def _map(executor, fn, jobs):
    if executor is None or executor == "serial":
        return [fn(j) for j in jobs]
    if isinstance(executor, str):
        raise ValueError(f"executor must be None, 'serial' or a concurrent.futures.Executor, not {executor!r}")
    return list(executor.map(fn, jobs))


def scenario_metric_evaluator(
    scenario,
    *,
    arm: str,
    readout: str,
    metric: str,
    targets: list[str],
    vs: str | None = None,
    compare: str = "ratio",
    executor=None,
    model=None,
    engine: str = "roadrunner",
) -> Callable[[np.ndarray], np.ndarray]:
    """A vectorised ``evaluate(X) -> y`` for :func:`morris`/:func:`sobol`: row ``i`` of ``X`` sets
    ``targets`` (see :func:`apply_values`) and ``y[i]`` is ``metric`` of ``readout`` in ``arm`` -- divided by
    (``compare="ratio"``) or minus (``"difference"``) the same in arm ``vs`` when given.

    Only the arms needed are simulated (expectations are dropped). A failed run gives NaN. ``executor``
    is None/"serial" or a ``concurrent.futures.Executor`` (a process pool needs a model loaded from a
    file). This runs the variants itself (serially by default); it can be switched to
    ``igfsim.sweep.run_sweep`` once that accepts explicit design rows.
    """
    from igfsim.model.sbml import Model
    from igfsim.result.metrics import metric as _metric_fn
    from igfsim.scenario.checks import validate_scenario
    from igfsim.scenario.loading import parse_scenario

    sc, m = _load(scenario, model)
    names = [a.name for a in sc.arms]
    for a in (arm, vs):
        if a is not None and a not in names:
            raise ValueError(f"no arm named {a!r} in {sc.name}; arms are: {', '.join(names)}")
    if compare not in ("ratio", "difference"):
        raise ValueError("compare must be 'ratio' or 'difference'")
    for t in targets:
        _parse_target(t)
    _metric_fn(np.array([0.0, sc.simulation.duration_min]), np.array([1.0, 1.0]), metric)  # validate the name
    keep = [a for a in names if a in (arm, vs)]
    d = sc.model_dump(exclude_unset=True)
    d["arms"] = [a for a in d["arms"] if a["name"] in keep]
    d["expect"] = []
    d["readouts"] = [readout]
    trimmed = parse_scenario(d, f"<{sc.name}: arms {', '.join(keep)}>")
    probe = apply_values(trimmed, list(targets), [_probe(t, trimmed, m) for t in targets], model=m)
    validate_scenario(probe, m, f"<{sc.name} with {', '.join(targets)}>")  # fail early on unknown ids
    sc_dict = trimmed.model_dump(exclude_unset=True)
    model_ref: Model | str = m if executor is None or executor == "serial" else m.path
    if model_ref == m.path and not Path(str(m.path)).is_file():
        raise ValueError("a parallel executor needs a model loaded from a file")
    targets = list(targets)

    def evaluate(x) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if x.shape[1] != len(targets):
            raise ValueError(f"X has {x.shape[1]} columns for {len(targets)} targets")
        jobs = [(sc_dict, model_ref, engine, targets, tuple(row), arm, vs, readout, metric, compare) for row in x]
        return np.asarray(_map(executor, _run_row, jobs), dtype=float)

    evaluate.targets = targets  # type: ignore[attr-defined]
    return evaluate


def _probe(target: str, sc, model) -> float:
    """A harmless value for validating a target up front: the current value (or 1 for multipliers)."""
    kind, key = _parse_target(target)
    if kind == "scale":
        return 1.0
    if kind == "parameter":
        return float(sc.cell.parameters.get(key, model.parameters.get(key, 1.0)))
    if kind == "expression":
        return float(sc.cell.expression.get(key, 1.0))
    if kind == "stimulus":
        return float(sc.stimulus.get(key, 0.0))
    arm_name, _, drug = key.partition("/")
    arm = next((a for a in sc.arms if a.name == arm_name), None)
    if arm is None:
        raise ValueError(f"target {target!r}: no arm {arm_name!r} among those simulated")
    return float(next((t.dose_nM for t in arm.treatments), 0.0))


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

    table: object
    holds: object
    observed: object
    failed: tuple[int, ...]


def _member_targets(member: dict, mode: str) -> tuple[list[str], list[float]]:
    targets, values = [], []
    for key, v in member.items():
        targets.append(key if ":" in key else (f"scale:{key}" if mode == "multiplier" else f"parameter:{key}"))
        values.append(float(v))
    return targets, values


def _robust_row(job: tuple):
    from igfsim.analysis.expectations import check_expectations
    from igfsim.model.sbml import Model, load_model
    from igfsim.runner import run_scenario
    from igfsim.scenario.loading import parse_scenario

    sc_dict, model_ref, engine, targets, values = job
    model = model_ref if isinstance(model_ref, Model) else load_model(model_ref)
    variant = apply_values(parse_scenario(sc_dict), targets, values, model=model)
    res = run_scenario(variant, model, engine=engine, on_error="record")
    if not res.ok:
        return None
    return [(o.verdict, float(o.observed)) for o in check_expectations(res, variant)]


def expectation_robustness(
    scenario, members: list[dict], *, mode: str = "multiplier", model=None, engine: str = "roadrunner", executor=None
) -> Robustness:
    """Run ``scenario`` once per ensemble member and report, per expectation, the percent of members in
    which it holds.

    Each member is a dict ``{parameter_id: multiplier}`` (``mode="multiplier"``: scales each arm's
    effective value, see ``scale:`` in :func:`apply_values`) or ``{parameter_id: value}``
    (``mode="value"``); keys containing ``:`` are used as targets verbatim (e.g. ``expression:IRS``).
    An expectation *holds* when its claim is true (verdict ``pass``, or ``xpass`` for a known failure);
    ``n/a`` verdicts and members whose simulation failed are not counted (``n_evaluated``).
    """
    import pandas as pd

    from igfsim.analysis.expectations import check_expectations, describe
    from igfsim.runner import run_scenario

    if mode not in ("multiplier", "value"):
        raise ValueError("mode must be 'multiplier' or 'value'")
    sc, m = _load(scenario, model)
    nominal = check_expectations(run_scenario(sc, m, engine=engine), sc)
    sc_dict = sc.model_dump(exclude_unset=True)
    model_ref = m if executor is None or executor == "serial" else m.path
    jobs = [(sc_dict, model_ref, engine, *_member_targets(mem, mode)) for mem in members]
    rows = _map(executor, _robust_row, jobs)
    n_exp = len(sc.expect)
    holds = np.full((len(members), n_exp), np.nan)
    observed = np.full((len(members), n_exp), np.nan)
    failed = []
    for i, row in enumerate(rows):
        if row is None:
            failed.append(i)
            continue
        for j, (verdict, obs) in enumerate(row):
            observed[i, j] = obs
            if verdict != "n/a":
                holds[i, j] = 1.0 if verdict in ("pass", "xpass") else 0.0
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
                "n_members": len(members),
                "n_evaluated": int(ok.sum()),
                "n_holds": int(np.nansum(h)),
                "percent_holds": float(100.0 * np.nanmean(h)) if ok.any() else math.nan,
                "observed_median": float(q[0]),
                "observed_p05": float(q[1]),
                "observed_p95": float(q[2]),
            }
        )
    cols = [f"e{j}" for j in range(n_exp)]
    return Robustness(
        table=pd.DataFrame(table).set_index("index"),
        holds=pd.DataFrame(holds, columns=cols).rename_axis("member"),
        observed=pd.DataFrame(observed, columns=cols).rename_axis("member"),
        failed=tuple(failed),
    )
