"""The bounded least-squares steps behind :func:`igfsim.analysis.hill.fit_hill`.

The 4-parameter Hill curve (parameterisation: :mod:`igfsim.analysis.hill`) is fitted in ``log10(ec50)``
with bounded :func:`scipy.optimize.curve_fit` (trust-region reflective): :func:`_fit_points` takes the
usable points, :class:`_Params` the free parameters (a fixed plateau, or the amplitude ``top - bottom``
so that ``top >= bottom``), :func:`_unfittable` says why the points cannot be fitted, :func:`_bounds`
and :func:`_starts` give the bounds and the data-driven start points at a few slopes, :func:`_attempts`
runs the optimiser from each start in each direction and :func:`_best` keeps the best run.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_HILL_MIN, _HILL_MAX = 0.02, 20.0


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
