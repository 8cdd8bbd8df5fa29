"""Interactive time-course figures for the HTML report (plotly, embedded offline).

:func:`timecourse_html` gives one figure as an HTML fragment without plotly.js; the report embeds
:func:`plotly_js` once in its ``<head>``, so the file stays self-contained (no network). The figure
shows what the static one shows (the readouts the scenario is about, solver noise drawn as 0, the
stimulus and treatments marked) with hover values, zoom and arms that can be hidden from the legend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from igfsim.report.plots import arm_colors, clip_noise, figure_readouts, scenario_marks
from igfsim.result.scenario_result import ScenarioResult

if TYPE_CHECKING:
    from igfsim.scenario.schema import Scenario

#: panels per row
NCOL = 3


def plotly_js() -> str:
    """The plotly.js library, to embed once in a page that holds :func:`timecourse_html` fragments."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def timecourse_html(
    result: ScenarioResult,
    *,
    scenario: Scenario | None = None,
    readouts: Sequence[str] | None = None,
    groups: Mapping[str, str] | None = None,
    div_id: str | None = None,
) -> str:
    """One interactive figure (a panel per readout, a line per arm) as an HTML ``<div>`` and its script."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if readouts is None:
        readouts = figure_readouts(scenario, result) if scenario is not None else list(result.readouts)
    groups = dict(groups or {})
    names = [f"{r} · {groups[r]}" if groups.get(r) else r for r in readouts]
    nrow = math.ceil(len(readouts) / NCOL)
    fig = make_subplots(rows=nrow, cols=min(NCOL, len(readouts)), subplot_titles=names, shared_xaxes=False)
    colors = arm_colors(result.arms)
    marks, labels = scenario_marks(scenario) if scenario is not None else ([], {})
    for k, readout in enumerate(readouts):
        row, col = k // NCOL + 1, k % NCOL + 1
        unit = result.units.get(readout, "")
        for arm in result.arms:
            fig.add_trace(
                go.Scatter(
                    x=list(map(float, result.times)),
                    y=[float(v) for v in clip_noise(result.get(arm, readout))],
                    mode="lines",
                    name=labels.get(arm, arm),
                    legendgroup=arm,
                    showlegend=k == 0,
                    line={"color": colors[arm], "width": 1.6},
                    hovertemplate=f"{arm}<br>%{{x:.4g}} {result.time_units}<br>{readout} %{{y:.4g}} {unit}"
                    "<extra></extra>",
                ),
                row=row,
                col=col,
            )
        for m in marks:
            if float(result.times[0]) <= m.time <= float(result.times[-1]):
                color = "#777777" if m.arm is None else colors.get(m.arm, "#777777")
                fig.add_vline(x=m.time, line={"color": color, "width": 1, "dash": "dot"}, row=row, col=col)
        fig.update_xaxes(title_text=f"time [{result.time_units}]", row=row, col=col)
        fig.update_yaxes(title_text=unit, row=row, col=col, rangemode="tozero")
    fig.update_layout(
        height=300 * nrow + 120,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.12},
        template="simple_white",
        title={"text": f"{result.scenario} ({result.engine}): hover for values, click an arm to hide it"},
    )
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False})
