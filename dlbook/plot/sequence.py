"""Drawings for recurrent networks: the unrolled cell and gradient norms through time (chapters 14-15).

Every helper draws into ``ax`` when given one and otherwise creates a new
figure, then returns the axes. Nothing here changes global matplotlib settings.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from dlbook.plot.basic import _axes

CELL_SIZE = 0.7
"""Width and height of a cell's box in :func:`plot_unrolled_rnn`, in data units."""

CELL_COLOR = "#e8f0fa"
"""Fill colour of the cell boxes."""

RECURRENT_COLOR = "tab:red"
"""Colour of the recurrent (h_{t-1} -> h_t) arrows, the shared W_h."""


def _arrow(ax, start, end, color="k", text=None, text_offset=(0.0, 0.0), **kwargs):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color,
                                 linewidth=1.3, shrinkA=0, shrinkB=0, **kwargs))
    if text:
        mid = ((start[0] + end[0]) / 2 + text_offset[0], (start[1] + end[1]) / 2 + text_offset[1])
        ax.text(*mid, text, ha="center", va="center", fontsize=10, color=color)


def _cell(ax, centre, label):
    half = CELL_SIZE / 2
    ax.add_patch(FancyBboxPatch((centre[0] - half, centre[1] - half), CELL_SIZE, CELL_SIZE,
                                boxstyle="round,pad=0.02", facecolor=CELL_COLOR, edgecolor="k"))
    ax.text(*centre, label, ha="center", va="center", fontsize=11)


def plot_unrolled_rnn(steps: int = 4, ax=None, cell_label: str = "tanh", folded: bool = True,
                      title: str | None = None):
    """The recurrent cell folded (one box with a loop) and unrolled over ``steps`` time steps.

    Every unrolled box applies the same weights: W_x on the input arrow from
    x_t, W_h (in red) on the arrow from h_{t-1}, and its output h_t goes up to
    the output y_t and right to the next step. Shapes: ``steps`` >= 1 boxes.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"plot_unrolled_rnn expected steps to be an int >= 1; got {steps!r}")
    ax = _axes(ax)
    half, gap = CELL_SIZE / 2, 1.6
    x0 = 0.0
    if folded:
        _cell(ax, (0, 0), cell_label)
        _arrow(ax, (0, -1.2), (0, -half), text=r"$W_x$", text_offset=(0.3, 0))
        _arrow(ax, (0, half), (0, 1.2))
        ax.text(0, 1.3, r"$h_t$", ha="center", va="bottom", fontsize=12)
        ax.text(0, -1.4, r"$x_t$", ha="center", va="top", fontsize=12)
        ax.add_patch(FancyArrowPatch((half, 0.2), (half, -0.2), connectionstyle="arc3,rad=-2.2",
                                     arrowstyle="-|>", mutation_scale=12, color=RECURRENT_COLOR,
                                     linewidth=1.3))
        ax.text(half + 0.55, 0.45, r"$W_h$", ha="center", color=RECURRENT_COLOR, fontsize=10)
        ax.text(1.65, 0, "=", ha="center", va="center", fontsize=20)
        x0 = 2.6
    ax.text(x0 - 0.1, 0, r"$h_0$", ha="right", va="center", fontsize=12)
    first = x0 + 1.0  # centre of the first unrolled cell
    for t in range(1, steps + 1):
        cx = first + (t - 1) * gap
        _cell(ax, (cx, 0), cell_label)
        start = (x0, 0) if t == 1 else (cx - gap + half, 0)
        _arrow(ax, start, (cx - half, 0), color=RECURRENT_COLOR, text=r"$W_h$",
               text_offset=(0, 0.22))
        _arrow(ax, (cx, -1.2), (cx, -half), text=r"$W_x$", text_offset=(0.3, 0))
        ax.text(cx, -1.4, rf"$x_{{{t}}}$", ha="center", va="top", fontsize=12)
        _arrow(ax, (cx, half), (cx, 1.2))
        ax.text(cx, 1.3, rf"$h_{{{t}}}$", ha="center", va="bottom", fontsize=12)
    end = first + (steps - 1) * gap
    _arrow(ax, (end + half, 0), (end + half + 0.6, 0), color=RECURRENT_COLOR)
    ax.text(end + half + 0.7, 0, r"$\cdots$", ha="left", va="center", fontsize=12)
    ax.set_xlim(-0.9 if folded else x0 - 0.6, end + half + 1.3)
    ax.set_ylim(-1.9, 1.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def plot_grad_norms(norms: Mapping[str, Sequence[float]], ax=None, logy: bool = True,
                    xlabel: str = "time step $t$",
                    ylabel: str = r"$\|\partial L / \partial h_t\|$", title: str | None = None):
    """Gradient norm against the time step for several named runs (a line each).

    Shapes: each value (T + 1,), entry t = the norm at step t (t = 0 .. T).
    Zeros and non-finite entries are left out of a log-scale plot.
    """
    if not isinstance(norms, Mapping) or not norms:
        raise ValueError("plot_grad_norms expected a non-empty mapping {name: norms by step}")
    ax = _axes(ax)
    for name, values in norms.items():
        v = np.asarray(values, dtype=float)
        if v.ndim != 1:
            raise ValueError(f"plot_grad_norms expected 1-D norms for {name!r}; got shape {v.shape}")
        keep = np.isfinite(v) & (v > 0) if logy else np.isfinite(v)
        ax.plot(np.arange(len(v))[keep], v[keep], label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax
