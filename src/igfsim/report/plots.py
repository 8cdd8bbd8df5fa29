"""Plots: plain functions that draw onto a given matplotlib Axes (matplotlib imported lazily)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from igfsim.result.scenario_result import ScenarioResult


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
    for ax in axes[len(readouts) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6), fontsize=8)
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
