"""Posterior samples of a fitted problem (pyPESTO's adaptive Metropolis sampler) and what they say.

The chain starts at the best fit and draws from the posterior on the parameters' scales: the
likelihood times a uniform prior within the bounds (proposals outside them are rejected), or times
the problem's own priors where a PEtab problem states them. pyPESTO's Geweke test sets the burn-in
(the first iteration after which the chain's start and end do not differ); the rest gives each
parameter's median and central 95 % credible interval, and the chain's effective sample size
(from its integrated autocorrelation time). For igfsim's own data problems the kept draws, thinned
evenly, are an :class:`~igfsim.calibrate.ensemble.Ensemble` that ``igfsim validate --ensemble``
runs: the posterior's counterpart of the profile-based ensemble.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from igfsim.calibrate.ensemble import Ensemble, model_parameter_columns
from igfsim.calibrate.objective import Gradient, library_quiet, native_output_silenced
from igfsim.calibrate.problem import unscale
from igfsim.calibrate.result import CalibrationResult

__all__ = ["PosteriorSample", "ensemble_from_sample", "sample_posterior"]

CREDIBLE = 0.95
MIN_SAMPLES = 100  # fewer draws give no burn-in test worth reading


@dataclass(frozen=True)
class PosteriorSample:
    """The chain after burn-in: estimated parameters on their scales, with each draw's negative log-posterior."""

    parameter_ids: tuple[str, ...]
    scales: tuple[str, ...]
    chain: np.ndarray  # (n_kept, n_parameters), the parameters' scales
    neglogpost: np.ndarray  # (n_kept,)
    burn_in: int
    n_drawn: int
    effective_sample_size: float  # nan when the chain is too short to estimate it
    seed: int

    @property
    def n_kept(self) -> int:
        return int(self.chain.shape[0])

    def table(self) -> Any:
        """One row per parameter: median and 95 % credible interval (linear scale), and the ESS."""
        import pandas as pd

        tail = (1 - CREDIBLE) / 2 * 100
        rows = []
        for k, (pid, scale) in enumerate(zip(self.parameter_ids, self.scales, strict=True)):
            lo, med, hi = np.percentile(self.chain[:, k], [tail, 50.0, 100 - tail])
            rows.append(
                {
                    "parameterId": pid,
                    "parameterScale": scale,
                    "median": unscale(float(med), scale),
                    "ci95_lower": unscale(float(lo), scale),
                    "ci95_upper": unscale(float(hi), scale),
                    "burn_in": self.burn_in,
                    "n_kept": self.n_kept,
                    "effective_sample_size": self.effective_sample_size,
                }
            )
        return pd.DataFrame(rows)

    def samples_table(self) -> Any:
        """The kept draws, one row each: every parameter on its linear scale and the negative log-posterior."""
        import pandas as pd

        values = {
            pid: [unscale(float(v), scale) for v in self.chain[:, k]]
            for k, (pid, scale) in enumerate(zip(self.parameter_ids, self.scales, strict=True))
        }
        return pd.DataFrame(
            {"draw": np.arange(self.burn_in, self.burn_in + self.n_kept), **values, "neglogpost": self.neglogpost}
        )


def sample_posterior(result: CalibrationResult, n_samples: int = 5000, *, seed: int = 0) -> PosteriorSample:
    """Draw ``n_samples`` from the posterior, starting at the best fit of ``result``."""
    import pypesto.sample as ps

    if not (isinstance(n_samples, int) and n_samples >= MIN_SAMPLES):
        raise ValueError(f"n_samples: expected an integer of at least {MIN_SAMPLES}, got {n_samples!r}")
    if not result.best.ok:
        raise ValueError("no start finished: there is no best fit to sample from")
    problem = result.problem
    pp = problem.build(Gradient.NONE, result.solver)  # the sampler needs values only
    x_best = np.asarray(result.best.x, dtype=float)
    pres = result.pypesto_result(pp)
    width = np.asarray(problem.upper_scaled) - np.asarray(problem.lower_scaled)
    sampler = ps.AdaptiveMetropolisSampler(
        # first proposals a hundredth of each parameter's range; the sampler adapts them to the chain
        {"show_progress": False, "cov0": np.diag((width / 100.0) ** 2)}
    )
    state = np.random.get_state()  # pyPESTO's samplers draw from numpy's global generator
    np.random.seed(seed)
    try:
        with library_quiet(), native_output_silenced():
            pres = ps.sample(pp, n_samples=n_samples, sampler=sampler, x0=x_best, result=pres)
            burn_in = int(ps.geweke_test(pres))
            ess = ps.effective_sample_size(pres) if burn_in < n_samples else None
    finally:
        np.random.set_state(state)
    trace = np.asarray(pres.sample_result.trace_x[0])
    post = np.asarray(pres.sample_result.trace_neglogpost[0])
    return PosteriorSample(
        parameter_ids=tuple(problem.parameter_ids),
        scales=tuple(problem.scales),
        chain=trace[burn_in:],
        neglogpost=post[burn_in:],
        burn_in=burn_in,
        n_drawn=int(trace.shape[0]),
        effective_sample_size=float(ess) if ess is not None and np.isfinite(ess) else math.nan,
        seed=seed,
    )


def ensemble_from_sample(sample: PosteriorSample, result: CalibrationResult, n_members: int = 200) -> Ensemble:
    """At most ``n_members`` kept draws of a data problem's posterior, evenly spaced along the chain."""
    problem, kinetic = model_parameter_columns(result)
    if sample.n_kept < 1:
        raise ValueError(f"the chain did not pass its burn-in ({sample.n_drawn} draws): draw more")
    rows = np.unique(np.linspace(0, sample.n_kept - 1, min(n_members, sample.n_kept)).round().astype(int))
    source = (
        f"posterior ensemble of {problem.name} ({problem.path}): {len(rows)} of the {sample.n_kept} draws kept "
        f"after a burn-in of {sample.burn_in} (adaptive Metropolis, {sample.n_drawn} draws, seed {sample.seed}, "
        "uniform prior in the bounds), evenly spaced along the chain"
    )
    return Ensemble(
        tuple(problem.parameters[k].id for k in kinetic),
        10.0 ** sample.chain[np.ix_(rows, np.asarray(kinetic, dtype=int))],
        source,
    )
