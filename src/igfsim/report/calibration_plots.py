"""Figures of a calibration: the waterfall of start objectives and the fit overlaid on the data.

Both draw from the tables a :class:`~igfsim.calibrate.CalibrationResult` writes (``starts.tsv``,
``fit.tsv``), so a report can be made from a calibration folder without re-running anything.
matplotlib is imported inside the functions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_fit", "plot_profiles", "plot_waterfall", "write_calibration_figures"]


def plot_waterfall(starts: Any, *, ax: Any = None, tol: float = 1.0) -> Any:
    """Sorted final objectives of all starts (rank on x), minus the best plus 1 on a log axis.

    Starts within ``tol`` of the best (the same optimum) are filled; failed starts are counted in
    the title, not drawn.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 3.4))
    fval = np.asarray(starts["fval"], dtype=float)
    ok = np.sort(fval[np.isfinite(fval)])
    n_failed = int(np.sum(~np.isfinite(fval)))
    if ok.size:
        best = ok[0]
        y = ok - best + 1.0
        rank = np.arange(1, ok.size + 1)
        at_best = ok - best <= tol
        ax.plot(rank, y, color="0.6", lw=0.8, zorder=1)
        ax.scatter(rank[at_best], y[at_best], color="C0", s=22, zorder=2, label=f"within {tol:g} of best")
        ax.scatter(rank[~at_best], y[~at_best], facecolor="none", edgecolor="C1", s=22, zorder=2, label="other optima")
        ax.set_yscale("log")
        ax.legend(fontsize=7, frameon=False)
        title = f"{int(at_best.sum())}/{fval.size} starts at the best ({best:.6g})"
    else:
        title = "no start finished"
    if n_failed:
        title += f"; {n_failed} failed"
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("start (sorted by objective)")
    ax.set_ylabel("objective − best + 1")
    return ax


def plot_fit(fit: Any, *, max_panels: int = 12) -> Any:
    """One panel per observable: measurements (±noise where numeric) and the best-fit simulation per condition."""
    import matplotlib.pyplot as plt

    observables = list(dict.fromkeys(str(o) for o in fit["observableId"]))[:max_panels]
    n = max(1, len(observables))
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax, obs in zip(axes.ravel(), observables, strict=False):
        sub = fit[fit["observableId"].astype(str) == obs]
        if _plot_dose_response(ax, sub):
            ax.set_title(obs, fontsize=9)
            continue
        conditions = list(dict.fromkeys(str(c) for c in sub["simulationConditionId"]))
        for k, cond in enumerate(conditions):
            d = sub[sub["simulationConditionId"].astype(str) == cond].sort_values("time")
            color = f"C{k % 10}"
            t = d["time"].to_numpy(dtype=float)
            sd = _numeric(d.get("noiseParameters"))
            y = d["measurement"].to_numpy(dtype=float)
            if sd is not None:
                ax.errorbar(t, y, yerr=sd, fmt="o", ms=3, color=color, elinewidth=0.6, capsize=0)
            else:
                ax.plot(t, y, "o", ms=3, color=color)
            ax.plot(t, d["simulation"].to_numpy(dtype=float), "-", lw=1.2, color=color, label=cond.strip("_") or cond)
        ax.set_title(obs, fontsize=9)
        ax.set_xlabel("time")
        ax.tick_params(labelsize=7)
        if len(conditions) <= 8:
            ax.legend(fontsize=6, frameon=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle("best fit (lines) and measurements (points, ±noise SD)", fontsize=9)
    fig.tight_layout()
    return fig


def _plot_dose_response(ax: Any, sub: Any) -> bool:
    """Draw one observable's data against the dose when it is a dose-response at one time; False otherwise."""
    if "dose_nM" not in sub or sub["time"].nunique() != 1:
        return False
    dose = sub["dose_nM"].to_numpy(dtype=float)
    if not np.all(np.isfinite(dose)) or len(set(dose.tolist())) < 3:
        return False
    order = np.argsort(dose)
    dose = dose[order]
    y = sub["measurement"].to_numpy(dtype=float)[order]
    sd = _numeric(sub.get("noiseParameters"))
    if sd is not None:
        ax.errorbar(dose, y, yerr=sd[order], fmt="o", ms=3, color="C0", elinewidth=0.6, capsize=0, label="measured")
    else:
        ax.plot(dose, y, "o", ms=3, color="C0", label="measured")
    ax.plot(dose, sub["simulation"].to_numpy(dtype=float)[order], "-", lw=1.2, color="C1", label="best fit")
    if dose.min() > 0:
        ax.set_xscale("log")
    elif dose.max() > 0:  # an unstimulated control: log above the lowest dose, linear down to 0
        ax.set_xscale("symlog", linthresh=float(dose[dose > 0].min()), linscale=1.0)
    ax.set_xlabel(f"{sub['dose_species'].iloc[0]} (nM), at {float(sub['time'].iloc[0]):g} min")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, frameon=False)
    return True


