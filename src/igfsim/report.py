"""Plots: plain functions that draw onto a given matplotlib Axes (matplotlib imported lazily)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .result import ScenarioResult


def arm_colors(arms: Sequence[str]) -> dict[str, str]:
    """A fixed colour per arm (order of appearance), consistent across panels."""
    palette = ["#1b1b1b", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
               "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
    return {a: palette[i % len(palette)] for i, a in enumerate(arms)}


def plot_timecourse(result: ScenarioResult, readout: str, *, ax=None, colors: dict | None = None):
    """Draw one readout, one line per arm, onto ``ax`` (a new Axes if none) and return it."""
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(4, 3)).add_subplot()
    colors = colors or arm_colors(result.arms)
    for arm in result.arms:
        ax.plot(result.times, result.get(arm, readout), label=arm, color=colors[arm], lw=1.5)
    ax.set_title(readout, fontsize=10)
    ax.set_xlabel(f"time [{result.time_units}]")
    ax.set_ylabel(f"{readout} [{result.units.get(readout, '')}]", fontsize=8)
    ax.grid(alpha=0.3)
    ax.ticklabel_format(axis="y", useOffset=False)
    return ax


def plot_scenario(result: ScenarioResult, readouts: Sequence[str] | None = None, *, title: str = ""):
    """A figure with one panel per readout and a shared legend of arms."""
    from matplotlib.figure import Figure

    readouts = list(readouts or result.readouts)
    ncol = min(4, len(readouts))
    nrow = math.ceil(len(readouts) / ncol)
    fig = Figure(figsize=(3.6 * ncol, 2.8 * nrow + 0.8), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    colors = arm_colors(result.arms)
    for ax, r in zip(axes, readouts, strict=False):
        plot_timecourse(result, r, ax=ax, colors=colors)
    for ax in axes[len(readouts):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6), fontsize=8)
    fig.suptitle(title or f"{result.scenario} ({result.engine})", fontsize=11)
    return fig
