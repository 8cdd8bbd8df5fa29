"""Profile likelihoods of a fitted problem (pyPESTO's profiling) and what they say about identifiability.

For each estimated parameter, pyPESTO walks away from the best fit in both directions, re-optimising
every other parameter at each step, until the likelihood ratio to the best fit drops below the
threshold of a 95 % confidence interval (chi-square, 1 degree of freedom: ratio 0.147) or the
bound is reached. The interval is where the ratio stays above the threshold (linear interpolation
between the profile's points, ``pypesto.profile.calculate_approximate_ci``). A side on which the
ratio never drops below the threshold before the bound is *open*: the data do not bound the
parameter there (practically non-identifiable on that side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from igfsim.calibrate.engine import ExecutorEngine
from igfsim.calibrate.fit import Optimizer, _optimizer
from igfsim.calibrate.objective import Gradient, library_quiet
from igfsim.calibrate.problem import unscale
from igfsim.calibrate.result import CalibrationResult

__all__ = ["ParameterProfile", "profile"]

CONFIDENCE = 0.95


@dataclass(frozen=True)
class ParameterProfile:
    """The profile of one estimated parameter and the confidence interval read from it."""

    parameter: str
    scale: str
    best: float  # on the parameter's scale
    ci: tuple[float, float]  # on the parameter's scale
    closed: tuple[bool, bool]  # (lower, upper): did the ratio drop below the threshold before the bound?
    x_path: tuple[float, ...]  # the parameter's values along the profile (its scale), increasing
    ratio_path: tuple[float, ...]  # likelihood ratio to the best fit along the profile
    message: str = ""
    #: every estimated parameter (their scales) at the profile points inside the 95 % interval
    members: tuple[tuple[float, ...], ...] = ()

    @property
    def identifiable(self) -> bool:
        return all(self.closed)

    @property
    def ci_linear(self) -> tuple[float, float]:
        return (unscale(self.ci[0], self.scale), unscale(self.ci[1], self.scale))

    def row(self) -> dict[str, Any]:
        lo, hi = self.ci_linear
        return {
            "parameterId": self.parameter,
            "parameterScale": self.scale,
            "best": unscale(self.best, self.scale),
            "ci95_lower": lo,
            "ci95_upper": hi,
            "lower_closed": self.closed[0],
            "upper_closed": self.closed[1],
            "identifiable": self.identifiable,
            "n_points": len(self.x_path),
            "message": self.message,
        }


def profile(
    result: CalibrationResult,
    *,
    parameters: list[str] | None = None,
    optimizer: Optimizer = Optimizer.FIDES,
    executor: object = None,
    n_workers: int | None = None,
    progress: bool = True,
    max_iter: int = 200,
) -> list[ParameterProfile]:
    """Profile ``parameters`` (default: every estimated one) from the best fit of ``result``."""
    import pypesto.profile as pprof

    if not result.best.ok:
        raise ValueError("no start finished: there is no best fit to profile from")
    problem = result.problem
    ids = problem.parameter_ids
    wanted = parameters or ids
    unknown = [p for p in wanted if p not in ids]
    if unknown:
        raise ValueError(f"not estimated in this problem: {unknown} (estimated: {ids})")
    gradient = result.gradient if result.gradient is not Gradient.NONE else Gradient.AUTO.resolve(problem)
    pp = problem.build(optimizer.gradient_for(gradient), result.solver)
    x_best = np.asarray(result.best.x, dtype=float)
    pres = result.pypesto_result(pp)
    free = list(pp.x_free_indices)
    index = [free[ids.index(p)] for p in wanted]
    engine = ExecutorEngine(executor, n_workers, progress=progress, label=f"profile {problem.name}")
    threshold = pprof.chi2_quantile_to_ratio(CONFIDENCE)
    options = pprof.ProfileOptions(ratio_min=threshold * 0.5, whole_path=False)
    with library_quiet():
        pres = pprof.parameter_profile(
            problem=pp,
            result=pres,
            optimizer=_optimizer(optimizer, max_iter),
            engine=engine,
            profile_index=index,
            profile_options=options,
            progress_bar=False,
        )
    out = []
    plist = pres.profile_result.list[0]
    lb, ub = problem.lower_scaled, problem.upper_scaled
    for pid, i in zip(wanted, index, strict=True):
        k = ids.index(pid)
        prof = plist[i]
        if prof is None:
            out.append(_failed(pid, problem.scales[k], x_best[k], "pyPESTO returned no profile"))
            continue
        path = np.asarray(prof.x_path)
        xs = path[i]
        ratios = np.asarray(prof.ratio_path, dtype=float)
        inside = [tuple(float(v) for v in path[free, j]) for j in range(path.shape[1]) if ratios[j] >= threshold]
        order = np.argsort(xs)
        xs, ratios = xs[order], ratios[order]
        ok = np.isfinite(ratios)
        if ok.sum() < 2:
            out.append(_failed(pid, problem.scales[k], x_best[k], "fewer than 2 finite profile points"))
            continue
        xs, ratios = xs[ok], ratios[ok]
        lo, hi = pprof.calculate_approximate_ci(xs, ratios, threshold)
        closed = (bool(ratios[0] < threshold), bool(ratios[-1] < threshold))
        lo = lo if closed[0] else float(lb[k])
        hi = hi if closed[1] else float(ub[k])
        out.append(
            ParameterProfile(
                parameter=pid,
                scale=problem.scales[k],
                best=float(x_best[k]),
                ci=(float(lo), float(hi)),
                closed=closed,
                x_path=tuple(float(v) for v in xs),
                ratio_path=tuple(float(v) for v in ratios),
                members=tuple(inside),
            )
        )
    return out


def _failed(pid: str, scale: str, best: float, message: str) -> ParameterProfile:
    return ParameterProfile(pid, scale, float(best), (math.nan, math.nan), (False, False), (), (), message)


def profile_table(profiles: list[ParameterProfile]) -> Any:
    """One row per parameter: best, 95 % interval (linear scale), which sides are closed, identifiable."""
    import pandas as pd

    return pd.DataFrame([p.row() for p in profiles])


def profile_paths(profiles: list[ParameterProfile]) -> Any:
    """Long table of the profile paths (parameter, value on its scale, likelihood ratio)."""
    import pandas as pd

    rows = [
        {"parameterId": p.parameter, "value_scaled": x, "ratio": r}
        for p in profiles
        for x, r in zip(p.x_path, p.ratio_path, strict=True)
    ]
    return pd.DataFrame(rows, columns=["parameterId", "value_scaled", "ratio"])
