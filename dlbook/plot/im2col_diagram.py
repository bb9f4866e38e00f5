"""im2col and col2im drawn with their numbers: one window becomes one row; rows add back (chapter 9).

:func:`plot_im2col` follows one k_h x k_w window of a (C, H, W) input into
its row of the patch matrix ``col`` (M, K), the filter into the column
``W_col`` (K, F), and the product ``Y = col W_col`` back into the output map.
:func:`plot_col2im` runs the backward pass: ``dcol = G_mat W_col^T`` and
col2im, which adds every row of ``dcol`` onto the pixels its window came
from, so a pixel under several windows collects several contributions. The
numbers come from the package's real :func:`~dlbook.layers.im2col.im2col` and
:func:`~dlbook.layers.im2col.col2im` (one image, one filter, stride 1, no
padding). Cells are :class:`~matplotlib.patches.Rectangle` patches; the boxes,
arrows and labels are those of :mod:`dlbook.plot.diagrams`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from dlbook.layers.im2col import col2im, im2col
from dlbook.plot.diagrams import _arrow, _finish, _label

CHANNEL_COLORS = ("#dbe9f6", "#e2f2dc", "#fbe5d6", "#ece0f5")
"""Fill of the cells of channel 0, 1, 2, 3 (then again), in the input and in col."""

HIGHLIGHT = "tab:red"
"""Outline of the followed window, its row, and the output it gives."""

WINDOW_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink",
                 "tab:olive", "tab:cyan", "tab:gray")
"""Outline colours of the windows in :func:`plot_col2im`, one per window over the pixel."""


def _cells(ax, values, origin, fill="white", fmt="{:g}", fontsize=9, boxed=False):
    """A (rows, cols) table of numbered unit cells; ``origin`` is its top-left corner (y up).

    ``boxed`` puts each number on a patch of its cell's colour, above any arrow crossing it.
    """
    x0, y0 = origin
    fills = np.broadcast_to(np.asarray(fill, dtype=object), values.shape)
    for (r, c), v in np.ndenumerate(values):
        ax.add_patch(Rectangle((x0 + c, y0 - r - 1), 1, 1, facecolor=fills[r, c],
                               edgecolor="0.4", linewidth=0.7, zorder=1))
        box = {"facecolor": fills[r, c], "edgecolor": "none", "pad": 1.0} if boxed else None
        ax.text(x0 + c + 0.5, y0 - r - 0.5, fmt.format(v), ha="center", va="center",
                fontsize=fontsize, zorder=3, bbox=box)


def _outline(ax, origin, row, col, height, width, color=HIGHLIGHT, inset=0.0, lw=2.5):
    """Outline the block of cells at (row, col) of the table whose top-left is ``origin``."""
    x, y = origin[0] + col + inset, origin[1] - row - height + inset
    ax.add_patch(Rectangle((x, y), width - 2 * inset, height - 2 * inset, fill=False,
                           edgecolor=color, linewidth=lw, zorder=4))


def _array(value, where, name, hint):
    arr = np.asarray(value)
    if arr.ndim != 3 or arr.size == 0 or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{where} expected {name} to be a non-empty numeric array of shape "
                         f"{hint}; got shape {arr.shape} and dtype {arr.dtype}")
    return arr.astype(np.float64)


def _pair_inside(value, limits, where, name):
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{where} expected {name} to be a pair of ints; got {value!r}") from None
    if not (0 <= a < limits[0] and 0 <= b < limits[1]):
        raise ValueError(f"{where} expected {name} inside {tuple(limits)}; got {tuple(value)}")
    return a, b


def _patch_matrices(where, x_shape, weight):
    """Check the shapes; return (kh, kw, C, H_out, W_out, W_col (K, 1)), rows of W_col (i, j, c)."""
    C, H, W = x_shape
    Cw, kh, kw = weight.shape
    if Cw != C:
        raise ValueError(f"{where} expected weight with C = {C} channels, like the input; "
                         f"got weight of shape {weight.shape}")
    if kh > H or kw > W:
        raise ValueError(f"{where} expected a window that fits the input: kernel {(kh, kw)} "
                         f"for input {(H, W)}")
    return kh, kw, C, H - kh + 1, W - kw + 1, weight.transpose(1, 2, 0).reshape(-1, 1)


def _channel_fill(C, K):
    """Fill of each column of col: column k holds channel k mod C (order i, j, c)."""
    return np.array([CHANNEL_COLORS[k % C % len(CHANNEL_COLORS)] for k in range(K)], dtype=object)


def plot_im2col(x: np.ndarray, weight: np.ndarray, position: tuple[int, int] = (0, 0), ax=None,
                title: str | None = None):
    """One window of the input becomes one row of col; ``Y = col W_col`` is the output map.

    Shapes: x (C, H, W) one image; weight (C, kh, kw) one filter W[0] (F = 1);
    stride 1, no padding, so M = H_out W_out rows with H_out = H - kh + 1 and
    K = kh kw C columns, ordered (i, j, c) as in the package's im2col.
    ``position`` (r, q) is the followed window, row r W_out + q of col and
    output y[r, q]. The bias column of ones is left out. Returns the axes
    (chapter 9).
    """
    where = "plot_im2col"
    x = _array(x, where, "x", "(C, H, W)")
    weight = _array(weight, where, "weight", "(C, kh, kw)")
    kh, kw, C, H_out, W_out, W_col = _patch_matrices(where, x.shape, weight)
    r, q = _pair_inside(position, (H_out, W_out), where, "position (r, q)")
    _, H, W = x.shape
    M, K = H_out * W_out, kh * kw * C
    col = im2col(x.transpose(1, 2, 0)[None], (kh, kw)).reshape(M, K)  # (N H_out W_out, kh kw C)
    Y = col @ W_col  # (M, F)
    m = r * W_out + q
    if ax is None:
        _, ax = plt.subplots(figsize=(0.34 * (K + 2 * W_out + 9), 0.34 * (max(K, 2 * H + M) + 5)))
    top = max(K, H + M + kh + 7) / 2  # the three matrices are centred on y = 0
    for c in range(C):  # the input channels, window outlined
        origin = (c * (W + 1), top)
        _cells(ax, x[c], origin, fill=CHANNEL_COLORS[c % len(CHANNEL_COLORS)])
        _outline(ax, origin, r, q, kh, kw)
        _label(ax, (origin[0] + W / 2, top + 0.6), rf"$x$, channel {c}", fontsize=10)
    col_origin = (0, M / 2)
    _cells(ax, col, col_origin, fill=_channel_fill(C, K)[None, :].repeat(M, axis=0))
    _outline(ax, col_origin, m, 0, 1, K)
    _label(ax, (K / 2, M / 2 + 0.7), f"col  (M, K) = ({M}, {K})", fontsize=10)
    _label(ax, (K / 2, -M / 2 - 0.7), "columns in the order (i, j, c): channel innermost",
           fontsize=9, color="0.35")
    _label(ax, (-0.9, M / 2 + 0.7), "$(r, q)$", fontsize=9)
    for k in range(M):
        _label(ax, (-0.9, M / 2 - k - 0.5), f"({k // W_out}, {k % W_out})", fontsize=9,
               color=HIGHLIGHT if k == m else "k")
    for c in range(C):
        _arrow(ax, (c * (W + 1) + q + kw / 2, top - H - 0.1), (K / 2, M / 2 + 1.15),
               color=HIGHLIGHT)
    _label(ax, (K / 2 + 2.0, (top - H + M / 2 + 1.2) / 2), "im2col", fontsize=10,
           color=HIGHLIGHT)
    filt_top = -M / 2 - 2.6
    for c in range(C):  # the filter, one (kh, kw) slice per channel
        origin = (c * (kw + 1), filt_top)
        _cells(ax, weight[c], origin, fill=CHANNEL_COLORS[c % len(CHANNEL_COLORS)])
        _label(ax, (origin[0] + kw / 2, filt_top + 0.6), rf"$W[0, {c}]$", fontsize=10)
    xw = K + 1.0  # W_col, then Y and the output map
    _cells(ax, W_col, (xw, K / 2), fill=_channel_fill(C, K)[:, None])
    _label(ax, (xw + 0.5, K / 2 + 0.7), r"$W_{\mathrm{col}}$ (K, F)", fontsize=10)
    _arrow(ax, (C * (kw + 1) - 0.6, filt_top - kh / 2), (xw - 0.15, filt_top - kh / 2))
    _label(ax, ((C * (kw + 1) + xw) / 2 - 0.3, filt_top - kh / 2 + 0.45), "reshape", fontsize=9)
    xy = xw + 2.6
    _label(ax, (xw + 1.8, 0), "=", fontsize=14)
    _cells(ax, Y, (xy, M / 2), fill="#fdeede")
    _outline(ax, (xy, M / 2), m, 0, 1, 1)
    _label(ax, (xy + 0.5, M / 2 + 0.7), r"$Y$ (M, F)", fontsize=10)
    xo = xy + 3.6
    _arrow(ax, (xy + 1.2, 0), (xo - 0.2, 0))
    _label(ax, (xy + 2.3, -0.5), "reshape", fontsize=9)
    _cells(ax, Y.reshape(H_out, W_out), (xo, H_out / 2), fill="#fdeede")
    _outline(ax, (xo, H_out / 2), r, q, 1, 1)
    _label(ax, (xo + W_out / 2, H_out / 2 + 0.7), r"$y$  $(H_{\mathrm{out}}, W_{\mathrm{out}})$", fontsize=10)
    return _finish(ax, (-2.0, xo + W_out + 0.4), (-top - 0.4, top + 1.2), title)


def plot_col2im(dout: np.ndarray, weight: np.ndarray, pixel: tuple[int, int] = (1, 1),
                channel: int = 0, ax=None, title: str | None = None):
    """The backward pass: ``dcol = G_mat W_col^T``, then col2im adds every row back onto its window.

    Shapes: dout (H_out, W_out), the upstream gradient g of one image and one
    filter (F = 1); weight (C, kh, kw) that filter W[0]; stride 1, no padding,
    so the input is (C, H, W) with H = H_out + kh - 1. G_mat (M, F) is dout
    flattened, W_col (K, F) the filter with rows (i, j, c), dcol (M, K) one
    window's gradient per row. The entries of dcol that land on input pixel
    ``pixel`` = (a, b) of channel ``channel`` are outlined in the colour of
    their window, and the windows over that pixel are drawn on dx. Returns the
    axes (chapter 9).
    """
    where = "plot_col2im"
    g = np.asarray(dout)
    if g.ndim != 2 or g.size == 0 or not np.issubdtype(g.dtype, np.number):
        raise ValueError(f"{where} expected dout to be a non-empty numeric array of shape "
                         f"(H_out, W_out); got shape {g.shape} and dtype {g.dtype}")
    weight = _array(weight, where, "weight", "(C, kh, kw)")
    C, kh, kw = weight.shape
    H_out, W_out = g.shape
    H, W = H_out + kh - 1, W_out + kw - 1
    *_, W_col = _patch_matrices(where, (C, H, W), weight)
    a, b = _pair_inside(pixel, (H, W), where, "pixel (a, b)")
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) \
            or not 0 <= channel < C:
        raise ValueError(f"{where} expected channel to be an int in [0, {C}); got {channel!r}")
    M, K = H_out * W_out, kh * kw * C
    G = g.astype(np.float64).reshape(M, 1)  # G_mat (M, F), rows in the order of col
    dcol = G @ W_col.T  # (M, K)
    blocks = dcol.reshape(1, H_out, W_out, kh, kw, C).transpose(3, 4, 0, 1, 2, 5)
    dx = col2im(blocks, (H, W))[0, :, :, channel]  # (N, H, W, C) -> (H, W)
    windows = [(r, q) for r in range(H_out) for q in range(W_out)
               if r <= a < r + kh and q <= b < q + kw]
    if ax is None:
        _, ax = plt.subplots(figsize=(0.42 * (K + W + 7), 0.42 * (max(M, H) + 4.5)))
    top = M / 2
    _cells(ax, W_col.T, (0, top + 1.6), fill=_channel_fill(C, K)[None, :])
    _label(ax, (-0.75, top + 1.1), r"$W_{\mathrm{col}}^\top$", fontsize=10)
    _cells(ax, G, (-1.5, top), fill="#fdeede")
    _label(ax, (-1.0, -top - 0.5), r"$G_{\mathrm{mat}}$", fontsize=10)
    _cells(ax, dcol, (0, top), fill=_channel_fill(C, K)[None, :].repeat(M, axis=0))
    _label(ax, (K / 2, -top - 0.5), r"$d\mathrm{col} = G_{\mathrm{mat}}\, W_{\mathrm{col}}^\top$"
           f"  (M, K) = ({M}, {K})", fontsize=10)
    _label(ax, (-2.6, top + 0.4), "$(r, q)$", fontsize=9)
    for m in range(M):
        _label(ax, (-2.6, top - m - 0.5), f"({m // W_out}, {m % W_out})", fontsize=9)
    xd, dtop = K + 3.0, H / 2
    _cells(ax, dx, (xd, dtop), fill=np.where(np.arange(H * W).reshape(H, W) == a * W + b,
                                            "#fbd5d5", "white"), boxed=True)
    _label(ax, (xd + W / 2, dtop + 0.7), r"$dx$ = col2im($d\mathrm{col}$)"
           + (f", channel {channel}" if C > 1 else ""), fontsize=10)
    terms = []
    for n, (r, q) in enumerate(windows):
        color = WINDOW_COLORS[n % len(WINDOW_COLORS)]
        m, k = r * W_out + q, ((a - r) * kw + (b - q)) * C + channel  # row; column (i, j, c)
        _outline(ax, (0, top), m, k, 1, 1, color=color, lw=2.2)
        _outline(ax, (xd, dtop), r, q, kh, kw, color=color, inset=0.06 + 0.07 * n, lw=1.6)
        _arrow(ax, (K + 0.1, top - m - 0.5), (xd + b + 0.08, dtop - a - 0.5), color=color)
        terms.append(f"{dcol[m, k]:g}")
    total = " + ".join(f"({t})" if t.startswith("-") else t for t in terms)
    _label(ax, (xd + W / 2, dtop - H - 0.6), rf"$dx[{a}, {b}]$ = {total} = {dx[a, b]:g}",
           fontsize=10)
    return _finish(ax, (-3.4, xd + W + 0.4), (-max(top, dtop) - 1.2, top + 2.1), title)
