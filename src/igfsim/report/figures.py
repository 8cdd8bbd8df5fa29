"""Figures of the HTML report, built from run and sweep results (matplotlib imported lazily).

Every panel is drawn by a plain function that draws onto a given Axes
(:func:`igfsim.report.plot_timecourse`, :func:`igfsim.report.plot_agreement`,
:func:`igfsim.report.sweep_plots.plot_hill`, :func:`igfsim.report.sweep_plots.plot_synergy_map`); the
functions here only lay those panels out on figures and return ``(caption, Figure)`` pairs or notes.
"""

from __future__ import annotations

import base64
import io
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from igfsim.result.scenario_result import ScenarioResult
from igfsim.scenario.catalog import load_catalog
from igfsim.scenario.targets import ALL_ARMS, TargetKind, dose_arms, parse_target, same_drug

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from igfsim.analysis.consistency import ScenarioConsistency
    from igfsim.scenario.schema import Scenario
    from igfsim.sweep.result import SweepResult

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


def to_png(fig: Figure, dpi: int = DPI) -> Png:
    """Render ``fig`` to an embeddable PNG (about ``figsize * dpi`` pixels; the size is read back)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    raw = buf.getvalue()
    w, h = struct.unpack(">II", raw[16:24])  # the IHDR chunk: the size as rendered
    return Png(base64.b64encode(raw).decode("ascii"), int(w), int(h))


def timecourse_figure(
    result: ScenarioResult, title: str = "", scenario: Scenario | None = None, groups: Mapping[str, str] | None = None
) -> Figure:
    """One panel per readout, one line per arm (colours fixed per arm across panels); with the scenario,
    the readouts it is about with its treatments marked (:func:`igfsim.report.plots.plot_scenario`)."""
    from igfsim.report.plots import plot_scenario

    return plot_scenario(
        result, title=title or f"{result.scenario} ({result.engine})", scenario=scenario, groups=groups
    )


def agreement_figure(consistency: ScenarioConsistency) -> Figure:
    """The Boolean/ODE agreement grid of a :class:`~igfsim.analysis.consistency.ScenarioConsistency`."""
    from matplotlib.figure import Figure

    from igfsim.report.plots import plot_agreement

    readouts = sorted({n.readout for n in consistency.nodes}, key=[n.readout for n in consistency.nodes].index)
    arms = sorted({n.arm for n in consistency.nodes}, key=[n.arm for n in consistency.nodes].index)
    fig = Figure(figsize=(max(4.0, 0.55 * len(readouts) + 2.5), 0.45 * len(arms) + 1.8), layout="constrained")
    plot_agreement(consistency.nodes, ax=fig.add_subplot())
    fig.suptitle(f"{consistency.scenario}: Boolean attractor vs ODE end state", fontsize=10)
    return fig


def dose_axis_arms(target: str, arms: Sequence[str], scenario: Mapping[str, Any] | None = None) -> list[str]:
    """The arms whose dose a sweep's ``dose:`` axis changes, in sweep order: the arms the report draws.

    The target is read with the one target grammar (:func:`igfsim.scenario.targets.parse_target`):

    * ``dose:<arm>/<drug>`` changes its arm (none when the sweep has no arm of that name);
    * ``dose:*/<drug>`` changes every arm with a treatment of that drug (that is how a sweep applies it).
      With the sweep's scenario (the ``scenario`` of its ``sweep.json``) exactly those arms are drawn;
      without it every arm is, and an arm the dose does not change drops out later because its curves
      do not vary with the dose.

    A target that does not parse as a dose target, or names an unknown drug, gives no arm.
    """
    try:
        target_ = parse_target(target, (TargetKind.DOSE,))
    except ValueError:
        return []
    named = dose_arms(target_, list(arms))
    if target_.arm != ALL_ARMS or scenario is None:
        return named
    files = scenario.get("catalog") or ()
    catalog = load_catalog([files] if isinstance(files, str) else [str(f) for f in files])
    drug = catalog.find_drug(target_.drug)
    if drug is None:
        return []
    treated = {
        str(arm.get("name"))
        for arm in scenario.get("arms") or []
        if isinstance(arm, Mapping)
        and any(
            isinstance(t, Mapping) and same_drug(str(t.get("drug")), drug.name, catalog)
            for t in arm.get("treatments") or []
        )
    }
    return [a for a in named if a in treated]


def _varies(y: np.ndarray) -> bool:
    y = y[np.isfinite(y)]
    return y.size > 2 and float(np.ptp(y)) > 1e-6 * max(1.0, float(np.max(np.abs(y))))


@dataclass(frozen=True)
class IC50Row:
    """One row of the report's IC50 table: the Hill fit of one readout's metric against one dose axis,
    in one arm, at one level of the other axis."""

    axis: str
    arm: str
    readout: str
    metric: str
    level: str
    ic50: float
    ci: tuple[float, float]
    r2: float
    converged: bool
    message: str
    #: the fitted change at a saturating dose, as a fraction of the untreated level (-0.05: 5 % removed)
    emax: float = math.nan
    #: what the response is divided by: "dose 0", "arm <name>", or "" (raw values)
    reference: str = ""


@dataclass
class _SweepFigures:
    """What :func:`sweep_figures` collects, in page order."""

    figures: list[tuple[str, Figure]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: list[IC50Row] = field(default_factory=list)


def sweep_figures(
    sweep: SweepResult, scenario: Mapping[str, Any] | None = None
) -> tuple[list[tuple[str, Figure]], list[str], list[IC50Row]]:
    """Dose-response figures (Hill fit and IC50 per readout, one panel per level of the other axis) and
    synergy heat-maps of a :class:`~igfsim.sweep.SweepResult`.

    ``scenario`` is the sweep's scenario as stored in its ``sweep.json``; it tells which arms a
    ``dose:*/<drug>`` axis changes (see :func:`dose_axis_arms`). Each dose axis gets its figures per
    arm it changes; the synergy heat-map of the first two dose axes is drawn for the first arm both change.

    Returns ``(figures, notes, ic50_rows)``; a figure that cannot be made becomes a note.
    """
    meta = sweep.meta
    out = _SweepFigures()
    dose_axes = [(a, t) for a, t in zip(meta["axes"], meta["targets"], strict=True) if t.startswith("dose:")]
    problem = _dose_design_problem(meta, bool(dose_axes))
    if problem:
        out.notes.append(problem)
        return out.figures, out.notes, out.rows
    try:
        grid = _summary_grid(sweep)
    except Exception as err:  # noqa: BLE001 - a broken sweep folder gives a note, not a crash
        out.notes.append(f"cannot read the sweep grid: {err}")
        return out.figures, out.notes, out.rows
    metric = "auc" if "auc" in meta["metrics"] else meta["metrics"][0]
    arms = {axis: dose_axis_arms(target, list(meta["arms"]), scenario) for axis, target in dose_axes}
    for axis, target in dose_axes:
        if not arms[axis]:
            out.notes.append(f"axis {axis} ({target}): no arm to read; skipped")
            continue
        _dose_response(grid, meta, axis, arms[axis], metric, out, untreated_arm(list(meta["arms"]), scenario))
    if len(dose_axes) >= 2:
        (a, _), (b, _) = dose_axes[:2]
        _synergy_map(grid, meta, (a, b), [x for x in arms[a] if x in arms[b]], metric, out)
    elif not out.figures:
        out.notes.append(f"no readout varies with the dose (metric {metric}): no dose-response curves")
    return out.figures, out.notes, out.rows


def _dose_design_problem(meta: dict, has_dose_axis: bool) -> str:
    """Why no dose-response curves can be drawn for this sweep ("" when they can)."""
    if not has_dose_axis:
        return "no dose axis in this sweep: no dose-response curves"
    if meta["design"] != "grid" or meta.get("panel"):
        return (
            f"dose-response curves need a plain grid design (this sweep: {meta['design']}"
            f"{', with a cell panel' if meta.get('panel') else ''}); none drawn"
        )
    return ""


def _summary_grid(sweep: SweepResult):
    """The summary as a grid over the axes (one axis: the runs, sorted by its value)."""
    meta = sweep.meta
    if len(meta["axes"]) == 1:
        return sweep.dataset["summary"].swap_dims({"run": meta["axes"][0]}).sortby(meta["axes"][0])
    return sweep.grid()


def untreated_arm(arms: Sequence[str], scenario: Mapping[str, Any] | None) -> str | None:
    """The first arm of the sweep that its scenario gives no treatment (the untreated reference), or None."""
    if scenario is None:
        return None
    given = {
        str(a.get("name")): bool(a.get("treatments")) for a in scenario.get("arms") or [] if isinstance(a, Mapping)
    }
    return next((a for a in arms if given.get(a) is False), None)


def _dose_response(
    grid, meta: dict, axis: str, arms: list[str], metric: str, out: _SweepFigures, untreated: str | None = None
) -> None:
    """One figure per arm and readout that varies along dose axis ``axis``, one panel per level of the
    next axis (further axes at their first value, at most ``MAX_LEVELS`` levels). Each curve is divided
    by its untreated level (dose 0 of the axis, else the ``untreated`` arm at the same level)."""
    sub = grid.sel(metric=metric)
    others = [d for d in meta["axes"] if d != axis]
    if len(others) > 1:
        sub = sub.isel({d: 0 for d in others[1:]})
        out.notes.append(f"axis {axis}: curves shown at the first value of {', '.join(others[1:])}")
    levels = list(sub[others[0]].values) if others else [None]
    if len(levels) > MAX_LEVELS:
        idx = np.unique(np.linspace(0, len(levels) - 1, MAX_LEVELS).round().astype(int))
        levels = [levels[i] for i in idx]
        out.notes.append(f"axis {axis}: {MAX_LEVELS} of the {others[0]} levels shown")
    doses = np.asarray(sub[axis].values, dtype=float)
    other = others[0] if others else None
    for arm in arms:
        for readout in meta["readouts"]:
            at = sub.sel(arm=arm, readout=readout)
            ys = [np.asarray((at.sel({other: lv}) if other else at).values, dtype=float) for lv in levels]
            if not any(_varies(y) for y in ys):
                continue
            refs, reference = _references(sub, readout, doses, ys, levels, other, untreated)
            curves = [(lv, y / r if np.isfinite(r) and r > 0 else y) for lv, y, r in zip(levels, ys, refs, strict=True)]
            _hill_figure(meta, axis, arm, readout, metric, doses, curves, other, out, reference)


def _references(sub, readout: str, doses, ys, levels, other, untreated: str | None) -> tuple[list[float], str]:
    """Each curve's untreated level and what it is: dose 0 of the axis, else the untreated arm; NaN and ""
    when there is neither (the curves stay raw)."""
    zero = doses == 0
    if zero.any():
        return [float(np.nanmean(y[zero])) for y in ys], "dose 0"
    if untreated is not None and untreated in sub.arm.values:
        base = sub.sel(arm=untreated, readout=readout)
        refs = [float(np.nanmean((base.sel({other: lv}) if other else base).values)) for lv in levels]
        return refs, f"arm {untreated}"
    return [math.nan] * len(ys), ""


def _hill_figure(
    meta: dict,
    axis: str,
    arm: str,
    readout: str,
    metric: str,
    doses: np.ndarray,
    curves: list[tuple[Any, np.ndarray]],
    other: str | None,
    out: _SweepFigures,
    reference: str = "",
) -> None:
    """The dose-response figure of one readout in one arm: a Hill fit per ``(level, response)`` curve, on
    one y-range for every panel (0 to at least the untreated level 1 when normalised)."""
    from matplotlib.figure import Figure

    from igfsim.analysis.doseresponse import fit_hill
    from igfsim.report.sweep_plots import plot_hill

    ncol = min(3, len(curves))
    nrow = math.ceil(len(curves) / ncol)
    fig = Figure(figsize=(4.2 * ncol, 3.3 * nrow + 0.5), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    finite = [float(np.nanmax(y)) for _, y in curves if np.isfinite(y).any()]
    top = max([1.0 if reference else 0.0, *finite]) * 1.08 or 1.0
    for ax, (lv, y) in zip(axes, curves, strict=False):
        fit = fit_hill(doses, y)
        label = f"{other} = {lv:.3g}" if lv is not None else readout
        plot_hill(fit, doses, y, ax=ax, color="#1f77b4", label="simulated")
        if reference:
            ax.axhline(1.0, color="0.5", lw=0.8, ls="--", zorder=0)
        ax.set_ylim(0.0, top)
        emax = fit.emax if fit.converged and reference else math.nan
        ax.set_title(label + (f"; Emax {emax:+.0%} of untreated" if np.isfinite(emax) else ""), fontsize=9)
        unit = f"/ untreated ({reference})" if reference else f"({arm})"
        ax.set_ylabel(f"{readout} {metric} {unit}", fontsize=8)
        ax.set_xlabel(f"{axis} (nM)")
        out.rows.append(
            IC50Row(
                axis,
                arm,
                readout,
                metric,
                label,
                fit.ec50,
                fit.ec50_ci,
                fit.r2,
                fit.converged,
                fit.message,
                emax,
                reference,
            )
        )
    for ax in axes[len(curves) :]:
        ax.set_visible(False)
    scale = f", relative to the untreated level ({reference})" if reference else " (raw values: no untreated level)"
    fig.suptitle(
        f"{meta['scenario']}: {readout} {metric} against {axis} (arm {arm}){scale}; dotted line and diamond: IC50",
        fontsize=10,
    )
    out.figures.append((f"Dose-response of {readout} ({metric}, arm {arm}) over {axis}", fig))


def _synergy_map(grid, meta: dict, dims: tuple[str, str], arms: list[str], metric: str, out: _SweepFigures) -> None:
    """The Bliss excess heat-map of two dose axes, in the first arm whose doses both change (further
    axes at their first value); a note when there is none or it cannot be computed."""
    from matplotlib.figure import Figure

    from igfsim.analysis.synergy import bliss_excess, effect_from_response
    from igfsim.report.sweep_plots import plot_synergy_map

    a, b = dims
    if not arms:
        out.notes.append(f"no synergy heat-map for {a} x {b}: no arm takes both doses")
        return
    try:
        sub = grid.sel(arm=arms[0], metric=metric)
        for extra in [d for d in meta["axes"] if d not in (a, b)]:
            sub = sub.isel({extra: 0})
        readout = "pAkt" if "pAkt" in meta["readouts"] else meta["readouts"][0]
        resp = sub.sel(readout=readout).transpose(a, b)
        score = bliss_excess(effect_from_response(resp, dims=(a, b)), dims=(a, b))
        fig = Figure(figsize=(6.5, 5.0), layout="constrained")
        plot_synergy_map(score, ax=fig.add_subplot())
        fig.suptitle(f"{meta['scenario']}: Bliss excess of {readout} {metric} ({a} x {b})", fontsize=10)
        out.figures.append((f"Synergy heat-map (Bliss) of {readout}", fig))
    except (ValueError, KeyError) as err:
        out.notes.append(f"no synergy heat-map for {a} x {b}: {err}")
