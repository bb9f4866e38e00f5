"""Tests of the chapter 11 plotting helpers (dlbook.plot.cnn): filters, feature maps, saliency."""

import numpy as np
import pytest


def test_plot_filters_one_panel_per_filter_on_a_shared_symmetric_scale(plt):
    from dlbook.plot.cnn import FILTER_CMAP, plot_filters
    W = np.random.default_rng(0).standard_normal((6, 1, 5, 5))
    axes = plot_filters(W, ncols=4)
    assert len(axes) == 8  # a 2 x 4 grid, the last two panels blank
    vmax = np.abs(W).max()
    for f in range(6):
        (im,) = axes[f].images
        np.testing.assert_array_equal(im.get_array(), W[f, 0])
        assert im.get_clim() == pytest.approx((-vmax, vmax))
        assert im.get_cmap().name == FILTER_CMAP
    assert not axes[6].images and not axes[6].axison


def test_plot_filters_multichannel_grid_given_axes_and_vmax(plt):
    from dlbook.plot.cnn import plot_filters
    W = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    _, axes = plt.subplots(2, 3)
    out = plot_filters(W, axes=axes, vmax=100)
    assert all(a is b for a, b in zip(out, axes.ravel()))
    # row = filter, column = input channel
    np.testing.assert_array_equal(out[4].images[0].get_array(), W[1, 1])
    assert out[0].images[0].get_clim() == (-100, 100)
    assert len(plot_filters(W[:, 0])) == 2  # (F, kh, kw) is read as one input channel


def test_plot_feature_maps_shared_scale_label_and_channel_limit(plt):
    from dlbook.plot.cnn import plot_feature_maps
    maps = np.random.default_rng(0).random((5, 4, 4))
    maps[2] *= 3
    axes = plot_feature_maps(maps, ncols=3, label="conv1")
    assert len(axes) == 6 and [len(ax.images) for ax in axes] == [1, 1, 1, 1, 1, 0]
    assert axes[0].images[0].get_clim() == pytest.approx((maps.min(), maps.max()))
    assert axes[0].get_ylabel() == "conv1"
    axes = plot_feature_maps(maps, max_channels=2, shared_scale=False)
    assert len(axes) == 2
    assert axes[0].images[0].get_clim() == pytest.approx((maps[0].min(), maps[0].max()))
    _, row = plt.subplots(1, 3)
    out = plot_feature_maps(maps, axes=row)  # as many channels as the axes hold
    assert [len(ax.images) for ax in out] == [1, 1, 1]


def test_plot_saliency_overlays_a_coarse_map_over_the_whole_image(plt):
    from dlbook.plot.cnn import plot_saliency
    image = np.zeros((1, 28, 28))
    heat = np.random.default_rng(0).random((7, 7))
    image[0, 10:18, 12:16] = 1.0  # a stroke, so there is an outline to draw
    ax = plot_saliency(image, heat, title="7", alpha=0.4)
    base, over = ax.images
    assert base.get_extent() == over.get_extent() == [-0.5, 27.5, 27.5, -0.5]
    np.testing.assert_array_equal(over.get_array(), heat)
    assert over.get_alpha() == 0.4 and ax.get_title() == "7"
    assert len(ax.collections) == 1  # the contour of the stroke at half its height
    assert ax.get_xlim() == (-0.5, 27.5) and ax.get_ylim() == (27.5, -0.5)
    _, ax2 = plt.subplots()
    assert plot_saliency(image[0], heat, ax=ax2, outline=None) is ax2
    assert not ax2.collections
    assert not plot_saliency(np.zeros((4, 4)), heat).collections  # a blank image has no outline


def test_plot_helpers_reject_bad_shapes(plt):
    from dlbook.plot.cnn import plot_feature_maps, plot_filters, plot_saliency
    with pytest.raises(ValueError, match=r"plot_filters expected W of shape \(F, C, kh, kw\)"):
        plot_filters(np.ones((3, 3)))
    with pytest.raises(ValueError, match="plot_filters expected at least 4 axes"):
        plot_filters(np.ones((4, 1, 3, 3)), axes=plt.subplots(1, 2)[1])
    with pytest.raises(ValueError, match=r"plot_feature_maps expected maps of shape \(C, H, W\)"):
        plot_feature_maps(np.ones((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"plot_saliency expected image \(H, W\) and heat"):
        plot_saliency(np.ones((28, 28)), np.ones(5))
