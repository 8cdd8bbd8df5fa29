"""Presentation: plots drawn on a given Axes, report figures, the HTML report, run folders, generated docs.

matplotlib is imported inside the plotting functions, so importing this package stays headless and fast.
"""

from __future__ import annotations

from igfsim.report.plots import arm_colors, plot_agreement, plot_scenario, plot_timecourse

__all__ = ["arm_colors", "plot_agreement", "plot_scenario", "plot_timecourse"]
