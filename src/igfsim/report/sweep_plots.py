"""Figures for sweep analyses, each drawn onto a given matplotlib Axes (or a new one).

matplotlib is imported inside the functions, so importing this module costs nothing. Every function
returns the Axes it drew on.
"""

from __future__ import annotations

import numpy as np


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(4.5, 3.5))
    return ax


def _split(dose, response):
    dose = np.asarray(dose, dtype=float).ravel()
    y = np.asarray(response, dtype=float).ravel()
    ok = np.isfinite(dose) & np.isfinite(y)
    return dose[ok & (dose > 0)], y[ok & (dose > 0)], y[ok & (dose == 0)]


def plot_hill(fit, dose, response, *, ax=None, color=None, label=None, dose_unit: str = "nM"):
    """The fit-quality figure of a :class:`~igfsim.doseresponse.HillFit`: data points (log dose), the fitted
    curve, the EC50/IC50 with its 95 % interval, R^2 in the legend, and the untreated (dose 0) level as a
    dashed line."""
    ax = _axes(ax)
    d, y, y_zero = _split(dose, response)
    pts = ax.scatter(d, y, s=18, color=color, zorder=3, label=label or "data")
    color = pts.get_facecolor()[0]
    if y_zero.size:
        ax.axhline(float(np.mean(y_zero)), color=color, ls="--", lw=0.8, alpha=0.7, label="untreated (dose 0)")
    if fit.converged and d.size:
        lo, hi = np.log10(d.min()) - 0.5, np.log10(d.max()) + 0.5
        lo, hi = min(lo, np.log10(fit.ec50) - 0.5), max(hi, np.log10(fit.ec50) + 0.5)
        xs = np.logspace(lo, hi, 200)
        ax.plot(
            xs,
            fit.predict(xs),
            color=color,
            lw=1.5,
            label=f"Hill fit: EC50 {fit.ec50:.3g} {dose_unit}, n {fit.hill:.2g}, R² {fit.r2:.3f}",
        )
        ymid = float(fit.predict(fit.ec50))
        ax.axvline(fit.ec50, color=color, ls=":", lw=1)
        if np.all(np.isfinite(fit.ec50_ci)):
            ax.hlines(ymid, fit.ec50_ci[0], fit.ec50_ci[1], color=color, lw=3, alpha=0.5, label="EC50 95% CI")
        ax.plot([fit.ec50], [ymid], marker="D", color=color, ms=6, zorder=4)
    elif not fit.converged:
        ax.text(
            0.5, 0.5, f"no fit: {fit.message}", transform=ax.transAxes, ha="center", va="center", fontsize=8, wrap=True
        )
    ax.set_xscale("log")
    ax.set_xlabel(f"dose ({dose_unit})")
    ax.set_ylabel("response")
    ax.legend(fontsize=7, frameon=False)
    return ax


def plot_residuals(fit, dose, response, *, ax=None, color=None, dose_unit: str = "nM"):
    """Residuals (data - fit) against log dose, with zero and +-RMSE lines."""
    ax = _axes(ax)
    d, y, _ = _split(dose, response)
    if fit.converged and d.size:
        ax.scatter(d, y - fit.predict(d), s=18, color=color, zorder=3)
        ax.axhline(0.0, color="k", lw=0.8)
        for s in (-fit.rmse, fit.rmse):
            ax.axhline(s, color="grey", ls="--", lw=0.8)
        ax.set_title(f"residuals (RMSE {fit.rmse:.3g}, n = {fit.n})", fontsize=9)
    else:
        ax.text(0.5, 0.5, "no fit", transform=ax.transAxes, ha="center", va="center")
    ax.set_xscale("log")
    ax.set_xlabel(f"dose ({dose_unit})")
    ax.set_ylabel("data - fit")
    return ax


def plot_synergy_map(
    da,
    *,
    ax=None,
    cmap: str = "RdBu_r",
    vmax: float | None = None,
    annotate: bool = True,
    colorbar: bool = True,
    fmt: str = "{:.2f}",
):
    """Heat map of a 2-D synergy score grid (e.g. from :func:`igfsim.synergy.bliss_excess`): rows are the
    first dose dim, columns the second, cells equally spaced and labelled with their doses. The colour
    scale is symmetric about 0: red = synergy (positive), blue = antagonism; NaN cells are grey."""
    ax = _axes(ax)
    if da.ndim != 2:
        raise ValueError(f"plot_synergy_map needs a 2-D grid, got dims {da.dims}")
    a, b = da.dims
    vals = np.asarray(da.values, dtype=float)
    if vmax is None:
        vmax = float(np.nanmax(np.abs(vals))) if np.isfinite(vals).any() else 1.0
        vmax = vmax or 1.0
    import matplotlib

    cm = matplotlib.colormaps[cmap].with_extremes(bad="0.8")
    im = ax.imshow(np.ma.masked_invalid(vals), origin="lower", cmap=cm, vmin=-vmax, vmax=vmax, aspect="auto")
    ax.set_yticks(range(vals.shape[0]), [f"{v:g}" for v in da[a].values])
    ax.set_xticks(range(vals.shape[1]), [f"{v:g}" for v in da[b].values], rotation=45)
    ax.set_ylabel(str(a))
    ax.set_xlabel(str(b))
    if annotate:
        for i in range(vals.shape[0]):
            for j in range(vals.shape[1]):
                if np.isfinite(vals[i, j]):
                    ax.text(
                        j,
                        i,
                        fmt.format(vals[i, j]),
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if abs(vals[i, j]) > 0.6 * vmax else "black",
                    )
    method = da.attrs.get("method")
    title = f"{method} excess" if method else (da.name or "synergy")
    if "mean" in da.attrs:
        title += f" (mean {da.attrs['mean']:.3g}, max {da.attrs['max']:.3g})"
    ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="> 0 synergy, < 0 antagonism")
    return ax


def plot_morris(table, *, ax=None, annotate: bool = True):
    """Morris mu* against sigma (one point per parameter, with mu* error bars) from
    :func:`igfsim.sensitivity.morris`."""
    ax = _axes(ax)
    ax.errorbar(table["mu_star"], table["sigma"], xerr=table["mu_star_conf"], fmt="o", ms=4, capsize=2)
    if annotate:
        for name, row in table.iterrows():
            ax.annotate(
                str(name), (row["mu_star"], row["sigma"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
    ax.set_xlabel("mu* (mean |elementary effect|)")
    ax.set_ylabel("sigma (non-linearity / interactions)")
    return ax


def plot_sobol(table, *, ax=None):
    """Bars of first-order (S1) and total (ST) Sobol' indices with their intervals, from
    :func:`igfsim.sensitivity.sobol`."""
    ax = _axes(ax)
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["S1"], 0.4, yerr=table["S1_conf"], capsize=2, label="S1")
    ax.bar(x + 0.2, table["ST"], 0.4, yerr=table["ST_conf"], capsize=2, label="ST")
    ax.set_xticks(x, [str(i) for i in table.index], rotation=45, ha="right")
    ax.set_ylabel("Sobol' index")
    ax.legend(fontsize=7, frameon=False)
    return ax
