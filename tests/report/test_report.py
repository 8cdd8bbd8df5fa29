"""Figures: one panel per readout, one line per arm, labelled axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import igfsim  # noqa: E402
from igfsim.report.plots import plot_scenario, plot_timecourse  # noqa: E402
from igfsim.scenario.readouts import unit_of  # noqa: E402


@pytest.fixture(scope="module")
def result(igf_model):
    sc = igfsim.parse_scenario(
        {
            "name": "plots",
            "title": "plots",
            "simulation": {"duration_min": 30, "points": 31},
            "stimulus": {"IGF1": 10},
            "readouts": ["pIGF1R", "pAkt", "IGF1R_total", "PROLIF", "IGF1"],
            "arms": [
                {"name": "control"},
                {"name": "cixutumumab", "treatments": [{"drug": "cixutumumab", "dose_nM": 100}]},
                {"name": "linsitinib", "treatments": [{"drug": "linsitinib", "dose_nM": 1000}]},
            ],
        },
        "plots",
    )
    return igfsim.run_scenario(sc, igf_model)


@pytest.fixture
def figure(result):
    fig = plot_scenario(result, title="test figure")
    yield fig
    plt.close(fig)


def test_plot_scenario_returns_a_figure(figure):
    assert isinstance(figure, Figure)


def test_one_visible_axes_per_readout(figure, result):
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == list(result.readouts)


def test_each_panel_has_one_line_per_arm(figure, result):
    for ax in (a for a in figure.axes if a.get_visible()):
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == list(result.arms)
        readout = ax.get_title()
        for ln, arm in zip(lines, result.arms, strict=True):
            np.testing.assert_array_equal(ln.get_xdata(), result.times)
            np.testing.assert_array_equal(ln.get_ydata(), result.get(arm, readout))


def test_axis_labels_carry_time_and_unit(figure, result):
    for ax in (a for a in figure.axes if a.get_visible()):
        assert ax.get_xlabel() == "time [min]"
        readout = ax.get_title()
        assert result.units[readout] == unit_of(readout, igfsim.load_model())
        assert result.units[readout] in ax.get_ylabel() and readout in ax.get_ylabel()
    assert result.units["IGF1"] == "nM" and result.units["pAkt"] == "fraction of pool"


def test_legend_names_every_arm(figure, result):
    texts = [t.get_text() for leg in figure.legends for t in leg.get_texts()]
    assert texts == list(result.arms)


def test_figure_renders(figure, tmp_path):
    figure.savefig(tmp_path / "f.png", dpi=40)
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")


def test_plot_timecourse_on_given_axes(result):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_timecourse(result, "pAkt", ax=ax) is ax
    assert len(ax.get_lines()) == len(result.arms)
    plt.close(fig)


def test_subset_of_readouts(result):
    fig = plot_scenario(result, ["pAkt"])
    try:
        assert [a.get_title() for a in fig.axes if a.get_visible()] == ["pAkt"]
    finally:
        plt.close(fig)
