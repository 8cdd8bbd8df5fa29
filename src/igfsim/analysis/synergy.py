"""Drug-combination synergy on a 2-D dose grid: Bliss, HSA, Loewe (and ZIP) excess over a reference.

Input: an ``xarray.DataArray`` of **effects** ``E`` with two dose dimensions (by default the first two
dims, e.g. ``(dose_a, dose_b)``, coordinates in nM, both starting at dose 0); ``E`` is 0 with no effect
and 1 with a full effect (e.g. ``E = 1 - viability`` or ``1 - pAkt / pAkt_untreated``, see
:func:`effect_from_response`). Further dims (readout, context, ...) are carried along.

**Sign convention** (SynergyFinder's): every ``*_excess`` score is ``E_observed - E_reference``, so
**positive = synergy** (more effect than the reference model predicts), **negative = antagonism**,
0 = exactly the reference. Scores are in effect units (multiply by 100 for SynergyFinder's
percent scale). The Chou-Talalay combination index (:func:`combination_index`) has the opposite,
multiplicative convention: CI < 1 synergy, CI = 1 additivity, CI > 1 antagonism.

Reference models, with ``E_a = E(a, 0)`` and ``E_b = E(0, b)`` the single agents on the grid edges:

* **Bliss independence** (Bliss 1939): ``E_a + E_b - E_a * E_b`` (independent probabilistic action).
* **HSA** / Gaddum's highest single agent: ``max(E_a, E_b)``.
* **Loewe additivity** (Loewe 1953; Berenbaum 1989): the effect ``y`` with ``a / D_a(y) + b / D_b(y) = 1``,
  where ``D_x(y)`` is the dose of drug x alone giving effect ``y`` (the inverse of a Hill curve fitted to
  that drug's edge). A drug combined with itself is Loewe-additive by construction.
* **ZIP** (Yadav et al. 2015): the delta between the average of Hill curves fitted along each row and
  column (each starting from the other drug's single-agent effect) and Bliss on the fitted single agents.
"""

from __future__ import annotations

import math

import numpy as np

from igfsim.analysis.hill import HillFit, fit_hill

SIGN_CONVENTION = "positive = synergy (observed effect above the reference model), negative = antagonism"


# ---------------------------------------------------------------------------------------- helpers


def _grid_dims(da, dims) -> tuple[str, str]:
    if dims is None:
        if da.ndim < 2:
            raise ValueError("a synergy grid needs two dose dimensions")
        dims = da.dims[:2]
    a, b = dims
    for d in (a, b):
        if d not in da.dims:
            raise ValueError(f"{d!r} is not a dimension of the array (dims: {list(da.dims)})")
        doses = np.asarray(da[d].values, dtype=float)
        if doses.size < 2 or doses[0] != 0 or np.any(np.diff(doses) <= 0):
            raise ValueError(f"dose dimension {d!r} must be increasing and start at 0 (the single-agent edge)")
    return a, b


def _edges(da, a, b):
    return da.isel({b: 0}, drop=True), da.isel({a: 0}, drop=True)  # E_a(a) and E_b(b)


def _finish(score, da, a, b, method: str, reference: str):
    score = score.transpose(*da.dims)
    score.name = f"{method}_excess"
    score.attrs = {"method": method, "reference": reference, "sign_convention": SIGN_CONVENTION, "dose_dims": (a, b)}
    if score.ndim == 2:
        score.attrs.update(synergy_summary(score, dims=(a, b)))
    return score


def synergy_summary(score, dims=None) -> dict:
    """Summary of a score grid over its **interior** (both doses > 0): mean, max, min and the doses of the
    max. For a grid with extra dims the values are arrays over those dims (``DataArray``)."""
    a, b = _grid_dims(score, dims)
    inner = score.isel({a: slice(1, None), b: slice(1, None)})
    if score.ndim == 2:
        vals = np.asarray(inner.values, dtype=float)
        if np.all(np.isnan(vals)):
            return {"mean": math.nan, "max": math.nan, "min": math.nan, "argmax": (math.nan, math.nan)}
        i, j = np.unravel_index(np.nanargmax(vals), vals.shape)
        return {
            "mean": float(np.nanmean(vals)),
            "max": float(np.nanmax(vals)),
            "min": float(np.nanmin(vals)),
            "argmax": (float(inner[a].values[i]), float(inner[b].values[j])),
        }
    return {"mean": inner.mean((a, b)), "max": inner.max((a, b)), "min": inner.min((a, b))}