def write_calibration_figures(folder: str | Path) -> list[Path]:
    """``waterfall.png``, ``fit.png`` and (when profiled) ``profiles.png`` from a calibration folder's tables."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import pandas as pd

    folder = Path(folder)
    written: list[Path] = []
    starts = pd.read_csv(folder / "starts.tsv", sep="\t")
    ax = plot_waterfall(starts)
    ax.figure.tight_layout()
    ax.figure.savefig(folder / "waterfall.png", dpi=110)
    plt.close(ax.figure)
    written.append(folder / "waterfall.png")
    if (folder / "fit.tsv").is_file():
        fig = plot_fit(pd.read_csv(folder / "fit.tsv", sep="\t"))
        fig.savefig(folder / "fit.png", dpi=110)
        plt.close(fig)
        written.append(folder / "fit.png")
    if (folder / "profiles.tsv").is_file() and (folder / "profile_paths.tsv").is_file():
        fig = plot_profiles(
            pd.read_csv(folder / "profile_paths.tsv", sep="\t"), pd.read_csv(folder / "profiles.tsv", sep="\t")
        )
        fig.savefig(folder / "profiles.png", dpi=110)
        plt.close(fig)
        written.append(folder / "profiles.png")
    return written


def _numeric(col: Any) -> np.ndarray | None:
    if col is None:
        return None
    try:
        return np.asarray(col, dtype=float)
    except (TypeError, ValueError):
        return None


def plot_profiles(paths: Any, table: Any, *, max_panels: int = 16) -> Any:
    """One panel per parameter: likelihood ratio along its profile, the 95 % threshold and interval."""
    import matplotlib.pyplot as plt

    ids = list(dict.fromkeys(str(p) for p in table["parameterId"]))[:max_panels]
    n = max(1, len(ids))
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.4 * rows), squeeze=False)
    threshold = 0.1465  # chi2(0.95, df=1): exp(-3.84/2)
    for ax, pid in zip(axes.ravel(), ids, strict=False):
        d = paths[paths["parameterId"].astype(str) == pid]
        row = table[table["parameterId"].astype(str) == pid].iloc[0]
        ax.plot(d["value_scaled"], d["ratio"], "-", color="C0", lw=1.2)
        ax.axhline(threshold, color="0.5", ls="--", lw=0.8)
        verdict = "identifiable" if bool(row["identifiable"]) else "open: not identifiable"
        ax.set_title(f"{pid}\n{verdict}", fontsize=8, color="black" if bool(row["identifiable"]) else "C3")
        ax.set_ylim(0, 1.05)
        ax.set_xlabel(f"{row['parameterScale']} value", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel("likelihood ratio")
    fig.suptitle("profile likelihoods (dashed: 95 % threshold)", fontsize=9)
    fig.tight_layout()
    return fig
