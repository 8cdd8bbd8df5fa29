"""Dose-response analysis: four-parameter Hill (4PL / log-logistic) fits, IC50 fold shifts.

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
reflective), started from data-driven guesses at a few slopes; the confidence intervals come from the
covariance matrix (Wald intervals with a Student t quantile on ``n - p`` degrees of freedom), so the
EC50 interval is symmetric in log space. Dose 0 is the untreated reference: it is not part of the
log-dose fit, but it sets ``y0`` (and, with ``normalize=True``, the scale of the response).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Direction = Literal["auto", "down", "up"]
_HILL_MIN, _HILL_MAX = 0.02, 20.0
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


def _guess_log_ec50(logd: np.ndarray, y: np.ndarray) -> float:
    """log10 dose where the (dose-averaged) response crosses its midpoint."""
    ud = np.unique(logd)
    ym = np.array([y[logd == u].mean() for u in ud])
    mid = 0.5 * (ym.max() + ym.min())
    s = np.sign(ym - mid)
    for i in range(len(ud) - 1):
        if s[i] != s[i + 1] or s[i] == 0:
            y1, y2 = ym[i], ym[i + 1]
            f = 0.5 if y2 == y1 else (mid - y1) / (y2 - y1)
            return float(ud[i] + f * (ud[i + 1] - ud[i]))
    return float(np.median(ud))


_SIGN = {"down": 1.0, "up": -1.0}  #: the sign of the Hill slope for each direction


@dataclass(frozen=True)
class _Points:
    """The points a fit uses: the positive doses with their responses (and weights), and ``y0``."""

    dose: np.ndarray
    y: np.ndarray
    w: np.ndarray | None
    y0: float  #: mean response at dose 0, NaN when none was given


def _fit_points(dose, response, weights, normalize: bool) -> _Points:
    """Check the inputs, drop pairs with a NaN (or a non-positive weight), take dose 0 out (its mean
    is ``y0``) and, with ``normalize``, divide the responses by ``y0``."""
    dose = np.asarray(dose, dtype=float).ravel()
    y = np.asarray(response, dtype=float).ravel()
    if dose.shape != y.shape:
        raise ValueError(f"dose and response differ in length ({dose.size} vs {y.size})")
    w = None if weights is None else np.asarray(weights, dtype=float).ravel()
    if w is not None and w.shape != y.shape:
        raise ValueError("weights must have one value per point")
    keep = np.isfinite(dose) & np.isfinite(y) & (dose >= 0)
    if w is not None:
        keep &= np.isfinite(w) & (w > 0)
    dose, y = dose[keep], y[keep]
    w = None if w is None else w[keep]
    zero = dose == 0
    y0 = float(y[zero].mean()) if zero.any() else math.nan
    if normalize:
        if not zero.any() or y0 == 0:
            raise ValueError("normalize=True needs dose-0 points with a non-zero mean response")
        y = y / y0
        y0 = 1.0
    return _Points(dose[~zero], y[~zero], None if w is None else w[~zero], y0)


@dataclass(frozen=True)
class _Params:
    """What the optimiser moves: ``free`` names among bottom, ``amp`` (= top - bottom, used when neither
    plateau is fixed, so that top >= bottom always), top, log_ec50 and hill; ``fixed`` plateaus."""

    free: tuple[str, ...]
    fixed: dict[str, float]

    @classmethod
    def make(cls, fix_bottom: float | None, fix_top: float | None) -> _Params:
        fixed = {k: float(v) for k, v in (("bottom", fix_bottom), ("top", fix_top)) if v is not None}
        free = tuple(k for k in ("bottom", "amp" if not fixed else "top", "log_ec50", "hill") if k not in fixed)
        return cls(free, fixed)

    def curve(self, p, sign: float) -> tuple[float, float, float, float]:
        """``(bottom, top, log10 ec50, hill)`` of the free values ``p`` (hill signed by the direction)."""
        vals = dict(zip(self.free, p, strict=True))
        vals.update(self.fixed)
        if "amp" in vals:
            vals["top"] = vals["bottom"] + vals["amp"]
        return vals["bottom"], vals["top"], vals["log_ec50"], sign * vals["hill"]

    def model(self, sign: float) -> Callable[..., np.ndarray]:
        """The curve in log10 dose as :func:`scipy.optimize.curve_fit` calls it: ``model(x, *p)``."""

        def model(x, *p):
            b, t, lec, h = self.curve(p, sign)
            return b + (t - b) / (1.0 + 10.0 ** (h * (x - lec)))

        return model


def _unfittable(pts: _Points, n_par: int, flat_tol: float) -> str:
    """Why ``pts`` cannot be fitted: too few points or doses, or a flat response ("" when they can)."""
    n, n_doses = int(pts.y.size), np.unique(pts.dose).size
    if n < n_par or n_doses < max(n_par - 1, 2):
        return f"too few positive doses to fit ({n} points, {n_doses} distinct doses, {n_par} free parameters)"
    scale = max(1.0, abs(float(np.mean(pts.y))))
    if float(np.ptp(pts.y)) <= flat_tol * scale:
        return "flat response: no dose dependence to fit"
    return ""


def _bounds(params: _Params, y: np.ndarray, logd: np.ndarray) -> tuple[list[float], list[float]]:
    """Lower and upper bounds of the free values: plateaus within two spans of the data, the EC50 within
    three decades of the tested doses, the slope within (_HILL_MIN, _HILL_MAX)."""
    ymin, ymax, span = float(y.min()), float(y.max()), float(np.ptp(y))
    pad = 2.0 * span
    fixed = params.fixed
    bounds = {
        "bottom": (ymin - pad, fixed.get("top", ymax + pad)),
        "top": (fixed.get("bottom", ymin - pad), ymax + pad),
        "amp": (0.0, 5.0 * span),
        "log_ec50": (float(logd.min()) - 3.0, float(logd.max()) + 3.0),
        "hill": (_HILL_MIN, _HILL_MAX),
    }
    return [bounds[k][0] for k in params.free], [bounds[k][1] for k in params.free]


def _starts(params: _Params, y: np.ndarray, logd: np.ndarray, lb: list[float], ub: list[float]) -> list[list[float]]:
    """Start points from the data (plateaus, the midpoint crossing) at slopes 1, 0.5 and 2.5, inside the bounds."""
    lo_d, hi_d = float(logd.min()), float(logd.max())
    guess = {
        "bottom": float(y.min()),
        "top": float(y.max()),
        "amp": float(np.ptp(y)),
        "log_ec50": min(max(_guess_log_ec50(logd, y), lo_d - 2.9), hi_d + 2.9),
    }
    starts = []
    for h0 in (1.0, 0.5, 2.5):
        start = {**guess, "hill": h0}
        starts.append([min(max(start[k], lb[i] + 1e-12), ub[i] - 1e-12) for i, k in enumerate(params.free)])
    return starts


@dataclass(frozen=True)
class _Attempt:
    """One run of the optimiser: its weighted residual sum of squares and estimates, or the error."""

    sse: float
    popt: np.ndarray | None
    pcov: np.ndarray | None
    direction: str
    error: str = ""


def _attempts(params: _Params, pts: _Points, logd: np.ndarray, directions: tuple[str, ...]) -> list[_Attempt]:
    """Run the optimiser from every start point in every direction, in that order."""
    from scipy.optimize import curve_fit

    y, w = pts.y, pts.w
    sigma = None if w is None else 1.0 / np.sqrt(w)
    lb, ub = _bounds(params, y, logd)
    out = []
    for dname in directions:
        model = params.model(_SIGN[dname])
        for p0 in _starts(params, y, logd, lb, ub):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    popt, pcov = curve_fit(
                        model,
                        logd,
                        y,
                        p0=p0,
                        sigma=sigma,
                        bounds=(lb, ub),
                        method="trf",
                        x_scale="jac",
                        max_nfev=4000,
                        ftol=1e-15,
                        xtol=1e-15,
                        gtol=1e-15,
                    )
            except (RuntimeError, ValueError) as err:
                out.append(_Attempt(math.inf, None, None, dname, str(err)))
                continue
            res = y - model(logd, *popt)
            sse = float(np.sum(res**2 if w is None else w * res**2))
            out.append(_Attempt(sse, popt, pcov, dname))
    return out


def _best(attempts: list[_Attempt]) -> _Attempt:
    """The first attempt, replaced by any later successful one with a smaller residual sum of squares."""
    best = attempts[0]
    for a in attempts[1:]:
        if a.popt is not None and a.sse < best.sse:
            best = a
    return best


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
    ec50 = 10.0**lec
    ec50_ci = (10.0 ** (lec - q * se["log_ec50"]), 10.0 ** (lec + q * se["log_ec50"]))
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

    The steps: :func:`_fit_points` (the usable points), :func:`_unfittable` (too few or flat),
    :func:`_attempts` (bounded fits from a few starts in each direction), :func:`_best` and
    :func:`_fit_result` (goodness of fit and intervals).
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


_FIELDS = (
    "ec50",
    "ec50_lo",
    "ec50_hi",
    "log10_ec50_se",
    "hill",
    "hill_lo",
    "hill_hi",
    "top",
    "bottom",
    "emax",
    "r2",
    "rmse",
    "n",
    "dof",
    "y0",
    "converged",
    "message",
)


def fit_dose_response(da, dose_dim: str, **kw):
    """Fit :func:`fit_hill` along ``dose_dim`` of an ``xarray.DataArray`` for every other coordinate.

    E.g. a sweep summary with dims ``(dose, readout, metric)`` gives one fit per readout and metric.
    Keyword arguments go to :func:`fit_hill`. Returns an ``xarray.Dataset`` over the remaining dims
    with variables ``ec50``, ``ec50_lo``, ``ec50_hi``, ``log10_ec50_se``, ``hill``, ``hill_lo``,
    ``hill_hi``, ``top``, ``bottom``, ``emax``, ``r2``, ``rmse``, ``n``, ``dof``, ``y0``,
    ``converged`` and ``message``.
    """
    import xarray as xr

    if dose_dim not in da.dims:
        raise ValueError(f"{dose_dim!r} is not a dimension of the array (dims: {list(da.dims)})")
    dose = np.asarray(da[dose_dim].values, dtype=float)
    other = [d for d in da.dims if d != dose_dim]
    arr = da.transpose(*other, dose_dim).values
    shape = arr.shape[:-1]
    out = {
        k: np.empty(shape, dtype=object if k == "message" else (bool if k == "converged" else float)) for k in _FIELDS
    }
    for idx in np.ndindex(*shape):
        f = fit_hill(dose, arr[idx], **kw).as_dict()
        for k in _FIELDS:
            out[k][idx] = f[k]
    coords = {d: da.coords[d] for d in other if d in da.coords}
    ds = xr.Dataset({k: (other, v.astype(str) if k == "message" else v) for k, v in out.items()}, coords=coords)
    ds["ec50"].attrs.update(units="nM", long_name="EC50 / IC50")
    ds["hill"].attrs.update(long_name="Hill slope (> 0: falls with dose; < 0: rises)")
    ds["emax"].attrs.update(long_name="Emax = y(inf) - y(0)")
    ds.attrs.update(model="y = bottom + (top - bottom) / (1 + (dose/ec50)^hill)", dose_dim=dose_dim, confidence=_CONF)
    return ds


@dataclass(frozen=True)
class IC50Shift:
    """Fold shift ``ec50_b / ec50_a`` with a 95 % interval (from the two log10 standard errors)."""

    fold: float
    ci: tuple[float, float]
    log10_se: float

    @property
    def significant(self) -> bool:
        """True when the interval excludes 1 (no shift)."""
        return bool(self.ci[0] > 1 or self.ci[1] < 1)


def ic50_shift(fit_a, fit_b, *, conf: float = _CONF):
    """The resistance shift: how many fold more drug context ``b`` needs than ``a``, ``ec50_b / ec50_a``.

    ``fit_a`` and ``fit_b`` are :class:`HillFit` objects (returns :class:`IC50Shift`) or Datasets from
    :func:`fit_dose_response` (returns a Dataset with ``fold``, ``fold_lo``, ``fold_hi``, broadcast
    over their dims). The interval treats the two log10 EC50 estimates as independent and normal:
    ``log10 fold +- z * sqrt(se_a^2 + se_b^2)``. A fold above 1 means ``b`` is more resistant.
    """
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + conf / 2))
    if isinstance(fit_a, HillFit) and isinstance(fit_b, HillFit):
        if not (fit_a.converged and fit_b.converged):
            return IC50Shift(math.nan, (math.nan, math.nan), math.nan)
        lf = math.log10(fit_b.ec50) - math.log10(fit_a.ec50)
        se = math.hypot(fit_a.log10_ec50_se, fit_b.log10_ec50_se)
        return IC50Shift(10.0**lf, (10.0 ** (lf - z * se), 10.0 ** (lf + z * se)), se)
    import xarray as xr

    if isinstance(fit_a, xr.Dataset) and isinstance(fit_b, xr.Dataset):
        log_fold = np.log10(fit_b["ec50"]) - np.log10(fit_a["ec50"])
        log_se = np.hypot(fit_a["log10_ec50_se"], fit_b["log10_ec50_se"])
        return xr.Dataset(
            {
                "fold": 10.0**log_fold,
                "fold_lo": 10.0 ** (log_fold - z * log_se),
                "fold_hi": 10.0 ** (log_fold + z * log_se),
                "log10_se": log_se,
            },
            attrs={"definition": "ec50_b / ec50_a", "confidence": conf},
        )
    raise TypeError("ic50_shift takes two HillFit objects or two Datasets from fit_dose_response")
