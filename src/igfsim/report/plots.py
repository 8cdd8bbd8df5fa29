"""Plots: plain functions that draw onto a given matplotlib Axes (matplotlib imported lazily)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from igfsim.result.scenario_result import ScenarioResult

if TYPE_CHECKING:
    from igfsim.scenario.schema import Scenario


def arm_colors(arms: Sequence[str]) -> dict[str, str]:
    """A fixed colour per arm (order of appearance), consistent across panels."""
    palette = [
        "#1b1b1b",
        "#d62728",
        "#1f77b4",
        "#2ca02c",
        "#9467bd",
        "#ff7f0e",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
        "#7f7f7f",
    ]
    return {a: palette[i % len(palette)] for i, a in enumerate(arms)}


#: values closer to zero than this (in the readout's own unit) are drawn as 0: they are solver round-off
#: (e.g. -3.7e-33 for a receptor that is absent), not data. Written outputs (CSV, xarray) keep them.
NOISE_FLOOR = 1e-9
#: the units of readouts that live in 0..1 (their axes start at 0)
_BOUNDED_UNITS = ("fraction of pool", "index 0..1", "activity 0..1")


@dataclass(frozen=True)
class TimeMark:
    """A time a panel marks: the stimulus (all arms), or a drug given, washed out or a species added
    (one arm, drawn in its colour)."""

    time: float
    label: str
    arm: str | None = None
    kind: Literal["stimulus", "start", "stop", "addition"] = "start"


def clip_noise(y):
    """``y`` with values within :data:`NOISE_FLOOR` of zero set to 0."""
    import numpy as np

    y = np.asarray(y, dtype=float)
    return np.where(np.abs(y) < NOISE_FLOOR, 0.0, y)


_STYLE = {"stimulus": (0, (4, 3)), "start": (0, (1, 2)), "stop": (0, (5, 2, 1, 2)), "addition": (0, (1, 1))}


def plot_timecourse(
    result: ScenarioResult,
    readout: str,
    *,
    ax=None,
    colors: dict | None = None,
    marks: Sequence[TimeMark] = (),
    labels: dict | None = None,
    title: str | None = None,
):
    """Draw one readout, one line per arm, onto ``ax`` (a new Axes if none) and return it.

    Values within :data:`NOISE_FLOOR` of zero are drawn as 0, a readout bounded to 0..1 gets an axis
    from 0, and each of ``marks`` within the time axis is a vertical line (the stimulus grey, a
    treatment in its arm's colour). ``labels`` (arm -> legend text) default to the arm names."""
    import numpy as np

    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(4, 3)).add_subplot()
    colors = colors or arm_colors(result.arms)
    labels = labels or {}
    top = 0.0
    for arm in result.arms:
        y = clip_noise(result.get(arm, readout))
        top = max(top, float(np.nanmax(y)) if np.isfinite(y).any() else 0.0)
        ax.plot(result.times, y, label=labels.get(arm, arm), color=colors[arm], lw=1.5)
    unit = result.units.get(readout, "")
    if unit in _BOUNDED_UNITS:
        ax.set_ylim(0.0, max(0.05, 1.08 * top))
    t0, t1 = float(result.times[0]), float(result.times[-1])
    for m in marks:
        if t0 <= m.time <= t1:
            color = "0.45" if m.arm is None else colors.get(m.arm, "0.45")
            ax.axvline(m.time, color=color, ls=_STYLE[m.kind], lw=0.9, alpha=0.8, zorder=0)
    ax.set_title(title or readout, fontsize=10)
    ax.set_xlabel(f"time [{result.time_units}]")
    ax.set_ylabel(f"{readout} [{unit}]", fontsize=8)
    ax.grid(alpha=0.3)
    ax.ticklabel_format(axis="y", useOffset=False)
    return ax


def figure_readouts(scenario: Scenario, result: ScenarioResult) -> list[str]:
    """The readouts a scenario's figure shows: those its file lists, else those its expectations,
    observations and data read; all recorded ones when it names none."""
    named = list(scenario.readouts or [])
    named += [e.readout for e in scenario.expect] + [o.readout for o in scenario.observations]
    named += [r for d in scenario.data for r in d.readouts()]
    chosen = [r for r in dict.fromkeys(named) if r in result.readouts]
    return chosen or list(result.readouts)


