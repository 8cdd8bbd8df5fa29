"""Figures of the HTML report, built from run and sweep results (matplotlib imported lazily).

Every panel is drawn by a plain function that draws onto a given Axes
(:func:`igfsim.report.plot_timecourse`, :func:`igfsim.report.plot_agreement`,
:func:`igfsim.sweep_plots.plot_hill`, :func:`igfsim.sweep_plots.plot_synergy_map`); the functions here
only lay those panels out on figures and return ``(caption, Figure)`` pairs or notes.
"""

from __future__ import annotations

import base64
import io
import math
import struct
from dataclasses import dataclass

import numpy as np

from igfsim.result.scenario_result import ScenarioResult

#: resolution of the embedded PNGs (pixels per inch)
DPI = 72
#: at most this many levels of a second sweep axis get their own dose-response panel
MAX_LEVELS = 6


@dataclass
class Png:
    """A figure rendered to PNG: base64 data and its size in pixels."""

    data: str
    width: int
    height: int


def to_png(fig, dpi: int = DPI) -> Png:
    """Render ``fig`` to an embeddable PNG (about ``figsize * dpi`` pixels; the size is read back)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    raw = buf.getvalue()
    w, h = struct.unpack(">II", raw[16:24])  # the IHDR chunk: the size as rendered
    return Png(base64.b64encode(raw).decode("ascii"), int(w), int(h))


def timecourse_figure(result: ScenarioResult, title: str = ""):
    """One panel per readout, one line per arm (colours fixed per arm across panels)."""
    from igfsim.report.plots import plot_scenario

    return plot_scenario(result, title=title or f"{result.scenario} ({result.engine})")


def agreement_figure(consistency):
    """The Boolean/ODE agreement grid of a :class:`~igfsim.consistency.ScenarioConsistency`."""
    from matplotlib.figure import Figure

    from igfsim.report.plots import plot_agreement

    readouts = sorted({n.readout for n in consistency.nodes}, key=[n.readout for n in consistency.nodes].index)
    arms = sorted({n.arm for n in consistency.nodes}, key=[n.arm for n in consistency.nodes].index)
    fig = Figure(figsize=(max(4.0, 0.55 * len(readouts) + 2.5), 0.45 * len(arms) + 1.8), layout="constrained")
    plot_agreement(consistency.nodes, ax=fig.add_subplot())
    fig.suptitle(f"{consistency.scenario}: Boolean attractor vs ODE end state", fontsize=10)
    return fig


def _dose_arm(target: str, arms: list[str]) -> str | None:
    """The arm a ``dose:<drug>/<arm>`` axis changes (the only non-first arm when not named)."""
    spec = target.split(":", 1)[1]
    if "/" in spec:
        arm = spec.split("/", 1)[1]
        return arm if arm in arms else None
    return arms[-1] if arms else None


def _varies(y: np.ndarray) -> bool:
    y = y[np.isfinite(y)]
    return y.size > 2 and float(np.ptp(y)) > 1e-6 * max(1.0, float(np.max(np.abs(y))))


def sweep_figures(sweep) -> tuple[list[tuple[str, object]], list[str], list[dict]]:
    """Dose-response figures (Hill fit and IC50 per readout, one panel per level of the other axis) and
    synergy heat-maps of a :class:`~igfsim.sweep_store.SweepResult`.

    Returns ``(figures, notes, ic50_rows)``; a figure that cannot be made becomes a note.
    """
    from matplotlib.figure import Figure

    from igfsim.analysis.doseresponse import fit_hill
    from igfsim.report.sweep_plots import plot_hill, plot_synergy_map

    meta = sweep.meta
    figs: list[tuple[str, object]] = []
    notes: list[str] = []
    rows: list[dict] = []
    dose_axes = [(a, t) for a, t in zip(meta["axes"], meta["targets"], strict=True) if t.startswith("dose:")]
    if not dose_axes:
        notes.append("no dose axis in this sweep: no dose-response curves")
        return figs, notes, rows
    if meta["design"] != "grid" or meta.get("panel"):
        notes.append(
            f"dose-response curves need a plain grid design (this sweep: {meta['design']}"
            f"{', with a cell panel' if meta.get('panel') else ''}); none drawn"
        )
        return figs, notes, rows
    try:
        if len(meta["axes"]) == 1:  # one axis: the runs are the grid
            grid = sweep.dataset["summary"].swap_dims({"run": meta["axes"][0]}).sortby(meta["axes"][0])
        else:
            grid = sweep.grid()
    except Exception as err:  # noqa: BLE001 - a broken sweep folder gives a note, not a crash
        notes.append(f"cannot read the sweep grid: {err}")
        return figs, notes, rows
    metric = "auc" if "auc" in meta["metrics"] else meta["metrics"][0]
    for axis, target in dose_axes:
        arm = _dose_arm(target, list(meta["arms"]))
        if arm is None:
            notes.append(f"axis {axis} ({target}): no arm to read; skipped")
            continue
        sub = grid.sel(arm=arm, metric=metric)
        others = [d for d in meta["axes"] if d != axis]
        if len(others) > 1:
            sub = sub.isel({d: 0 for d in others[1:]})
            notes.append(f"axis {axis}: curves shown at the first value of {', '.join(others[1:])}")
        levels = list(sub[others[0]].values) if others else [None]
        if len(levels) > MAX_LEVELS:
            idx = np.unique(np.linspace(0, len(levels) - 1, MAX_LEVELS).round().astype(int))
            levels = [levels[i] for i in idx]
            notes.append(f"axis {axis}: {MAX_LEVELS} of the {others[0]} levels shown")
        doses = np.asarray(sub[axis].values, dtype=float)
        for readout in meta["readouts"]:
            ys = [
                np.asarray(
                    (sub.sel({others[0]: lv}) if lv is not None else sub).sel(readout=readout).values, dtype=float
                )
                for lv in levels
            ]
            if not any(_varies(y) for y in ys):
                continue
            ncol = min(3, len(levels))
            nrow = math.ceil(len(levels) / ncol)
            fig = Figure(figsize=(4.2 * ncol, 3.3 * nrow + 0.5), layout="constrained")
            axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
            for ax, lv, y in zip(axes, levels, ys, strict=False):
                fit = fit_hill(doses, y)
                label = f"{others[0]} = {lv:.3g}" if lv is not None else readout
                plot_hill(fit, doses, y, ax=ax, color="#1f77b4", label="simulated")
                ax.set_title(label, fontsize=9)
                ax.set_ylabel(f"{readout} {metric} ({arm})", fontsize=8)
                ax.set_xlabel(f"{axis} (nM)")
                rows.append(
                    {
                        "axis": axis,
                        "arm": arm,
                        "readout": readout,
                        "metric": metric,
                        "level": label,
                        "ic50": fit.ec50,
                        "ci": fit.ec50_ci,
                        "r2": fit.r2,
                        "converged": fit.converged,
                        "message": fit.message,
                    }
                )
            for ax in axes[len(levels) :]:
                ax.set_visible(False)
            fig.suptitle(
                f"{meta['scenario']}: {readout} {metric} against {axis} (arm {arm}); dotted line and diamond: IC50",
                fontsize=10,
            )
            figs.append((f"Dose-response of {readout} ({metric}, arm {arm}) over {axis}", fig))
    if len(dose_axes) >= 2:
        (a, ta), (b, tb) = dose_axes[:2]
        arm = _dose_arm(ta, list(meta["arms"]))
        try:
            from igfsim.analysis.synergy import bliss_excess, effect_from_response

            sub = grid.sel(arm=arm, metric=metric)
            for extra in [d for d in meta["axes"] if d not in (a, b)]:
                sub = sub.isel({extra: 0})
            readout = "pAkt" if "pAkt" in meta["readouts"] else meta["readouts"][0]
            resp = sub.sel(readout=readout).transpose(a, b)
            score = bliss_excess(effect_from_response(resp, dims=(a, b)), dims=(a, b))
            fig = Figure(figsize=(6.5, 5.0), layout="constrained")
            plot_synergy_map(score, ax=fig.add_subplot())
            fig.suptitle(f"{meta['scenario']}: Bliss excess of {readout} {metric} ({a} x {b})", fontsize=10)
            figs.append((f"Synergy heat-map (Bliss) of {readout}", fig))
        except (ValueError, KeyError) as err:
            notes.append(f"no synergy heat-map for {a} x {b}: {err}")
    elif not figs:
        notes.append(f"no readout varies with the dose (metric {metric}): no dose-response curves")
    return figs, notes, rows
