"""Smoke tests of the chapter 10 loss-slice contour plots (dlbook.plot.landscape)."""

import numpy as np
import pytest


def bowls():
    """Two quadratic bowls on a 7 x 5 grid, one 100 times steeper: (alphas, betas, grids)."""
    alphas, betas = np.linspace(-1, 1, 7), np.linspace(-0.5, 0.5, 5)
    A, B = np.meshgrid(alphas, betas)                        # (5, 7)
    return alphas, betas, {"flat": 0.1 + A**2 + B**2, "steep": 0.1 + 100 * (A**2 + B**2)}


def record_contourf(monkeypatch) -> list:
    """The ContourSets that Axes.contourf returns, in call order. (Since matplotlib 3.8 a
    ContourSet is one artist in ax.collections; before, it was not there at all.)"""
    from matplotlib.axes import Axes
    made, original = [], Axes.contourf

    def spy(self, *args, **kwargs):
        made.append(original(self, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(Axes, "contourf", spy)
    return made


def test_panels_share_one_colour_scale_and_one_colour_bar(plt, monkeypatch):
    from dlbook.plot import LANDSCAPE_LEVELS, plot_loss_surfaces
    alphas, betas, grids = bowls()
    filled = record_contourf(monkeypatch)
    axes = plot_loss_surfaces(grids, alphas, betas)
    assert [ax.get_title() for ax in axes] == ["flat", "steep"]
    fig = axes[0].figure
    assert len(fig.axes) == 3                                # two panels and the colour bar
    assert len(filled) == 2
    levels = [np.asarray(c.levels) for c in filled]
    assert len(levels[0]) == LANDSCAPE_LEVELS and np.array_equal(levels[0], levels[1])
    lo, hi = min(g.min() for g in grids.values()), max(g.max() for g in grids.values())
    assert np.isclose(levels[0][0], lo) and np.isclose(levels[0][-1], hi)
    np.testing.assert_allclose(np.diff(np.log(levels[0])), np.log(hi / lo) / (LANDSCAPE_LEVELS - 1))
    assert filled[0].norm.vmin == filled[1].norm.vmin and filled[0].norm.vmax == filled[1].norm.vmax


def test_given_axes_linear_levels_and_no_colour_bar(plt):
    from dlbook.plot import plot_loss_surfaces
    alphas, betas, grids = bowls()
    fig, axes = plt.subplots(1, 2)
    out = plot_loss_surfaces(grids, alphas, betas, axes=axes, levels=[0.0, 1.0, 10.0, 300.0],
                             log=False, colorbar=False)
    assert list(out) == list(axes) and len(fig.axes) == 2
    square = {"z": np.ones((7, 7)) + np.eye(7)}
    assert len(plot_loss_surfaces(square, alphas, log=False)) == 1   # betas default to alphas


def test_bad_inputs_raise(plt):
    from dlbook.plot import plot_loss_surfaces
    alphas, betas, grids = bowls()
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_loss_surfaces({}, alphas, betas)
    with pytest.raises(ValueError, match=r"of shape \(len\(betas\), len\(alphas\)\) = \(5, 7\)"):
        plot_loss_surfaces({"t": grids["flat"].T}, alphas, betas)
    with pytest.raises(ValueError, match="positive losses"):
        plot_loss_surfaces({"z": grids["flat"] - 1}, alphas, betas)
    with pytest.raises(ValueError, match="levels"):
        plot_loss_surfaces(grids, alphas, betas, levels=[3.0, 1.0])
    with pytest.raises(ValueError, match="one axes per grid"):
        plot_loss_surfaces(grids, alphas, betas, axes=plt.subplots()[1])
    with pytest.raises(ValueError, match="at least 2 steps"):
        plot_loss_surfaces(grids, [0.0], betas)
    with pytest.raises(ValueError, match="some finite losses"):
        plot_loss_surfaces({"nan": np.full((5, 7), np.nan)}, alphas, betas)