def scenario_marks(scenario: Scenario) -> tuple[list[TimeMark], dict[str, str]]:
    """The stimulus and each arm's treatments and additions as :class:`TimeMark` s, and each arm's
    legend text (its name and what it is given, with pre-treatments before the time axis)."""
    marks: list[TimeMark] = []
    if scenario.stimulus or any(a.stimulus for a in scenario.arms):
        marks.append(TimeMark(0.0, "stimulus", None, "stimulus"))
    labels = {}
    for arm in scenario.arms:
        given = []
        for tr in arm.treatments:
            when = f" from {tr.start_min:g} min" if tr.start_min else ""
            until = f" to {tr.stop_min:g} min" if tr.stop_min is not None else ""
            given.append(f"{tr.drug} {tr.dose_nM:g} nM{when}{until}")
            if tr.start_min > 0:
                marks.append(TimeMark(tr.start_min, f"{tr.drug} added", arm.name, "start"))
            if tr.stop_min is not None:
                marks.append(TimeMark(tr.stop_min, f"{tr.drug} washed out", arm.name, "stop"))
        for add in arm.additions:
            given.append(f"+{add.nM:g} nM {add.species} at {add.minute:g} min")
            marks.append(TimeMark(float(add.minute), f"{add.species} added", arm.name, "addition"))
        labels[arm.name] = arm.name + (f" ({'; '.join(given)})" if given else "")
    return marks, labels


def plot_scenario(
    result: ScenarioResult,
    readouts: Sequence[str] | None = None,
    *,
    title: str = "",
    scenario: Scenario | None = None,
    groups: Mapping[str, str] | None = None,
):
    """A figure with one panel per readout and a shared legend of arms.

    With ``scenario``: only the readouts it is about (:func:`figure_readouts`, unless ``readouts``
    says which), the stimulus and treatments marked (:func:`scenario_marks`) and what each arm is
    given in the legend. ``groups`` (readout -> group, e.g. the model mapping's) orders the panels
    by group and names the group in each panel's title."""
    from matplotlib.figure import Figure

    if readouts is None:
        readouts = figure_readouts(scenario, result) if scenario is not None else list(result.readouts)
    readouts = list(readouts)
    groups = dict(groups or {})
    order = list(dict.fromkeys(groups.get(r, "") for r in readouts))
    readouts.sort(key=lambda r: order.index(groups.get(r, "")))
    marks, labels = scenario_marks(scenario) if scenario is not None else ([], {})
    ncol = min(4, len(readouts))
    nrow = math.ceil(len(readouts) / ncol)
    fig = Figure(figsize=(3.6 * ncol, 2.8 * nrow + 0.8 + 0.18 * len(result.arms)), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    colors = arm_colors(result.arms)
    for ax, r in zip(axes, readouts, strict=False):
        name = f"{r} · {groups[r]}" if groups.get(r) else r
        plot_timecourse(result, r, ax=ax, colors=colors, marks=marks, labels=labels, title=name)
    for ax in axes[len(readouts) :]:
        ax.set_visible(False)
    handles, legend = axes[0].get_legend_handles_labels()
    if marks:
        from matplotlib.lines import Line2D

        kinds = list(dict.fromkeys(m.kind for m in marks))
        words = {"stimulus": "stimulus (t = 0)", "start": "drug added", "stop": "drug washed out", "addition": "added"}
        handles += [Line2D([], [], color="0.45", ls=_STYLE[k], lw=0.9) for k in kinds]
        legend += [words[k] for k in kinds]
    fig.legend(handles, legend, loc="outside lower center", ncol=min(len(legend), 3), fontsize=8)
    fig.suptitle(title or f"{result.scenario} ({result.engine})", fontsize=11)
    return fig


def plot_agreement(nodes, *, ax=None):
    """Draw the Boolean/ODE agreement grid (arms x readouts) of
    :class:`~igfsim.consistency.NodeComparison` rows onto ``ax`` (a new Axes if none): green where the
    discretised ODE end state equals the Boolean attractor, red where they differ; each cell is labelled
    ``ODE value / Boolean value``."""
    import numpy as np

    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(6, 3)).add_subplot()
    nodes = list(nodes)
    arms = list(dict.fromkeys(n.arm for n in nodes))
    readouts = list(dict.fromkeys(n.readout for n in nodes))
    grid = np.full((len(arms), len(readouts)), np.nan)
    for n in nodes:
        i, j = arms.index(n.arm), readouts.index(n.readout)
        grid[i, j] = 1.0 if n.agree else 0.0
        ax.text(j, i, f"{n.ode_value:.2f}\n{n.boolean_value:.2f}", ha="center", va="center", fontsize=6)
    from matplotlib.colors import ListedColormap

    ax.imshow(np.ma.masked_invalid(grid), cmap=ListedColormap(["#f4a6a6", "#a8d8a8"]), vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(readouts)), readouts, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(arms)), arms, fontsize=7)
    ax.set_title("ODE end value / Boolean attractor (green agree, red differ)", fontsize=8)
    return ax
