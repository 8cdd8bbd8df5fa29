"""Four-parameter Hill fits, fits over labelled arrays, IC50 shifts and the fit-quality figure."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from igfsim.analysis.doseresponse import HillFit, fit_dose_response, fit_hill, ic50_shift

DOSES = np.r_[0.0, np.logspace(-1, 4, 11)]  # nM, with the untreated reference


def hill(d, bottom, top, ec50, h):
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore"):
        return bottom + (top - bottom) / (1.0 + (d / ec50) ** h)


@pytest.mark.parametrize("direction", ["auto", "down"])
def test_noise_free_inhibitor_recovers_parameters(direction):
    y = hill(DOSES, 0.1, 1.0, 37.0, 1.3)
    f = fit_hill(DOSES, y, direction=direction)
    assert f.converged, f.message
    assert f.ec50 == pytest.approx(37.0, rel=1e-6)
    assert f.ic50 == f.ec50
    assert f.hill == pytest.approx(1.3, rel=1e-6)
    assert (f.bottom, f.top) == pytest.approx((0.1, 1.0), rel=1e-6)
    assert f.emax == pytest.approx(-0.9, rel=1e-6)  # inhibitor: y(inf) - y(0) < 0
    assert f.direction == "down" and f.e0 == pytest.approx(1.0) and f.einf == pytest.approx(0.1)
    assert f.r2 == pytest.approx(1.0, abs=1e-9)
    assert f.n == 11 and f.dof == 7  # dose 0 is not in the fit
    assert f.y0 == pytest.approx(1.0)
    assert f.ec50_ci[0] <= f.ec50 <= f.ec50_ci[1]


def test_noise_free_activator_recovers_parameters():
    y = hill(DOSES, 0.2, 2.0, 5.0, -0.8)  # rises with dose: negative Hill slope
    f = fit_hill(DOSES, y)
    assert f.converged and f.direction == "up"
    assert f.ec50 == pytest.approx(5.0, rel=1e-6)
    assert f.hill == pytest.approx(-0.8, rel=1e-6)
    assert f.emax == pytest.approx(1.8, rel=1e-6)
    assert f.inverse(1.1) == pytest.approx(5.0, rel=1e-6)  # the midpoint is reached at the EC50
    assert np.isnan(f.inverse(2.5))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noisy_fit_ci_covers_true_ic50(seed):
    rng = np.random.default_rng(seed)
    d = np.repeat(DOSES, 3)
    y = hill(d, 0.05, 1.0, 120.0, 1.0) + rng.normal(0, 0.03, d.size)
    f = fit_hill(d, y, direction="down")
    assert f.converged
    assert f.ec50_ci[0] < 120.0 < f.ec50_ci[1]
    assert f.hill_ci[0] < 1.0 < f.hill_ci[1]
    assert f.ec50_ci[1] / f.ec50_ci[0] < 2.0  # informative, not just wide
    assert 0.95 < f.r2 <= 1.0 and f.rmse == pytest.approx(0.03, rel=0.4)


def test_weights_and_fixed_plateau():
    y = hill(DOSES, 0.0, 1.0, 10.0, -1.5)
    f = fit_hill(DOSES, y, direction="up", fix_bottom=0.0, weights=np.linspace(1, 2, DOSES.size))
    assert f.converged and f.fixed == ("bottom",)
    assert f.bottom == 0.0 and f.ec50 == pytest.approx(10.0, rel=1e-6)


def test_normalize_by_untreated():
    y = 500.0 * hill(DOSES, 0.2, 1.0, 3.0, 1.0)
    f = fit_hill(DOSES, y, normalize=True)
    assert f.top == pytest.approx(1.0, rel=1e-6) and f.bottom == pytest.approx(0.2, rel=1e-6)
    with pytest.raises(ValueError, match="dose-0"):
        fit_hill(DOSES[1:], y[1:], normalize=True)


def test_flat_short_and_nan_data_do_not_raise():
    flat = fit_hill(DOSES, np.full(DOSES.size, 0.7))
    assert not flat.converged and "flat" in flat.message and math.isnan(flat.ec50)
    short = fit_hill([0, 1, 10], [1, 0.9, 0.2])
    assert not short.converged and "too few" in short.message
    y = hill(DOSES, 0.1, 1.0, 37.0, 1.3)
    y[[3, 7]] = np.nan  # failed runs
    f = fit_hill(DOSES, y)
    assert f.converged and f.n == 9 and f.ec50 == pytest.approx(37.0, rel=1e-6)
    with pytest.raises(ValueError, match="direction"):
        fit_hill(DOSES, y, direction="sideways")


def test_fit_dose_response_over_extra_dims():
    ec50s = [3.0, 30.0, 300.0]
    data = np.stack(
        [[hill(DOSES, 0.1, 1.0, e, 1.0) for e in ec50s], [np.full(DOSES.size, 0.5)] * 3]
    )  # (metric, context, dose)
    da = xr.DataArray(
        data,
        dims=("metric", "context", "dose"),
        coords={"metric": ["final", "flat"], "context": ["a", "b", "c"], "dose": DOSES},
    )
    ds = fit_dose_response(da, "dose", direction="down")
    assert set(ds.dims) == {"metric", "context"}
    np.testing.assert_allclose(ds["ec50"].sel(metric="final").values, ec50s, rtol=1e-6)
    assert ds["converged"].sel(metric="final").all() and not ds["converged"].sel(metric="flat").any()
    assert ds["ec50"].attrs["units"] == "nM"
    shift = ic50_shift(ds.sel(context="a"), ds.sel(context="c"))
    np.testing.assert_allclose(shift["fold"].sel(metric="final"), 100.0, rtol=1e-6)
    with pytest.raises(ValueError, match="not a dimension"):
        fit_dose_response(da, "time")


def test_ic50_shift_with_ci():
    rng = np.random.default_rng(7)
    d = np.repeat(DOSES, 2)
    sens = fit_hill(d, hill(d, 0, 1, 10.0, 1.2) + rng.normal(0, 0.02, d.size), direction="down")
    res = fit_hill(d, hill(d, 0, 1, 80.0, 1.2) + rng.normal(0, 0.02, d.size), direction="down")
    s = ic50_shift(sens, res)
    assert s.fold == pytest.approx(res.ec50 / sens.ec50)
    assert s.ci[0] < 8.0 < s.ci[1] and s.significant
    assert ic50_shift(res, sens).fold == pytest.approx(1 / s.fold)
    none = ic50_shift(sens, fit_hill(DOSES, np.ones(DOSES.size)))
    assert math.isnan(none.fold)
    with pytest.raises(TypeError):
        ic50_shift(sens, 3.0)


def test_fit_quality_figures():
    import matplotlib.pyplot as plt

    from igfsim.report.sweep_plots import plot_hill, plot_residuals

    rng = np.random.default_rng(0)
    y = hill(DOSES, 0.1, 1.0, 37.0, 1.3) + rng.normal(0, 0.02, DOSES.size)
    f = fit_hill(DOSES, y)
    fig, (a1, a2) = plt.subplots(1, 2)
    assert plot_hill(f, DOSES, y, ax=a1) is a1
    assert any("R²" in t.get_text() for t in a1.get_legend().get_texts())
    assert plot_residuals(f, DOSES, y, ax=a2) is a2
    bad = fit_hill(DOSES, np.ones(DOSES.size))
    assert isinstance(bad, HillFit)
    plot_hill(bad, DOSES, np.ones(DOSES.size), ax=a1)
    plt.close(fig)
