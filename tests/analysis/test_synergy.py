"""Synergy scores on textbook dose grids (sign convention: positive = synergy)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from igfsim.analysis.synergy import (
    bliss_excess,
    combination_index,
    effect_from_response,
    hsa_excess,
    loewe_excess,
    loewe_expected,
    synergy_scores,
    synergy_summary,
    zip_delta,
)

DA = np.r_[0.0, np.logspace(0, 3, 6)]
DB = np.r_[0.0, np.logspace(0, 3, 5)]


def hill_effect(d, ec50, h, emax=1.0):
    """Rising single-agent effect, 0 at dose 0."""
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(d > 0, emax / (1.0 + (ec50 / np.where(d > 0, d, 1.0)) ** h), 0.0)


def grid(values, da=DA, db=DB):
    return xr.DataArray(values, dims=("dose_a", "dose_b"), coords={"dose_a": da, "dose_b": db})


def mesh(da=DA, db=DB):
    return np.meshgrid(da, db, indexing="ij")


def interior(score):
    return score.values[1:, 1:]


def bliss_grid():
    a, b = mesh()
    ea, eb = hill_effect(a, 30.0, 1.5), hill_effect(b, 100.0, 0.8, 0.9)
    return grid(ea + eb - ea * eb)


def sham_grid(h, da=DA, db=DB):
    """A drug combined with itself: E(a, b) = E(a + b) on one Hill curve."""
    a, b = mesh(da, db)
    return grid(hill_effect(a + b, 30.0, h), da, db)


def test_bliss_independence_gives_zero():
    s = bliss_excess(bliss_grid())
    assert s.shape == (DA.size, DB.size) and s.dims == ("dose_a", "dose_b")
    np.testing.assert_allclose(s.values, 0.0, atol=1e-12)
    assert s.attrs["mean"] == pytest.approx(0.0, abs=1e-12) and "positive = synergy" in s.attrs["sign_convention"]
    # ZIP's reference is Bliss on fitted single agents: also ~0 on a Bliss-independent Hill grid
    np.testing.assert_allclose(zip_delta(bliss_grid()).values, 0.0, atol=1e-6)


def test_hsa_with_a_dominant_single_agent():
    a, b = mesh()
    ea = hill_effect(a, 10.0, 1.0)  # potent, efficacious
    eb = hill_effect(b, 1e5, 1.0, 0.05)  # nearly inert
    s = hsa_excess(grid(np.maximum(ea, eb)))
    np.testing.assert_allclose(s.values, 0.0, atol=1e-15)  # no better than the dominant agent
    s2 = hsa_excess(grid(np.maximum(ea, eb) + 0.01 * (a > 0) * (b > 0)))
    np.testing.assert_allclose(interior(s2), 0.01, atol=1e-12)
    # the dominant agent alone sets the reference: Bliss credits the inert drug, HSA does not
    combo = grid(ea + eb - ea * eb)
    assert np.all(interior(hsa_excess(combo)) >= 0) and np.all(interior(bliss_excess(combo)) <= 1e-15)


@pytest.mark.parametrize("h", [0.7, 1.0, 2.5])
def test_loewe_sham_combination_is_additive(h):
    g = sham_grid(h)
    s = loewe_excess(g)
    vals = s.values[np.isfinite(s.values)]
    assert vals.size == s.size  # everything is within the fitted range here
    np.testing.assert_allclose(vals, 0.0, atol=1e-6)
    np.testing.assert_allclose(combination_index(g).values[1:, 1:], 1.0, rtol=1e-6)
    np.testing.assert_allclose(loewe_expected(g).values, g.values, atol=1e-6)


def test_bliss_of_the_sham_combination_follows_theory():
    # h = 1: u(a+b) = c/(c+a+b) > u(a) u(b) = c^2/((c+a)(c+b)) since (c+a)(c+b) = c(c+a+b) + ab:
    # a hyperbolic drug with itself is Bliss-antagonistic in every interior cell
    assert np.all(interior(bliss_excess(sham_grid(1.0))) < 0)
    # h = 2.5: at low doses E ~ ((a+b)/c)^h > (a/c)^h + (b/c)^h: a steep drug with itself looks Bliss-synergistic
    low = np.r_[0.0, 1.0, 2.0, 4.0]
    assert np.all(interior(bliss_excess(sham_grid(2.5, low, low))) > 0)
    # exponential (first-order) kill, E = 1 - exp(-k d): Loewe additivity and Bliss independence coincide
    a, b = mesh()
    expo = grid(1 - np.exp(-(a + b) / 50.0))
    np.testing.assert_allclose(bliss_excess(expo).values, 0.0, atol=1e-12)


def test_synergistic_textbook_grid_is_positive_for_every_score():
    # a concave isobole: each drug potentiates the other, E = E1(a + b + 3 sqrt(ab)) (h = 2)
    a, b = mesh()
    g = grid(hill_effect(a + b + 3.0 * np.sqrt(a * b), 30.0, 2.0))
    scores = synergy_scores(g)
    for name in ("bliss", "hsa", "loewe", "zip"):
        s = scores[name]
        assert s.attrs["mean"] > 0.02, name
        assert s.attrs["max"] > 0.2, name
    assert np.nanmax(combination_index(g).values) < 1.0
    antag = grid(hill_effect(a + b - 0.9 * np.sqrt(a * b), 30.0, 2.0))
    assert loewe_excess(antag).attrs["mean"] < 0 and hsa_excess(antag).attrs["min"] < 0


def test_loewe_nan_beyond_single_agent_emax():
    a, b = mesh()
    ea, eb = hill_effect(a, 10.0, 1.0, 0.4), hill_effect(b, 10.0, 1.0, 0.9)  # a plateaus at 40 %, b at 90 %
    g = grid(ea + eb - ea * eb)
    s = loewe_excess(g)
    assert np.isnan(s.values).any() and np.isfinite(s.values).any()
    partial = loewe_excess(g, beyond_emax="partial")
    assert np.isfinite(partial.values).sum() >= np.isfinite(s.values).sum()
    with pytest.raises(ValueError, match="beyond_emax"):
        loewe_excess(g, beyond_emax="clip")


def test_effect_from_response_extra_dims_and_validation():
    a, b = mesh()
    viab = 2.0 * (1 - hill_effect(a, 30.0, 1.0)) * (1 - hill_effect(b, 50.0, 1.0))
    resp = xr.concat([grid(viab), grid(viab * 0.5)], dim=xr.DataArray(["x", "y"], dims="readout"))
    eff = effect_from_response(resp, dims=("dose_a", "dose_b"))
    assert eff.dims == resp.dims
    np.testing.assert_allclose(eff.isel(dose_a=0, dose_b=0), 0.0)
    s = bliss_excess(eff, dims=("dose_a", "dose_b"))
    np.testing.assert_allclose(s.values, 0.0, atol=1e-12)
    lo = loewe_excess(eff, dims=("dose_a", "dose_b"))
    assert lo.dims == resp.dims
    summ = synergy_summary(s, dims=("dose_a", "dose_b"))
    assert summ["mean"].dims == ("readout",)
    with pytest.raises(ValueError, match="start at 0"):
        bliss_excess(grid(viab).isel(dose_a=slice(1, None)))
    with pytest.raises(ValueError, match="unknown synergy"):
        synergy_scores(grid(viab), methods=("bliss", "chou"))


def test_synergy_map_figure():
    import matplotlib.pyplot as plt

    from igfsim.report.sweep_plots import plot_synergy_map

    fig, ax = plt.subplots()
    assert plot_synergy_map(loewe_excess(bliss_grid()), ax=ax) is ax
    assert "loewe" in ax.get_title()
    with pytest.raises(ValueError, match="2-D"):
        plot_synergy_map(xr.DataArray(np.zeros(3), dims="x"), ax=ax)
    plt.close(fig)


def test_loewe_is_nan_not_an_error_when_one_agent_raises_the_response():
    """A drug that raises the response alone (negative effects: the antibody shifting IGF1 onto
    integrin) has a single-agent fit without an inverse at the edge of the common range; those
    cells are undefined (NaN), the rest of the scores are still computed."""
    effect = xr.DataArray(
        [
            [0.0, 0.0263, 0.1350, 0.1975, 0.1999],
            [-0.0046, 0.0221, 0.1327, 0.1963, 0.1988],
            [-0.0510, -0.0202, 0.1093, 0.1852, 0.1882],
            [-1.0688, -0.9395, -0.2164, 0.3398, 0.3629],
            [-1.1305, -0.9844, 0.0335, 0.9133, 0.9367],
        ],
        dims=("ganitumab", "dasatinib"),
        coords={"ganitumab": [0.0, 0.1, 1.0, 10.0, 100.0], "dasatinib": [0.0, 0.1, 1.0, 10.0, 100.0]},
    )
    scores = synergy_scores(effect, dims=("ganitumab", "dasatinib"))
    loewe = scores["loewe"].values
    assert np.isnan(loewe[1:, 1:]).all() and np.isfinite(loewe[0]).all()
    assert np.isfinite(scores["bliss"].values).all()
