"""Pictures of a convolution: number grids, one sliding step, signed feature maps (chapter 9).

:func:`plot_grid` draws a small array as a table of numbered cells;
:func:`plot_conv_step` uses it to show one step of a 2-D cross-correlation
(the window on the zero-padded input, the kernel, the output filled in so
far); :func:`plot_signed_maps` shows the responses of several filters, each
on a colour scale symmetric about zero, so positive and negative responses
(the two sides of an edge) read differently. (For non-negative activations
on a shared scale see :func:`dlbook.plot.cnn.plot_feature_maps`.)
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from dlbook.plot.basic import _axes

PAD_COLOR = "0.86"
"""Face colour of the zero-padding cells drawn by :func:`plot_grid`."""

WINDOW_COLOR = "tab:red"
"""Outline colour of the highlighted window or output cell."""


def _int_at_least(value, minimum: int, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where} expected {name} to be an int; got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{where} expected {name} >= {minimum}; got {value}")
    return int(value)


def _matrix(values, where: str, name: str) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 2 or values.size == 0 or not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"{where} expected {name} to be a non-empty 2-D numeric array; "
                         f"got shape {values.shape} and dtype {values.dtype}")
    return values.astype(np.float64)


def plot_grid(values: np.ndarray, ax=None, highlight: tuple[int, int, int, int] | None = None,
              padding: int = 0, blank: np.ndarray | None = None, fmt: str = "{:g}",
              cmap: str = "Blues", title: str | None = None,
              row_labels: Sequence[str] | None = None):
    """Draw a 2-D array as a table of cells, each showing its number.

    Shapes: values (H, W); ``blank`` (H, W) bool marks cells drawn empty;
    ``highlight`` = (row, col, height, width) outlines that block of cells;
    ``row_labels`` (H,) are written left of the rows (e.g. the tokens of a
    sentence). The outer ``padding`` rings are drawn grey, as the zeros that
    padding adds. The other cells are coloured by value with ``cmap``
    (chapter 9). Returns the axes.
    """
    ax = _axes(ax)
    values = _matrix(values, "plot_grid", "values")
    H, W = values.shape
    padding = _int_at_least(padding, 0, "plot_grid", "padding")
    if 2 * padding >= min(H, W):
        raise ValueError(f"plot_grid expected padding rings thinner than the array; "
                         f"got padding={padding} for shape {values.shape}")
    blank = np.zeros((H, W), dtype=bool) if blank is None else np.asarray(blank, dtype=bool)
    if blank.shape != (H, W):
        raise ValueError(f"plot_grid expected blank of shape {(H, W)}; got shape {blank.shape}")
    rows, cols = np.indices((H, W))
    is_pad = ((rows < padding) | (rows >= H - padding) | (cols < padding) | (cols >= W - padding))
    shown = values[~is_pad & ~blank]
    lo, hi = (shown.min(), shown.max()) if shown.size else (0.0, 1.0)
    colormap = plt.get_cmap(cmap)
    for (r, c), v in np.ndenumerate(values):
        if blank[r, c]:
            face = "white"
        elif is_pad[r, c]:
            face = PAD_COLOR
        else:  # light colours only, so the black numbers stay readable
            face = colormap(0.1 + 0.45 * (v - lo) / (hi - lo) if hi > lo else 0.3)
        ax.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="0.35", linewidth=0.8))
        if not blank[r, c]:
            ax.text(c + 0.5, r + 0.5, fmt.format(v), ha="center", va="center", fontsize=9)
    if highlight is not None:
        r, c, h, w = (int(v) for v in highlight)
        if h < 1 or w < 1 or r < 0 or c < 0 or r + h > H or c + w > W:
            raise ValueError(f"plot_grid expected highlight (row, col, height, width) inside "
                             f"{(H, W)}; got {tuple(highlight)}")
        ax.add_patch(Rectangle((c, r), w, h, fill=False, edgecolor=WINDOW_COLOR, linewidth=2.5))
    if row_labels is not None:
        if len(row_labels) != H:
            raise ValueError(f"plot_grid expected {H} row_labels; got {len(row_labels)}")
        for r, label in enumerate(row_labels):
            ax.text(-0.25, r + 0.5, str(label), ha="right", va="center", fontsize=10)
    ax.set_xlim(-0.1 if row_labels is None else -1.0, W + 0.1)
    ax.set_ylim(H + 0.1, -0.1)  # row 0 at the top, as in a matrix
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_conv_step(x: np.ndarray, kernel: np.ndarray, out: np.ndarray, position: tuple[int, int],
                   stride: int = 1, padding: int = 0, axes: Sequence | None = None,
                   fmt: str = "{:g}", row_labels: Sequence[str] | None = None):
    """One step of a 2-D cross-correlation: window on the input, kernel, output so far.

    Shapes: x (H, W) unpadded input; kernel (kh, kw); out (H_out, W_out), the
    complete result, with H_out = floor((H + 2 padding - kh) / stride) + 1
    (the same for W); position (i, j), an output index. Three panels: the
    zero-padded input with the window at rows i stride .. i stride + kh - 1
    outlined, the kernel, and the output with the entries after (i, j) in
    row-major order left blank and (i, j) outlined (chapter 9). ``axes``: three
    axes, or None for a new figure; ``row_labels`` (H + 2 padding,) name the
    rows of the padded input. Returns the three axes.
    """
    x = _matrix(x, "plot_conv_step", "x")
    kernel = _matrix(kernel, "plot_conv_step", "kernel")
    out = _matrix(out, "plot_conv_step", "out")
    stride = _int_at_least(stride, 1, "plot_conv_step", "stride")
    padding = _int_at_least(padding, 0, "plot_conv_step", "padding")
    (H, W), (kh, kw) = x.shape, kernel.shape
    expected = ((H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1)
    if min(expected) < 1:
        raise ValueError(f"plot_conv_step expected a kernel that fits the padded input; got "
                         f"kernel {kernel.shape} for input {x.shape} with padding {padding}")
    if out.shape != expected:
        raise ValueError(f"plot_conv_step expected out of shape {expected} (the output-size "
                         f"formula); got shape {out.shape}")
    i, j = (int(v) for v in position)
    if not (0 <= i < expected[0] and 0 <= j < expected[1]):
        raise ValueError(f"plot_conv_step expected position inside the output {expected}; "
                         f"got {tuple(position)}")
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(9, 3.2),
                               gridspec_kw={"width_ratios": [H + 2 * padding, kh, expected[1]]})
    if len(axes) != 3:
        raise ValueError(f"plot_conv_step expected three axes; got {len(axes)}")
    xp = np.pad(x, padding)  # (H + 2p, W + 2p), zeros around
    plot_grid(xp, ax=axes[0], padding=padding, fmt=fmt,
              highlight=(i * stride, j * stride, kh, kw), row_labels=row_labels,
              title="input (padded)" if padding else "input")
    plot_grid(kernel, ax=axes[1], fmt=fmt, cmap="Oranges", title="kernel")
    later = np.arange(out.size).reshape(out.shape) > i * expected[1] + j  # not computed yet
    plot_grid(out, ax=axes[2], blank=later, fmt=fmt, cmap="Greens",
              highlight=(i, j, 1, 1), title=f"output, step ({i}, {j})")
    return axes


def plot_signed_maps(maps: np.ndarray, titles: Sequence[str] | None = None,
                     axes: Sequence | None = None, cmap: str = "RdBu_r"):
    """Show K signed maps side by side, each on a colour scale symmetric about 0.

    Shapes: maps (K, H, W), e.g. the K output channels of a convolution for
    one image (chapter 9). White is 0; the two ends of ``cmap`` are +-max|map|
    of each map. ``axes``: K axes, or None for a new one-row figure. Returns
    the axes as a 1-D object array.
    """
    maps = np.asarray(maps)
    if maps.ndim != 3 or maps.size == 0:
        raise ValueError(f"plot_signed_maps expected maps of shape (K, H, W); "
                         f"got shape {maps.shape}")
    K = maps.shape[0]
    if titles is not None and len(titles) != K:
        raise ValueError(f"plot_signed_maps expected {K} titles; got {len(titles)}")
    if axes is None:
        _, axes = plt.subplots(1, K, figsize=(2.0 * K, 2.2), squeeze=False)
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) != K:
        raise ValueError(f"plot_signed_maps expected {K} axes; got {len(axes)}")
    for k, ax in enumerate(axes):
        vmax = float(np.abs(maps[k]).max()) or 1.0  # an all-zero map is drawn white
        ax.imshow(maps[k], cmap=cmap, vmin=-vmax, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
    return axes
