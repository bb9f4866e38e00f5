"""Tests of the chapter 9 plotting helpers: number grids, one convolution step, feature maps."""

import numpy as np
import pytest


def texts(ax):
    return [t.get_text() for t in ax.texts]


def outlined(ax):
    """(x, y, width, height) of the unfilled rectangles: the highlights."""
    return [(p.get_x(), p.get_y(), p.get_width(), p.get_height())
            for p in ax.patches if not p.get_fill()]


def test_plot_grid_draws_one_numbered_cell_per_entry_and_the_highlight(plt):
    from matplotlib.colors import to_rgb

    from dlbook.plot.conv import PAD_COLOR, WINDOW_COLOR, plot_grid
    values = np.arange(12).reshape(3, 4)
    ax = plot_grid(values, highlight=(1, 2, 2, 2), fmt="{:.0f}", title="grid")
    assert texts(ax) == [str(v) for v in range(12)]
    assert len(ax.patches) == 12 + 1
    assert outlined(ax) == [(2, 1, 2, 2)]
    assert ax.patches[-1].get_edgecolor()[:3] == pytest.approx(to_rgb(WINDOW_COLOR))
    assert ax.get_title() == "grid" and ax.get_ylim() == (3.1, -0.1)  # row 0 on top
    # padding rings are grey, blank cells are white and carry no number
    ax = plot_grid(np.pad(np.ones((2, 2)), 1), padding=1, blank=np.eye(4, dtype=bool))
    faces = [p.get_facecolor()[:3] for p in ax.patches]
    assert faces[1] == pytest.approx(to_rgb(PAD_COLOR)) and faces[0] == pytest.approx((1, 1, 1))
    assert len(texts(ax)) == 16 - 4


def test_plot_grid_uses_given_axes_and_handles_constant_values(plt):
    from dlbook.plot.conv import plot_grid
    _, ax = plt.subplots()
    assert plot_grid(np.zeros((2, 2)), ax=ax) is ax
    assert texts(ax) == ["0"] * 4


