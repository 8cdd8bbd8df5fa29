"""Dose-response analysis: four-parameter Hill fits over labelled arrays, IC50 fold shifts.

* :func:`fit_dose_response` fits the Hill curve along the dose dimension of an ``xarray.DataArray``,
  once per coordinate of the other dimensions (e.g. per readout and metric of a sweep summary).
* :func:`ic50_shift` (:class:`IC50Shift`) is the fold shift of the EC50 between two fits, with its
  interval.

The single-curve fit, :func:`fit_hill`, and its result :class:`HillFit` (with the parameterisation
``y = bottom + (top - bottom) / (1 + (d / ec50) ** hill)``) live in :mod:`igfsim.analysis.hill`;
they are importable from here too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from igfsim.analysis.hill import _CONF, Direction, HillFit, fit_hill

__all__ = ["Direction", "HillFit", "IC50Shift", "fit_dose_response", "fit_hill", "ic50_shift"]


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
