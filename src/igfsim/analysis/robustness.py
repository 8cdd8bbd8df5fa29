"""Robustness of expectations under parameter uncertainty.

* :func:`lognormal_ensemble` draws an uncertainty ensemble: per member, a log-normal factor (or value)
  for each of some model parameters.
* :func:`expectation_robustness` runs a scenario over such an ensemble and reports, per expectation,
  the percent of members in which it holds (:class:`Robustness`).

The members run as a sweep of explicit design rows (:class:`igfsim.analysis.variants.PointRuns`,
:func:`igfsim.sweep.run_sweep` with design ``points``): the same executors, per-run failure records,
batching and progress bar as the sensitivity evaluators.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from igfsim.analysis.expectations import ExpectationOutcome, Verdict, check_expectations, describe
from igfsim.analysis.variants import PointRuns, load_inputs, sweep_executor
from igfsim.model.sbml import Model
from igfsim.result.scenario_result import RunStatus
from igfsim.runner import run_scenario
from igfsim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd


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
    sc: Scenario, members: Sequence[Mapping[str, float]], mode: str, runs: PointRuns
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
        ok = runs.valid_rows(targets, x)  # a member the sweep cannot run counts as failed
        idx = [i for i, good in zip(idx, ok, strict=True) if good]
        if not idx:
            continue
        res = runs.run(runs.sweep(scenario, targets, x[ok], ["final"], keep=True))
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
    ``n_workers``, ``batch_size`` and ``progress`` as in
    :func:`igfsim.analysis.sensitivity.scenario_metric_evaluator`.
    """
    import pandas as pd

    if mode not in ("multiplier", "value"):
        raise ValueError("mode must be 'multiplier' or 'value'")
    sc, m = load_inputs(scenario, model)
    runs = PointRuns(m, engine, sweep_executor(executor), n_workers, batch_size, progress)
    nominal = check_expectations(run_scenario(sc, m, engine=engine), sc)
    holds, observed, failed = _verdict_arrays(_member_outcomes(sc, members, mode, runs), len(sc.expect))
    cols = [f"e{j}" for j in range(len(sc.expect))]
    return Robustness(
        table=_robustness_table(sc, nominal, holds, observed),
        holds=pd.DataFrame(holds, columns=cols).rename_axis("member"),
        observed=pd.DataFrame(observed, columns=cols).rename_axis("member"),
        failed=tuple(failed),
    )