def effect_from_response(response, *, dims=None, increasing: bool = False):
    """Convert a response grid (viability, phospho-signal, ...) to effects relative to the untreated
    ``(0, 0)`` cell: ``E = 1 - y / y(0, 0)`` for a response that drugs lower (default), or
    ``E = y / y(0, 0) - 1`` with ``increasing=True``. Values are not clipped."""
    a, b = _grid_dims(response, dims)
    ref = response.isel({a: 0, b: 0}, drop=True)
    eff = (response / ref - 1.0) if increasing else (1.0 - response / ref)
    eff.name = "effect"
    eff.attrs = {"definition": "y/y00 - 1" if increasing else "1 - y/y00"}
    return eff.transpose(*response.dims)


def _per_slice(da, a, b, fn):
    """Apply ``fn(2-D numpy grid, doses_a, doses_b) -> 2-D grid`` to every (a, b) slice."""
    import xarray as xr

    other = [d for d in da.dims if d not in (a, b)]
    arr = da.transpose(*other, a, b).values.astype(float)
    out = np.empty_like(arr)
    da_ = np.asarray(da[a].values, dtype=float)
    db_ = np.asarray(da[b].values, dtype=float)
    for idx in np.ndindex(*arr.shape[:-2]):
        out[idx] = fn(arr[idx], da_, db_)
    return xr.DataArray(out, dims=(*other, a, b), coords=da.transpose(*other, a, b).coords)


# ------------------------------------------------------------------------------------ the scores


def bliss_excess(effect, *, dims=None):
    """Observed effect minus Bliss independence ``E_a + E_b - E_a E_b`` (positive = synergy).

    Returns a DataArray of the grid's shape (0 on the edges by construction); for a 2-D grid its
    ``attrs`` hold the interior summary (mean, max, min, argmax)."""
    a, b = _grid_dims(effect, dims)
    ea, eb = _edges(effect, a, b)
    return _finish(effect - (ea + eb - ea * eb), effect, a, b, "bliss", "E_a + E_b - E_a*E_b")


def hsa_excess(effect, *, dims=None):
    """Observed effect minus the highest single agent ``max(E_a, E_b)`` (positive = synergy)."""
    import xarray as xr

    a, b = _grid_dims(effect, dims)
    ea, eb = _edges(effect, a, b)
    return _finish(effect - xr.apply_ufunc(np.maximum, ea, eb), effect, a, b, "hsa", "max(E_a, E_b)")


def _edge_fit(doses, effects, **kw) -> HillFit:
    return fit_hill(doses, effects, direction="up", **kw)


def _edge_fits(grid, doses_a, doses_b, fix_bottom) -> tuple[HillFit, HillFit]:
    """Hill fits of each single agent: the grid's first column (drug a alone) and first row (drug b)."""
    return (
        _edge_fit(doses_a[1:], grid[1:, 0], fix_bottom=fix_bottom),
        _edge_fit(doses_b[1:], grid[0, 1:], fix_bottom=fix_bottom),
    )


