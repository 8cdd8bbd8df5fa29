"""The four-parameter Hill (4PL / log-logistic) curve: its fit to one dose-response, :class:`HillFit`.

Parameterisation (the same as R ``drc``'s ``LL.4`` and GraphPad's "variable slope" model)::

    y(d) = bottom + (top - bottom) / (1 + (d / ec50) ** hill),      top >= bottom, d > 0

* ``top`` and ``bottom`` are the upper and lower plateaus (in the units of the response).
* ``ec50`` (nM, the dose unit) is the dose of the half-maximal change; for an inhibitor it is the
  (relative, "absolute" only when bottom = 0 and top = untreated) IC50.
* The **sign of** ``hill`` **gives the direction**: ``hill > 0`` is a response that *falls* with dose
  (an inhibitor: y(0) = top, y(inf) = bottom); ``hill < 0`` is a response that *rises* with dose (an
  activator, or an inhibitor's *effect* = 1 - response: y(0) = bottom, y(inf) = top). ``abs(hill)``
  is the usual slope factor.
* ``emax`` is the pharmacological Emax of ``y = E0 + Emax * d^n / (EC50^n + d^n)``: the change
  from the zero-dose plateau to the saturating plateau, ``y(inf) - y(0)``. It is negative for an
  inhibitor and positive for an activator.

The fit is done in ``log10(ec50)`` with bounded :func:`scipy.optimize.curve_fit` (trust-region
reflective), started from data-driven guesses at a few slopes (the steps:
:mod:`igfsim.analysis.hill_optimizer`); the confidence intervals come from the
covariance matrix (Wald intervals with a Student t quantile on ``n - p`` degrees of freedom), so the
EC50 interval is symmetric in log space. Dose 0 is the untreated reference: it is not part of the
log-dose fit, but it sets ``y0`` (and, with ``normalize=True``, the scale of the response).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from igfsim.analysis.hill_optimizer import (
    _HILL_MAX,
    _HILL_MIN,
    _SIGN,
    _Attempt,
    _attempts,
    _best,
    _fit_points,
    _Params,
    _Points,
    _unfittable,
)

Direction = Literal["auto", "down", "up"]
_CONF = 0.95


@dataclass(frozen=True)
class HillFit:
    """Result of :func:`fit_hill` (see the module docstring for the parameterisation).

    ``ec50_ci`` and ``hill_ci`` are 95 % intervals (``ec50_ci`` symmetric in log10); ``log10_ec50_se``
    is the standard error of ``log10(ec50)``; ``dof`` the residual degrees of freedom. When
    ``converged`` is False the parameters are NaN and ``message`` says why.
    """

    bottom: float
    top: float
    ec50: float
    hill: float
    emax: float
    r2: float
    rmse: float
    ec50_ci: tuple[float, float]
    hill_ci: tuple[float, float]
    n: int
    converged: bool
    message: str = ""
    log10_ec50_se: float = math.nan
    dof: int = 0
    y0: float = math.nan  #: mean response at dose 0 (untreated reference), NaN when none was given
    direction: str = ""  #: "down" (hill > 0) or "up" (hill < 0) for a converged fit
    fixed: tuple[str, ...] = field(default_factory=tuple)  #: parameters held fixed in the fit

    @property
    def ic50(self) -> float:
        """Alias of ``ec50`` (the usual name for an inhibitor)."""
        return self.ec50

    @property
    def e0(self) -> float:
        """The fitted response at zero dose."""
        return self.top if self.hill > 0 else self.bottom

    @property
    def einf(self) -> float:
        """The fitted response at saturating dose."""
        return self.bottom if self.hill > 0 else self.top

    def predict(self, dose) -> np.ndarray:
        """The fitted curve at ``dose`` (dose 0 gives the zero-dose plateau)."""
        d = np.asarray(dose, dtype=float)
        if not self.converged:
            return np.full(d.shape, np.nan)
        return _hill_curve(d, self.bottom, self.top, self.ec50, self.hill)

    def inverse(self, response) -> np.ndarray:
        """The dose giving ``response`` (NaN outside the open range between the plateaus)."""
        y = np.asarray(response, dtype=float)
        if not self.converged:
            return np.full(y.shape, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (self.top - y) / (y - self.bottom)  # = (d/ec50)^hill
            d = self.ec50 * ratio ** (1.0 / self.hill)
        inside = (y > self.bottom) & (y < self.top)
        return np.where(inside, d, np.nan)

    def as_dict(self) -> dict:
        """Flat dict of the scalar results (CI bounds as ``*_lo``/``*_hi``)."""
        return {
            "bottom": self.bottom,
            "top": self.top,
            "ec50": self.ec50,
            "ec50_lo": self.ec50_ci[0],
            "ec50_hi": self.ec50_ci[1],
            "log10_ec50_se": self.log10_ec50_se,
            "hill": self.hill,
            "hill_lo": self.hill_ci[0],
            "hill_hi": self.hill_ci[1],
            "emax": self.emax,
            "r2": self.r2,
            "rmse": self.rmse,
            "n": self.n,
            "dof": self.dof,
            "y0": self.y0,
            "converged": self.converged,
            "message": self.message,
        }


def _hill_curve(d, bottom, top, ec50, hill):
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        r = (d / ec50) ** hill
        y = bottom + (top - bottom) / (1.0 + r)
    # d = 0: (0)^hill is 0 (hill > 0) or inf (hill < 0), both handled above; keep the limit exact
    return y


def _failed(n: int, message: str, y0: float = math.nan) -> HillFit:
    nan = math.nan
    return HillFit(nan, nan, nan, nan, nan, nan, nan, (nan, nan), (nan, nan), n, False, message, y0=y0)


def _goodness(y: np.ndarray, fitted: np.ndarray, w: np.ndarray | None) -> tuple[float, float]:
    """Weighted R² and the (unweighted) root-mean-square residual."""
    res = y - fitted
    ww = np.ones_like(y) if w is None else w
    ybar = float(np.sum(ww * y) / np.sum(ww))
    ss_tot = float(np.sum(ww * (y - ybar) ** 2))
    ss_res = float(np.sum(ww * res**2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan
    return r2, float(np.sqrt(np.mean(res**2)))


def _standard_errors(params: _Params, pcov: np.ndarray | None, dof: int) -> dict[str, float]:
    """Standard errors of the free values from the covariance (NaN when undefined)."""
    se = {k: math.nan for k in ("bottom", "top", "log_ec50", "hill")}
    if dof > 0 and pcov is not None and np.all(np.isfinite(pcov)):
        for i, k in enumerate(params.free):
            se[k] = float(np.sqrt(max(pcov[i, i], 0.0)))
    return se


def _fit_result(params: _Params, best: _Attempt, pts: _Points, logd: np.ndarray) -> HillFit:
    """The :class:`HillFit` of the chosen attempt: fitted values, goodness of fit, intervals, warnings."""
    from scipy.stats import t as student_t

    b, t, lec, h = params.curve(best.popt, _SIGN[best.direction])
    fitted = b + (t - b) / (1.0 + 10.0 ** (h * (logd - lec)))
    r2, rmse = _goodness(pts.y, fitted, pts.w)
    n = int(pts.y.size)
    dof = n - len(params.free)
    msgs = []
    se = _standard_errors(params, best.pcov, dof)
    if dof <= 0:
        msgs.append("no residual degrees of freedom: confidence intervals undefined")
    q = float(student_t.ppf(0.5 + _CONF / 2, dof)) if dof > 0 else math.nan
    ec50 = _pow10(lec)
    ec50_ci = (_pow10(lec - q * se["log_ec50"]), _pow10(lec + q * se["log_ec50"]))
    hill_ci = sorted((h - q * se["hill"], h + q * se["hill"])) if not math.isnan(se["hill"]) else [math.nan] * 2
    if lec <= float(logd.min()) - 1 or lec >= float(logd.max()) + 1:
        msgs.append("EC50 lies more than a decade outside the tested doses (extrapolated)")
    if abs(h) >= _HILL_MAX * 0.999 or abs(h) <= _HILL_MIN * 1.001:
        msgs.append(f"Hill slope at its bound ({abs(h):g})")
    e_zero, e_inf = (t, b) if h > 0 else (b, t)
    return HillFit(
        bottom=float(b),
        top=float(t),
        ec50=float(ec50),
        hill=float(h),
        emax=float(e_inf - e_zero),
        r2=float(r2),
        rmse=rmse,
        ec50_ci=(float(ec50_ci[0]), float(ec50_ci[1])),
        hill_ci=(float(hill_ci[0]), float(hill_ci[1])),
        n=n,
        converged=True,
        message="; ".join(msgs),
        log10_ec50_se=se["log_ec50"],
        dof=dof,
        y0=pts.y0,
        direction="down" if h > 0 else "up",
        fixed=tuple(sorted(params.fixed)),
    )


def fit_hill(
    dose,
    response,
    *,
    direction: Direction = "auto",
    weights=None,
    normalize: bool = False,
    fix_bottom: float | None = None,
    fix_top: float | None = None,
    flat_tol: float = 1e-9,
) -> HillFit:
    """Fit the 4-parameter Hill curve ``y = bottom + (top - bottom) / (1 + (dose/ec50)^hill)``.

    Parameters
    ----------
    dose, response
        1-D arrays of equal length (replicates allowed). ``dose`` is in nM; dose 0 marks the
        untreated reference, kept out of the log-dose fit (its mean is ``HillFit.y0``). Pairs
        with a NaN (a failed run) are dropped.
    direction
        ``"down"``: the response falls with dose (inhibitor; ``hill > 0``); ``"up"``: it rises
        (activator, or the *effect* of an inhibitor; ``hill < 0``); ``"auto"`` fits both and keeps
        the one with the smaller residual sum of squares.
    weights
        Optional non-negative weights per point (inverse variances); relative, not absolute.
    normalize
        Divide the responses by ``y0`` (needs dose-0 points) before fitting, so the untreated
        level is 1.
    fix_bottom, fix_top
        Hold a plateau fixed (e.g. ``fix_bottom=0`` for an effect that is 0 when untreated).
    flat_tol
        A response whose range is at most ``flat_tol * max(1, |mean|)`` is "flat": no fit.

    Returns
    -------
    HillFit
        Never raises for data problems: a flat or too-short response, or an optimiser failure,
        gives ``converged=False`` and a ``message``.

    The steps (:mod:`igfsim.analysis.hill_optimizer`): ``_fit_points`` (the usable points),
    ``_unfittable`` (too few or flat), ``_attempts`` (bounded fits from a few starts in each
    direction), ``_best``; then :func:`_fit_result` here (goodness of fit and intervals).
    """
    if direction not in ("auto", "down", "up"):
        raise ValueError(f"direction must be 'auto', 'down' or 'up', not {direction!r}")
    pts = _fit_points(dose, response, weights, normalize)
    params = _Params.make(fix_bottom, fix_top)
    n = int(pts.y.size)
    problem = _unfittable(pts, len(params.free), flat_tol)
    if problem:
        return _failed(n, problem, pts.y0)
    logd = np.log10(pts.dose)
    best = _best(_attempts(params, pts, logd, ("down", "up") if direction == "auto" else (direction,)))
    if best.popt is None:
        return _failed(n, f"curve_fit failed: {best.error}", pts.y0)
    return _fit_result(params, best, pts, logd)


def _pow10(x: float) -> float:
    """10**x for a log10 value that may lie far outside float range (a CI of an unbounded fit): 0 or inf there."""
    x = float(x)
    if math.isnan(x):
        return math.nan
    if x > 308.0:
        return math.inf
    if x < -323.0:
        return 0.0
    return 10.0**x
