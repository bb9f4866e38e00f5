"""Pictures of a CNN's insides: filters, feature maps, saliency overlays (chapter 11).

Each helper draws into the axes it is given (an array of axes for the grid
helpers) or makes a new figure, and returns the axes. Nothing here changes
global matplotlib settings.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

FILTER_CMAP = "RdBu_r"
"""Diverging colour map for signed weights: red positive, blue negative, white 0."""

HEAT_CMAP = "inferno"
"""Colour map for non-negative heat maps (feature maps, saliency, CAM)."""


def _grid(axes, n: int, ncols: int, size: float, where: str) -> np.ndarray:
    """A flat array of at least n axes: the given ones, or a new ceil(n / ncols) x ncols grid."""
    if axes is None:
        ncols = max(1, min(ncols, n))
        nrows = -(-n // ncols)  # ceil
        _, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    flat = np.asarray(axes, dtype=object).ravel()
    if len(flat) < n:
        raise ValueError(f"{where} expected at least {n} axes (one per panel); got {len(flat)}")
    for ax in flat:
        ax.set_xticks([])
        ax.set_yticks([])
    return flat


def plot_filters(W: np.ndarray, axes=None, ncols: int = 8, vmax: float | None = None,
                 cmap: str = FILTER_CMAP, size: float = 0.9) -> np.ndarray:
    """Draw every kh x kw kernel W[f, c] as a small signed image on one shared colour scale.

    Shapes: W (F, C, kh, kw), a ``Conv2d``'s ``params["W"]``; also (F, kh, kw).
    C = 1 gives F panels, ncols per row; C > 1 gives one row per filter and one
    column per input channel. The scale is [-vmax, vmax], vmax = max |W| unless
    given (pass the same vmax to compare two sets of filters). Returns the axes (chapter 11).
    """
    W = np.asarray(W, dtype=np.float64)
    W = W[:, None] if W.ndim == 3 else W
    if W.ndim != 4:
        raise ValueError(f"plot_filters expected W of shape (F, C, kh, kw) or (F, kh, kw); "
                         f"got shape {np.shape(W)}")
    F, C = W.shape[:2]
    ncols = ncols if C == 1 else C
    flat = _grid(axes, F * C, ncols, size, "plot_filters")
    vmax = float(np.abs(W).max()) if vmax is None else float(vmax)
    for k, ax in enumerate(flat[:F * C]):
        ax.imshow(W[k // C, k % C], cmap=cmap, vmin=-vmax, vmax=vmax)
    for ax in flat[F * C:]:
        ax.axis("off")
    return flat


def plot_feature_maps(maps: np.ndarray, axes=None, ncols: int = 8, max_channels: int | None = None,
                      cmap: str = HEAT_CMAP, size: float = 0.9, shared_scale: bool = True,
                      label: str | None = None) -> np.ndarray:
    """Draw the channels of one example's activation, one panel per channel.

    Shapes: maps (C, H, W), e.g. ``feature_maps(model, x)[i][1][0]``. Shows the
    first ``max_channels`` channels (default: all, or as many as the given axes).
    ``shared_scale`` uses one colour range for all panels, so a weak channel
    looks weak; ``label`` goes on the first panel's y axis. Returns the axes (chapter 11).
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3:
        raise ValueError(f"plot_feature_maps expected maps of shape (C, H, W) for one example; "
                         f"got shape {maps.shape}")
    n = len(maps) if max_channels is None else min(len(maps), max_channels)
    if axes is not None and max_channels is None:
        n = min(n, np.asarray(axes, dtype=object).size)
    flat = _grid(axes, n, ncols, size, "plot_feature_maps")
    lo, hi = (maps[:n].min(), maps[:n].max()) if shared_scale else (None, None)
    for ax, m in zip(flat, maps[:n]):
        ax.imshow(m, cmap=cmap, vmin=lo, vmax=hi)
    for ax in flat[n:]:
        ax.axis("off")
    if label:
        flat[0].set_ylabel(label, fontsize="small")
    return flat


def plot_saliency(image: np.ndarray, heat: np.ndarray, ax=None, alpha: float = 0.75,
                  cmap: str = HEAT_CMAP, title: str | None = None, outline: float | None = 0.5,
                  image_cmap: str = "gray"):
    """Overlay a heat map on a grayscale image, stretched to cover it exactly.

    Shapes: image (H, W) or (1, H, W); heat (h, w), any resolution: a saliency
    map (h = H) or a coarse Grad-CAM / CAM (h < H), drawn with bilinear
    smoothing over the image's extent. ``outline`` (a fraction of the image's
    range, or None) draws the image's contour at that level on top, so the
    digit stays visible under an opaque heat map. Returns the axes (chapter 11).
    """
    image = np.asarray(image, dtype=np.float64)
    image = image[0] if image.ndim == 3 and image.shape[0] == 1 else image
    heat = np.asarray(heat, dtype=np.float64)
    if image.ndim != 2 or heat.ndim != 2:
        raise ValueError(f"plot_saliency expected image (H, W) and heat (h, w); "
                         f"got shapes {np.shape(image)} and {heat.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(2, 2))
    H, W = image.shape
    extent = (-0.5, W - 0.5, H - 0.5, -0.5)  # pixel centres at integer coordinates
    ax.imshow(image, cmap=image_cmap, extent=extent)
    ax.imshow(heat, cmap=cmap, alpha=alpha, extent=extent, interpolation="bilinear")
    lo, hi = image.min(), image.max()
    if outline is not None and hi > lo:
        ax.contour(np.arange(W), np.arange(H), image, levels=[lo + outline * (hi - lo)],
                   colors="white", linewidths=0.8)
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="small")
    return ax