def test_plot_grid_rejects_bad_input(plt):
    from dlbook.plot.conv import plot_grid
    with pytest.raises(ValueError, match=r"plot_grid expected values to be a non-empty 2-D"):
        plot_grid(np.zeros(3))
    with pytest.raises(ValueError, match=r"plot_grid expected blank of shape \(2, 2\)"):
        plot_grid(np.zeros((2, 2)), blank=np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"plot_grid expected highlight .* inside \(2, 2\)"):
        plot_grid(np.zeros((2, 2)), highlight=(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"plot_grid expected padding rings thinner"):
        plot_grid(np.zeros((2, 2)), padding=1)
    with pytest.raises(TypeError, match=r"plot_grid expected padding to be an int; got float"):
        plot_grid(np.zeros((3, 3)), padding=1.0)


def correlate(x, k, stride, padding):
    """Reference 2-D cross-correlation for the tests (loops)."""
    xp = np.pad(x, padding)
    kh, kw = k.shape
    H_out = (xp.shape[0] - kh) // stride + 1
    W_out = (xp.shape[1] - kw) // stride + 1
    return np.array([[np.sum(xp[r * stride:r * stride + kh, q * stride:q * stride + kw] * k)
                      for q in range(W_out)] for r in range(H_out)])


def test_plot_conv_step_outlines_window_and_fills_output_up_to_position(plt):
    from dlbook.plot.conv import plot_conv_step
    x = np.arange(25.0).reshape(5, 5)
    k = np.array([[1.0, 0.0], [0.0, -1.0]])
    out = correlate(x, k, stride=2, padding=1)  # (3, 3)
    axes = plot_conv_step(x, k, out, (1, 2), stride=2, padding=1)
    assert len(axes) == 3
    assert len(texts(axes[0])) == 49 and outlined(axes[0]) == [(4, 2, 2, 2)]  # rows 2-3, cols 4-5
    assert texts(axes[1]) == ["1", "0", "0", "-1"]
    shown = texts(axes[2])  # entries (0, 0) .. (1, 2) in row-major order: 6 of 9
    assert shown == [f"{v:g}" for v in out.ravel()[:6]]
    assert outlined(axes[2]) == [(2, 1, 1, 1)]
    assert axes[2].get_title() == "output, step (1, 2)"


def test_plot_conv_step_uses_given_axes(plt):
    from dlbook.plot.conv import plot_conv_step
    _, row = plt.subplots(1, 3)
    x, k = np.ones((3, 3)), np.ones((3, 3))
    out = plot_conv_step(x, k, np.array([[9.0]]), (0, 0), axes=row)
    assert all(a is b for a, b in zip(out, row))


def test_plot_conv_step_rejects_bad_input(plt):
    from dlbook.plot.conv import plot_conv_step
    x, k = np.ones((4, 4)), np.ones((3, 3))
    with pytest.raises(ValueError, match=r"plot_conv_step expected out of shape \(2, 2\) "
                                         r"\(the output-size formula\); got shape \(3, 3\)"):
        plot_conv_step(x, k, np.ones((3, 3)), (0, 0))
    with pytest.raises(ValueError, match=r"plot_conv_step expected position inside"):
        plot_conv_step(x, k, np.ones((2, 2)), (2, 0))
    with pytest.raises(ValueError, match=r"plot_conv_step expected a kernel that fits"):
        plot_conv_step(np.ones((2, 2)), k, np.ones((1, 1)), (0, 0))
    with pytest.raises(ValueError, match=r"plot_conv_step expected stride >= 1; got 0"):
        plot_conv_step(x, k, np.ones((2, 2)), (0, 0), stride=0)
    with pytest.raises(ValueError, match=r"plot_conv_step expected three axes; got 2"):
        plot_conv_step(x, k, np.ones((2, 2)), (0, 0), axes=plt.subplots(1, 2)[1])
    with pytest.raises(ValueError, match=r"plot_conv_step expected kernel to be a non-empty 2-D"):
        plot_conv_step(x, np.ones(3), np.ones((2, 2)), (0, 0))


def test_plot_signed_maps_scales_each_map_symmetrically(plt):
    from dlbook.plot.conv import plot_signed_maps
    maps = np.stack([np.array([[1.0, -3.0], [0.0, 2.0]]), np.zeros((2, 2))])
    axes = plot_signed_maps(maps, titles=["a", "b"])
    assert len(axes) == 2 and [a.get_title() for a in axes] == ["a", "b"]
    assert axes[0].images[0].get_clim() == (-3.0, 3.0)
    assert axes[1].images[0].get_clim() == (-1.0, 1.0)  # an all-zero map still gets a scale
    _, given = plt.subplots(2, 1)
    out = plot_signed_maps(maps, axes=given)
    assert all(a is b for a, b in zip(out, given))


def test_plot_signed_maps_rejects_bad_input(plt):
    from dlbook.plot.conv import plot_signed_maps
    with pytest.raises(ValueError, match=r"plot_signed_maps expected maps of shape \(K, H, W\); "
                                         r"got shape \(2, 2\)"):
        plot_signed_maps(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"plot_signed_maps expected 2 titles; got 1"):
        plot_signed_maps(np.zeros((2, 3, 3)), titles=["a"])
    with pytest.raises(ValueError, match=r"plot_signed_maps expected 2 axes; got 3"):
        plot_signed_maps(np.zeros((2, 3, 3)), axes=plt.subplots(1, 3)[1])


def test_row_labels_name_the_rows_of_the_grid_and_of_the_conv_input(plt):
    from dlbook.plot.conv import plot_conv_step, plot_grid
    ax = plot_grid(np.zeros((3, 2)), row_labels=["a", "b", "c"])
    assert texts(ax)[-3:] == ["a", "b", "c"] and ax.get_xlim()[0] == -1.0
    with pytest.raises(ValueError, match=r"plot_grid expected 3 row_labels; got 2"):
        plot_grid(np.zeros((3, 2)), row_labels=["a", "b"])
    x, k = np.arange(8.0).reshape(4, 2), np.ones((2, 2))  # a whole-row kernel
    axes = plot_conv_step(x, k, np.array([[6.0], [14.0], [22.0]]), (1, 0), row_labels="wxyz")
    assert texts(axes[0])[-4:] == list("wxyz") and axes[0].get_title() == "input"
    assert outlined(axes[0]) == [(0, 1, 2, 2)]
