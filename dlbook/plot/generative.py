"""Pictures for generative models: image grids, reconstructions, latent maps, class histograms
(chapters 19-20).

Each helper draws into ``ax`` when given one and otherwise makes a new
figure, then returns the axes. Nothing here changes global matplotlib settings.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

GRID_PAD = 1
"""Pixels of background between neighbouring tiles of an image grid."""
GRID_FILL = 0.25
"""Grey level of the lines between tiles (light grey under the ``gray_r`` colour map)."""


def tile_images(images: np.ndarray, ncols: int = 8, pad: int = GRID_PAD,
                fill: float = 1.0) -> np.ndarray:
    """One large image made of the small ones, row by row, ``pad`` pixels of ``fill`` between.

    Shapes: images (N, H, W), (N, 1, H, W) or square (N, H W) -> (rows (H + pad) - pad,
    ncols (W + pad) - pad) with rows = ceil(N / ncols); empty tiles are ``fill`` (chapters 19-20).
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"tile_images expected square flat images (N, H W); "
                             f"got shape {images.shape}")
        images = images.reshape(-1, side, side)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"tile_images expected a non-empty stack (N, H, W); "
                         f"got shape {images.shape}")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"tile_images expected ncols to be a positive int; got {ncols!r}")
    N, H, W = images.shape
    ncols = min(ncols, N)
    rows = -(-N // ncols)  # ceil
    grid = np.full((rows * (H + pad) - pad, ncols * (W + pad) - pad), fill)
    for k, image in enumerate(images):
        r, c = divmod(k, ncols)
        grid[r * (H + pad):r * (H + pad) + H, c * (W + pad):c * (W + pad) + W] = image
    return grid


def plot_digit_grid(images: np.ndarray, ncols: int = 8, ax=None, title: str | None = None,
                    cmap: str = "gray_r", size: float = 0.35):
    """Show digits in [0, 1] as one tiled image (dark ink on white). Returns the axes.

    Shapes: images as in :func:`tile_images`. Without ``ax`` the figure is
    ``size`` inches per tile wide and high (chapter 20).
    """
    grid = tile_images(np.clip(images, 0.0, 1.0), ncols, fill=GRID_FILL)
    if ax is None:
        n = len(np.asarray(images))
        ncols = min(ncols, n)
        _, ax = plt.subplots(figsize=(size * ncols, size * -(-n // ncols)))
    ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def plot_image_rows(rows: Sequence[np.ndarray], labels: Sequence[str], ax=None,
                    cmap: str = "gray_r"):
    """Stacks of images as labelled rows (inputs, then one or more reconstructions). Returns the axes.

    Shapes: rows is a list of R arrays of one shape, (N, H, W) or (N, 1, H, W),
    values in [0, 1]; labels has R names, shown left of the rows (chapter 19).
    """
    rows = [np.asarray(r) for r in rows]
    if not rows or len(labels) != len(rows):
        raise ValueError(f"plot_image_rows expected one label per row and at least one row; "
                         f"got {len(rows)} rows and {len(labels)} labels")
    if any(r.shape != rows[0].shape for r in rows):
        raise ValueError(f"plot_image_rows expected rows of the same shape; got "
                         f"{[r.shape for r in rows]}")
    n = len(rows[0])
    if ax is None:
        _, ax = plt.subplots(figsize=(0.7 * n + 1.8, 0.85 * len(rows)))
    grid = tile_images(np.clip(np.concatenate(rows), 0.0, 1.0), n, fill=GRID_FILL)
    ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0)
    H = (grid.shape[0] + GRID_PAD) / len(rows)  # height of one row of tiles with its gap
    ax.set_xticks([])
    ax.set_yticks([H * (i + 0.5) - GRID_PAD / 2 for i in range(len(rows))], labels=list(labels))
    return ax


def plot_reconstructions(originals: np.ndarray, reconstructions: np.ndarray, ax=None,
                         labels: Sequence[str] = ("input", "reconstruction"),
                         cmap: str = "gray_r"):
    """Originals in the top row, their reconstructions below. Returns the axes.

    Shapes: originals and reconstructions (N, H, W) or (N, 1, H, W), the same shape (chapter 19).
    """
    originals, reconstructions = np.asarray(originals), np.asarray(reconstructions)
    if originals.shape != reconstructions.shape:
        raise ValueError(f"plot_reconstructions expected originals and reconstructions of the "
                         f"same shape; got {originals.shape} and {reconstructions.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.7 * len(originals) + 1.2, 1.7))
    return plot_image_rows([originals, reconstructions], labels, ax=ax, cmap=cmap)


def plot_latent_scatter(codes: np.ndarray, labels: np.ndarray, ax=None, size: float = 4.0,
                        title: str | None = None):
    """2-D codes as points coloured by class, with a legend of the classes. Returns the axes.

    Shapes: codes (N, 2), labels (N,) integers (chapter 19: a VAE's posterior means).
    """
    codes, labels = np.asarray(codes), np.asarray(labels)
    if codes.ndim != 2 or codes.shape[1] != 2 or labels.shape != codes.shape[:1]:
        raise ValueError(f"plot_latent_scatter expected codes (N, 2) and labels (N,); got "
                         f"{codes.shape} and {labels.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size))
    for k in np.unique(labels):
        pts = codes[labels == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=6, color=plt.cm.tab10(int(k) % 10), label=str(k))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(markerscale=2.5, fontsize=7, loc="upper right", ncols=2, handletextpad=0.1)
    if title:
        ax.set_title(title)
    return ax


def plot_class_histogram(counts: np.ndarray, ax=None, reference: np.ndarray | None = None,
                         title: str | None = None, color: str = "C0"):
    """Bar chart of how many samples fell into each class; a dashed line marks ``reference``.

    Shapes: counts (K,) non-negative; reference (K,) or None (e.g. the counts a
    uniform spread would give). Returns the axes (chapter 20 reads mode collapse off it).
    """
    counts = np.asarray(counts)
    if counts.ndim != 1:
        raise ValueError(f"plot_class_histogram expected counts of shape (K,); "
                         f"got shape {counts.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3))
    classes = np.arange(len(counts))
    ax.bar(classes, counts, color=color)
    if reference is not None:
        ax.step(np.append(classes, len(counts)) - 0.5, np.append(reference, reference[-1]),
                where="post", color="k", linestyle="--", linewidth=1)
    ax.set_xticks(classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("samples")
    if title:
        ax.set_title(title)
    return ax
