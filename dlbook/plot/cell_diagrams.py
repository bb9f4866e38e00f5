"""The gated recurrent cells drawn gate by gate: one LSTM step, one GRU step, an unrolled LSTM (chapter 15).

The labels are the chapter's notation: eq. (eq-ch15-lstm) for the LSTM
(gates i_t, f_t, o_t, candidate g_t, cell state c_t), eq. (eq-ch15-gru) for
the GRU (reset r_t, update z_t, candidate n_t, with g^x = x_t W_x + b_x and
g^h = h_{t-1} W_h + b_h). Sigmoids and tanh are yellow boxes, elementwise
products and sums are circles (``ax.patches`` holds them as
:class:`~matplotlib.patches.Circle`), the affine maps are blue boxes. The
boxes, arrows and labels are those of :mod:`dlbook.plot.diagrams`. Every
helper draws into ``ax`` when given one and otherwise creates a new figure,
then returns the axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyBboxPatch

from dlbook.plot.diagrams import (
    CONTEXT_COLOR,
    ENCODER_COLOR,
    _arrow,
    _box,
    _finish,
    _label,
)

ACTIVATION_COLOR = "#fff3c4"
"""Fill of the sigmoid and tanh boxes."""

CELL_PATH_COLOR = CONTEXT_COLOR
"""Colour of the cell-state path (the LSTM's c_t, the GRU's copy of h_{t-1})."""

NODE_RADIUS = 0.2
"""Radius of the circles of elementwise products and sums, in data units."""


def _node(ax, centre, symbol, color="k"):
    """A circle with an elementwise operation: r"$\\odot$" or "+"."""
    ax.add_patch(Circle(centre, NODE_RADIUS, facecolor="white", edgecolor=color, linewidth=1.2,
                        zorder=2))
    _label(ax, centre, symbol, fontsize=11, zorder=3)


def _dot(ax, xy, color="k"):
    """A branch point: one value feeds two places."""
    ax.plot([xy[0]], [xy[1]], "o", ms=3.5, color=color, zorder=2)


def _act(ax, centre, name):
    """A sigmoid or tanh box."""
    _box(ax, centre, name, width=0.7 if name != "tanh" else 0.8, height=0.45,
         color=ACTIVATION_COLOR, fontsize=10)


def _line(ax, xs, ys, color="k", lw=1.2):
    ax.plot(xs, ys, color=color, lw=lw, zorder=1, solid_capstyle="round")


def _side(ax, xy, text, ha="left", fontsize=10, color="k"):
    """A label beside an arrow, left- or right-aligned at ``xy``."""
    ax.text(*xy, text, ha=ha, va="center", fontsize=fontsize, color=color)


def _frame(ax, x0, y0, x1, y1):
    """The light outline of one cell, behind everything."""
    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0.05",
                                facecolor="#f7f7f7", edgecolor="0.7", linewidth=1.0, zorder=0))


def _new_axes(ax, size):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_lstm_cell(ax=None, title: str | None = None):
    """One LSTM step, eq. (eq-ch15-lstm): gates f, i, o and candidate g, the cell state along the top.

    Shapes: inputs x_t (N, D), h_{t-1} and c_{t-1} (N, H); one affine map
    x_t W_x + h_{t-1} W_h + b gives the (N, 4H) pre-activations (blocks i, f,
    g, o in PyTorch's order; drawn f, i, g, o from left to right);
    c_t = f_t * c_{t-1} + i_t * g_t along the red top line, and
    h_t = o_t * tanh(c_t). Returns the axes (chapter 15).
    """
    ax = _new_axes(ax, (6.4, 4.6))
    top, bus = 4.6, 0.7
    _frame(ax, -0.45, 0.05, 5.75, 5.15)
    # the cell state: c_{t-1} -> (.) f_t -> + i_t g_t -> c_t
    _label(ax, (-1.25, top), r"$c_{t-1}$", fontsize=12, color=CELL_PATH_COLOR)
    _arrow(ax, (-0.85, top), (1.0 - NODE_RADIUS, top), color=CELL_PATH_COLOR)
    _node(ax, (1.0, top), r"$\odot$", CELL_PATH_COLOR)
    _arrow(ax, (1.0 + NODE_RADIUS, top), (2.5 - NODE_RADIUS, top), color=CELL_PATH_COLOR)
    _node(ax, (2.5, top), "+", CELL_PATH_COLOR)
    _arrow(ax, (2.5 + NODE_RADIUS, top), (6.3, top), color=CELL_PATH_COLOR)
    _label(ax, (6.65, top), r"$c_t$", fontsize=12, color=CELL_PATH_COLOR)
    # one affine map, then the four activations
    _box(ax, (2.0, bus), r"$x_t W_x + h_{t-1} W_h + b$" "\n" r"(N, 4H): blocks $i, f, g, o$",
         width=4.6, height=0.75, color=ENCODER_COLOR, fontsize=10)
    _label(ax, (-1.25, bus), r"$h_{t-1}$", fontsize=12)
    _arrow(ax, (-0.85, bus), (-0.33, bus))
    _arrow(ax, (1.0, -0.45), (1.0, bus - 0.41))
    _label(ax, (1.0, -0.7), r"$x_t$", fontsize=12)
    for x, name in ((1.0, r"$\sigma$"), (2.0, r"$\sigma$"), (3.0, "tanh"), (4.2, r"$\sigma$")):
        _arrow(ax, (x, bus + 0.41), (x, 1.57))
        _act(ax, (x, 1.8), name)
    _arrow(ax, (1.0, 2.03), (1.0, top - NODE_RADIUS))
    _side(ax, (0.85, 3.2), r"$f_t$", ha="right")
    _node(ax, (2.5, 3.1), r"$\odot$")
    _arrow(ax, (2.0, 2.03), (2.4, 2.92))
    _side(ax, (2.05, 2.6), r"$i_t$", ha="right")
    _arrow(ax, (3.0, 2.03), (2.6, 2.92))
    _side(ax, (2.95, 2.6), r"$g_t$")
    _arrow(ax, (2.5, 3.1 + NODE_RADIUS), (2.5, top - NODE_RADIUS))
    _side(ax, (2.6, 3.85), r"$i_t \odot g_t$", fontsize=9)
    # the output: h_t = o_t (.) tanh(c_t)
    _line(ax, [4.2, 4.2], [top, 4.0], color=CELL_PATH_COLOR)
    _dot(ax, (4.2, top), CELL_PATH_COLOR)
    _act(ax, (4.2, 3.77), "tanh")
    _node(ax, (4.2, 2.85), r"$\odot$")
    _arrow(ax, (4.2, 3.54), (4.2, 2.85 + NODE_RADIUS))
    _arrow(ax, (4.2, 2.03), (4.2, 2.85 - NODE_RADIUS))
    _side(ax, (4.05, 2.4), r"$o_t$", ha="right")
    _line(ax, [4.2 + NODE_RADIUS, 5.3, 5.3], [2.85, 2.85, bus])
    _arrow(ax, (5.3, bus), (6.3, bus))
    _label(ax, (6.65, bus), r"$h_t$", fontsize=12)
    return _finish(ax, (-1.7, 7.0), (-1.0, 5.4), title)


def plot_gru_cell(ax=None, title: str | None = None):
    """One GRU step, eq. (eq-ch15-gru): reset gate r, update gate z, candidate n.

    Shapes: inputs x_t (N, D), h_{t-1} (N, H); g^x = x_t W_x + b_x and
    g^h = h_{t-1} W_h + b_h are (N, 3H) with blocks r, z, n;
    r_t = sigma(g^x_r + g^h_r), z_t = sigma(g^x_z + g^h_z),
    n_t = tanh(g^x_n + r_t * g^h_n), and along the red top line
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}. Returns the axes (chapter 15).
    """
    ax = _new_axes(ax, (6.4, 4.9))
    top, bus = 5.4, 0.7
    _frame(ax, -0.75, 0.05, 6.15, 5.95)
    _label(ax, (-1.55, top), r"$h_{t-1}$", fontsize=12)
    _arrow(ax, (-1.1, top), (0.9 - NODE_RADIUS, top), color=CELL_PATH_COLOR)
    _node(ax, (0.9, top), r"$\odot$", CELL_PATH_COLOR)
    _arrow(ax, (0.9 + NODE_RADIUS, top), (5.6 - NODE_RADIUS, top), color=CELL_PATH_COLOR)
    _node(ax, (5.6, top), "+", CELL_PATH_COLOR)
    _arrow(ax, (5.6 + NODE_RADIUS, top), (6.6, top), color=CELL_PATH_COLOR)
    _label(ax, (6.9, top), r"$h_t$", fontsize=12)
    # h_{t-1} also feeds the affine maps
    _line(ax, [-0.5, -0.5], [top, bus])
    _dot(ax, (-0.5, top), CELL_PATH_COLOR)
    _arrow(ax, (-0.5, bus), (-0.03, bus))
    _box(ax, (2.5, bus), r"$g^x = x_t W_x + b_x$,  $g^h = h_{t-1} W_h + b_h$" "\n"
         r"(N, 3H) each: blocks $r, z, n$", width=5.0, height=0.75, color=ENCODER_COLOR,
         fontsize=10)
    _arrow(ax, (1.6, -0.45), (1.6, bus - 0.41))
    _label(ax, (1.6, -0.7), r"$x_t$", fontsize=12)
    # the two gates
    for x, name in ((0.9, "z"), (2.3, "r")):
        _arrow(ax, (x, bus + 0.41), (x, 1.87))
        _side(ax, (x - 0.08, 1.45), rf"$g^x_{name} + g^h_{name}$", ha="right", fontsize=9)
        _act(ax, (x, 2.1), r"$\sigma$")
    _arrow(ax, (0.9, 2.33), (0.9, top - NODE_RADIUS))
    _side(ax, (0.78, 3.4), r"$z_t$", ha="right")
    # the candidate: n_t = tanh(g^x_n + r_t (.) g^h_n)
    _node(ax, (3.3, 2.6), r"$\odot$")
    _arrow(ax, (2.3, 2.33), (3.3 - NODE_RADIUS, 2.55))
    _side(ax, (2.55, 2.7), r"$r_t$", ha="right")
    _arrow(ax, (3.3, bus + 0.41), (3.3, 2.6 - NODE_RADIUS))
    _side(ax, (3.38, 1.6), r"$g^h_n$")
    _node(ax, (3.3, 3.3), "+")
    _arrow(ax, (3.3, 2.6 + NODE_RADIUS), (3.3, 3.3 - NODE_RADIUS))
    _line(ax, [4.4, 4.4], [bus + 0.41, 3.3])
    _arrow(ax, (4.4, 3.3), (3.3 + NODE_RADIUS, 3.3))
    _side(ax, (4.48, 2.2), r"$g^x_n$")
    _act(ax, (3.3, 4.0), "tanh")
    _arrow(ax, (3.3, 3.3 + NODE_RADIUS), (3.3, 3.77))
    # the mix: h_t = (1 - z_t) (.) n_t + z_t (.) h_{t-1}
    _node(ax, (5.6, 4.0), r"$\odot$")
    _arrow(ax, (3.7, 4.0), (5.6 - NODE_RADIUS, 4.0))
    _side(ax, (4.6, 3.8), r"$n_t$")
    _line(ax, [0.9, 4.6], [4.7, 4.7])
    _dot(ax, (0.9, 4.7))
    _box(ax, (4.85, 4.7), r"$1-$", width=0.5, height=0.36, color="white", fontsize=10)
    _arrow(ax, (5.1, 4.6), (5.6 - 0.14, 4.0 + 0.14))
    _side(ax, (5.2, 4.3), r"$1 - z_t$", ha="right", fontsize=9)
    _arrow(ax, (5.6, 4.0 + NODE_RADIUS), (5.6, top - NODE_RADIUS))
    return _finish(ax, (-2.0, 7.2), (-1.0, 6.2), title)


def plot_unrolled_lstm(steps: int = 3, ax=None, title: str | None = None):
    """An LSTM unrolled over ``steps`` steps: the cell-state highway on top, the hidden path below.

    Shapes: ``steps`` = T >= 1 cells, inputs x_1 .. x_T, states h_0, c_0 in.
    Along the top, c_{t-1} -> c_t meets only an elementwise product with f_t
    and a sum with i_t * g_t, so with the gates held fixed
    dc_T/dc_0 = diag(prod_s f_s), eq. (eq-ch15-cellpath). Below, h_{t-1}
    enters the gates (through W_h and the squashing functions) and
    h_t = o_t * tanh(c_t) leaves for the next step. Returns the axes (chapter 15).
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"plot_unrolled_lstm expected steps to be an int >= 1; got {steps!r}")
    T, gap, top, low = int(steps), 4.8, 3.2, 1.2
    ax = _new_axes(ax, (min(2.45 * T + 2.0, 12.0), 4.1))
    for t in range(1, T + 1):
        X = (t - 1) * gap  # the cell spans X - 0.1 .. X + 4.1
        _frame(ax, X - 0.1, 0.35, X + 4.1, 3.75)
        _node(ax, (X + 0.7, top), r"$\odot$", CELL_PATH_COLOR)
        _node(ax, (X + 1.75, top), "+", CELL_PATH_COLOR)
        _arrow(ax, (X + 0.7 + NODE_RADIUS, top), (X + 1.75 - NODE_RADIUS, top),
               color=CELL_PATH_COLOR)
        _line(ax, [X + 1.75 + NODE_RADIUS, X + 4.1], [top, top], color=CELL_PATH_COLOR)
        _box(ax, (X + 1.2, low), "gates\n" + rf"$f_{t}, i_{t}, g_{t}, o_{t}$", width=1.7,
             height=0.8, color=ENCODER_COLOR, fontsize=10)
        _arrow(ax, (X + 1.2, -0.25), (X + 1.2, low - 0.42))
        _label(ax, (X + 1.2, -0.5), rf"$x_{t}$", fontsize=12)
        _arrow(ax, (X + 0.7, low + 0.42), (X + 0.7, top - NODE_RADIUS))
        _side(ax, (X + 0.6, 2.25), rf"$f_{t}$", ha="right")
        _arrow(ax, (X + 1.75, low + 0.42), (X + 1.75, top - NODE_RADIUS))
        _side(ax, (X + 1.83, 2.25), rf"$i_{t} \odot g_{t}$", fontsize=9)
        _box(ax, (X + 3.2, low), rf"$o_{t} \odot$" "\n" rf"$\tanh(c_{t})$", width=1.3,
             height=0.8, color=ACTIVATION_COLOR, fontsize=10)
        _arrow(ax, (X + 2.07, low), (X + 2.52, low))
        _line(ax, [X + 3.2, X + 3.2], [top, 2.5], color=CELL_PATH_COLOR)
        _dot(ax, (X + 3.2, top), CELL_PATH_COLOR)
        _arrow(ax, (X + 3.2, 2.5), (X + 3.2, low + 0.43), color=CELL_PATH_COLOR)
        c_from, h_from = (-0.8, X - gap + 4.1)[t > 1], (-0.8, X - gap + 3.87)[t > 1]
        _arrow(ax, (c_from, top), (X + 0.7 - NODE_RADIUS, top), color=CELL_PATH_COLOR)
        _arrow(ax, (h_from, low), (X + 0.33, low))
        _label(ax, (X - 0.35, top + 0.3), rf"$c_{t - 1}$", fontsize=11, color=CELL_PATH_COLOR)
        _label(ax, (X - 0.35, low + 0.3), rf"$h_{t - 1}$", fontsize=11)
    end = (T - 1) * gap
    _arrow(ax, (end + 4.1, top), (end + 4.8, top), color=CELL_PATH_COLOR)
    _label(ax, (end + 4.55, top + 0.3), rf"$c_{T}$", fontsize=11, color=CELL_PATH_COLOR)
    _arrow(ax, (end + 3.87, low), (end + 4.8, low))
    _label(ax, (end + 4.55, low + 0.3), rf"$h_{T}$", fontsize=11)
    # the gradient along the highway, eq. (eq-ch15-cellpath)
    factors = " \\odot ".join(f"f_{s}" for s in range(1, T + 1)) if T <= 3 else \
        rf"f_1 \odot \cdots \odot f_{T}"
    _arrow(ax, (end + 4.6, 4.15), (-0.6, 4.15), color=CELL_PATH_COLOR, ls="--")
    _label(ax, ((end + 4.0) / 2, 4.55), "gradient along the cell state, gates fixed: "
           rf"$\partial c_{T} / \partial c_0 = \mathrm{{diag}}({factors})$", fontsize=10,
           color=CELL_PATH_COLOR)
    _label(ax, ((end + 4.0) / 2, -1.05),
           r"hidden path: $h_{t-1}$ enters the gates through $W_h$, $\sigma$ and tanh",
           fontsize=10, color="0.3")
    return _finish(ax, (-1.1, end + 5.0), (-1.35, 4.9), title)