def _loewe_solve(fa: HillFit, fb: HillFit, x: float, z: float, beyond_emax: str) -> float:
    """The Loewe-additive effect of doses ``x`` (drug a) and ``z`` (drug b)."""
    from scipy.optimize import brentq

    if x == 0 and z == 0:
        return 0.0
    if x == 0:
        return float(fb.predict(z))
    if z == 0:
        return float(fa.predict(x))
    lo = max(fa.bottom, fb.bottom)
    hi_common = min(fa.top, fb.top)
    hi = max(fa.top, fb.top) if beyond_emax == "partial" else hi_common
    if not hi > lo:
        return math.nan

    def term(f: HillFit, d: float, y: float) -> float:
        if y >= f.top:
            return 0.0  # this drug alone never reaches y: it needs an infinite dose
        return d / float(f.inverse(y))

    def g(y):
        return term(fa, x, y) + term(fb, z, y) - 1.0

    eps = 1e-12 * max(1.0, abs(hi - lo))
    y_lo, y_hi = lo + eps, hi - eps
    if not y_hi > y_lo:
        return math.nan  # the single agents' common effect range is empty
    g_lo, g_hi = g(y_lo), g(y_hi)
    if math.isnan(g_lo) or math.isnan(g_hi):
        return math.nan  # a single-agent curve has no inverse at an end of the range
    if not (g_lo > 0):
        return math.nan  # even the smallest reachable effect needs less than these doses
    if g_hi > 0:
        return math.nan  # the additive effect lies beyond a drug's Emax
    try:
        return float(brentq(g, y_lo, y_hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))
    except ValueError:  # an inverse undefined inside the range (a fit that is not monotone there)
        return math.nan


def loewe_expected(effect, *, dims=None, beyond_emax: str = "nan", fix_bottom: float | None = 0.0):
    """The Loewe-additive effect at every grid cell, from Hill curves fitted to each drug's edge.

    Each single agent's effects (dose > 0) are fitted with :func:`~igfsim.doseresponse.fit_hill`
    (rising, bottom fixed at ``fix_bottom`` = 0 by default since effects are relative to untreated;
    ``None`` frees it). Cells whose additive effect is not defined are NaN: a single agent that cannot be
    fitted, or an additive effect beyond the smaller single-agent Emax (``beyond_emax="nan"``;
    ``"partial"`` instead lets the more efficacious drug carry effects the other cannot reach,
    its term for the weaker drug being 0)."""
    a, b = _grid_dims(effect, dims)
    if beyond_emax not in ("nan", "partial"):
        raise ValueError("beyond_emax must be 'nan' or 'partial'")

    def one(grid, doses_a, doses_b):
        fa, fb = _edge_fits(grid, doses_a, doses_b, fix_bottom)
        out = np.full(grid.shape, np.nan)
        if not (fa.converged and fb.converged):
            return out
        for i, x in enumerate(doses_a):
            for j, z in enumerate(doses_b):
                out[i, j] = _loewe_solve(fa, fb, float(x), float(z), beyond_emax)
        return out

    exp = _per_slice(effect, a, b, one).transpose(*effect.dims)
    exp.name = "loewe_expected"
    return exp


def loewe_excess(effect, *, dims=None, beyond_emax: str = "nan", fix_bottom: float | None = 0.0):
    """Observed effect minus the Loewe-additive effect (positive = synergy); see :func:`loewe_expected`.

    NaN where the additive reference is undefined (effects outside the fitted single agents' range).
    On the edges the score is the residual of the single-agent fit."""
    a, b = _grid_dims(effect, dims)
    exp = loewe_expected(effect, dims=(a, b), beyond_emax=beyond_emax, fix_bottom=fix_bottom)
    return _finish(effect - exp, effect, a, b, "loewe", "a/D_a(y) + b/D_b(y) = 1 (Hill fits of the edges)")


