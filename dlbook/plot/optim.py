"""Optimizer trajectories over the contour lines of a 2-D function (chapter 7)."""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from dlbook.plot.basic import GRID_STEPS, _axes


PATH_STYLES = ("-", "--", "-.", ":")
"""Line styles cycled by :func:`plot_contour_paths`."""


def plot_contour_paths(f: Callable[[np.ndarray], np.ndarray], paths: Mapping[str, np.ndarray],
                       xlim: tuple[float, float], ylim: tuple[float, float], ax=None,
                       levels: int | Sequence[float] = 15, minimum: Sequence[float] | None = None,
                       title: str | None = None):
    """Contour lines of f(x, y) and one optimizer path per name (chapter 7).

    Shapes: ``f`` maps points (..., 2) -> values (...); each path is (T, 2),
    the iterates in order (start: black dot; end: dot in the path's colour).
    Paths cycle through line styles so overlapping ones stay visible.
    ``levels`` is a count or the contour values; ``minimum`` (2,) gets a star.
    """
    ax = _axes(ax)
    xx, yy = np.meshgrid(np.linspace(*xlim, GRID_STEPS), np.linspace(*ylim, GRID_STEPS))
    zz = np.asarray(f(np.stack([xx, yy], axis=-1)))  # grid points (G, G, 2) -> values (G, G)
    if zz.shape != xx.shape:
        raise ValueError(f"plot_contour_paths expected f to map (..., 2) points to (...) values; "
                         f"got shape {zz.shape} from input shape {xx.shape + (2,)}")
    ax.contour(xx, yy, zz, levels=levels, colors="0.65", linewidths=0.6)
    for i, (name, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=np.float64)
        if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
            raise ValueError(f"plot_contour_paths expected each path of shape (T, 2); "
                             f"got shape {path.shape} for {name!r}")
        (line,) = ax.plot(path[:, 0], path[:, 1], linewidth=1.3, label=name,
                          linestyle=PATH_STYLES[i % len(PATH_STYLES)])
        ax.plot(path[0, 0], path[0, 1], "o", color="k", markersize=4)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=line.get_color(), markersize=5)
    if minimum is not None:
        ax.plot(minimum[0], minimum[1], "*", color="k", markersize=11)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    if paths:
        ax.legend(loc="best", fontsize="small")
    return ax
