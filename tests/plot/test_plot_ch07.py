"""Tests of the plotting helper added for chapter 7 (optimizer paths on contour lines)."""

import numpy as np
import pytest


def bowl(p):
    return 0.5 * (p[..., 0] ** 2 + 10 * p[..., 1] ** 2)


def test_plot_contour_paths_draws_contours_paths_and_markers(plt):
    from dlbook.plot import PATH_STYLES, plot_contour_paths
    paths = {"a": np.array([[-2.0, 1.0], [-1.0, 0.5], [0.0, 0.0]]),
             "b": np.array([[-2.0, 1.0], [-1.5, -0.5]])}
    ax = plot_contour_paths(bowl, paths, xlim=(-3, 3), ylim=(-2, 2), minimum=(0, 0),
                            levels=np.geomspace(0.1, 10, 5), title="bowl")
    assert ax.collections, "no contour lines"
    labelled = [line for line in ax.lines if not line.get_label().startswith("_")]
    assert [line.get_label() for line in labelled] == ["a", "b"]
    np.testing.assert_array_equal(labelled[0].get_xydata(), paths["a"])
    assert [line.get_linestyle() for line in labelled] == ["-", "--"] == [PATH_STYLES[0], "--"]
    # per path: the line, a start dot and an end dot; plus the star at the minimum
    assert len(ax.lines) == 3 * len(paths) + 1
    assert ax.get_xlim() == (-3, 3) and ax.get_ylim() == (-2, 2)
    assert ax.get_title() == "bowl" and ax.get_legend() is not None


def test_plot_contour_paths_uses_given_axes_and_integer_levels(plt):
    from dlbook.plot import plot_contour_paths
    _, ax = plt.subplots()
    out = plot_contour_paths(bowl, {}, xlim=(-1, 1), ylim=(-1, 1), ax=ax, levels=4)
    assert out is ax
    assert ax.get_legend() is None and not ax.lines  # no paths: contours only


def test_plot_contour_paths_rejects_bad_shapes(plt):
    from dlbook.plot import plot_contour_paths
    with pytest.raises(ValueError, match=r"plot_contour_paths expected each path of shape \(T, 2\); "
                                         r"got shape \(3, 3\) for 'x'"):
        plot_contour_paths(bowl, {"x": np.zeros((3, 3))}, xlim=(-1, 1), ylim=(-1, 1))
    with pytest.raises(ValueError, match=r"plot_contour_paths expected f to map \(\.\.\., 2\) points"):
        plot_contour_paths(lambda p: p, {}, xlim=(-1, 1), ylim=(-1, 1))