def combination_index(effect, *, dims=None, fix_bottom: float | None = 0.0):
    """Chou-Talalay/Berenbaum interaction index ``a / D_a(E) + b / D_b(E)`` of each observed cell.

    ``D_x(E)`` inverts the Hill curve fitted to drug x's edge. **CI < 1 = synergy**, 1 = Loewe
    additivity, > 1 = antagonism (opposite direction to the ``*_excess`` scores). NaN on the edges and
    where an observed effect lies outside a single agent's fitted range (a drug that cannot reach E
    contributes 0, like an infinite equivalent dose, as long as the other drug can)."""
    a, b = _grid_dims(effect, dims)

    def one(grid, doses_a, doses_b):
        fa, fb = _edge_fits(grid, doses_a, doses_b, fix_bottom)
        out = np.full(grid.shape, np.nan)
        if not (fa.converged and fb.converged):
            return out
        for i in range(1, grid.shape[0]):
            for j in range(1, grid.shape[1]):
                e = grid[i, j]
                if not np.isfinite(e) or e <= max(fa.bottom, fb.bottom) or e >= max(fa.top, fb.top):
                    continue
                ta = 0.0 if e >= fa.top else doses_a[i] / float(fa.inverse(e))
                tb = 0.0 if e >= fb.top else doses_b[j] / float(fb.inverse(e))
                out[i, j] = ta + tb
        return out

    ci = _per_slice(effect, a, b, one).transpose(*effect.dims)
    ci.name = "combination_index"
    ci.attrs = {
        "method": "combination index",
        "sign_convention": "CI < 1 synergy, 1 additive, > 1 antagonism",
        "dose_dims": (a, b),
    }
    return ci


def zip_delta(effect, *, dims=None):
    """ZIP delta score (Yadav et al. 2015): positive = synergy.

    Each row (fixed dose of b) is fitted with a rising Hill curve in dose a whose zero-dose plateau is
    fixed at b's single-agent effect, and each column likewise; the average of the two fitted surfaces
    minus Bliss on the Hill-fitted single agents is the delta. Cells whose fits fail are NaN; the
    edges are 0."""
    a, b = _grid_dims(effect, dims)

    def one(grid, doses_a, doses_b):
        fa = _edge_fit(doses_a[1:], grid[1:, 0], fix_bottom=0.0)
        fb = _edge_fit(doses_b[1:], grid[0, 1:], fix_bottom=0.0)
        out = np.zeros(grid.shape)
        if not (fa.converged and fb.converged):
            out[1:, 1:] = np.nan
            return out
        ya = fa.predict(doses_a)
        yb = fb.predict(doses_b)
        ref = ya[:, None] + yb[None, :] - ya[:, None] * yb[None, :]
        row_fit = np.full(grid.shape, np.nan)  # along a, for each b
        col_fit = np.full(grid.shape, np.nan)  # along b, for each a
        for j in range(1, grid.shape[1]):
            f = fit_hill(doses_a[1:], grid[1:, j], direction="up", fix_bottom=float(yb[j]))
            if f.converged:
                row_fit[1:, j] = f.predict(doses_a[1:])
            elif np.ptp(grid[1:, j]) == 0:
                row_fit[1:, j] = grid[1:, j]
        for i in range(1, grid.shape[0]):
            f = fit_hill(doses_b[1:], grid[i, 1:], direction="up", fix_bottom=float(ya[i]))
            if f.converged:
                col_fit[i, 1:] = f.predict(doses_b[1:])
            elif np.ptp(grid[i, 1:]) == 0:
                col_fit[i, 1:] = grid[i, 1:]
        out[1:, 1:] = 0.5 * (row_fit[1:, 1:] + col_fit[1:, 1:]) - ref[1:, 1:]
        return out

    score = _per_slice(effect, a, b, one)
    return _finish(score, effect, a, b, "zip", "Bliss on Hill-fitted single agents, vs row/column Hill fits")


def synergy_scores(effect, *, dims=None, methods=("bliss", "hsa", "loewe", "zip")):
    """All requested scores as one ``xarray.Dataset`` (variables ``bliss``, ``hsa``, ``loewe``, ``zip``)."""
    import xarray as xr

    fns = {"bliss": bliss_excess, "hsa": hsa_excess, "loewe": loewe_excess, "zip": zip_delta}
    unknown = set(methods) - set(fns)
    if unknown:
        raise ValueError(f"unknown synergy method(s) {sorted(unknown)}; choose from {sorted(fns)}")
    ds = xr.Dataset({m: fns[m](effect, dims=dims) for m in methods})
    ds.attrs["sign_convention"] = SIGN_CONVENTION
    return ds
