"""Everyday plotting helpers: scatter plots, decision regions, curves, images, histories (chapters 1-4 on).

Every helper draws into ``ax`` when given one and otherwise creates a new
figure, then returns the axes, so figures can be composed. Nothing here
changes global matplotlib settings.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

GRID_STEPS = 300
"""Resolution of the grid on which decision regions are evaluated."""

PADDING = 0.5
"""Margin added around the data when choosing the plotting window."""


def _axes(ax):
    """Return ``ax`` or the axes of a new figure."""
    if ax is None:
        _, ax = plt.subplots()
    return ax


def scatter_classes(X: np.ndarray, y: np.ndarray, ax=None, markers: str = "os^vD<>p*h",
                    labels: Sequence[str] | None = None):
    """Scatter 2-D points coloured and shaped by class. Shapes: X (N, 2), y (N,)."""
    ax = _axes(ax)
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"scatter_classes expected X of shape (N, 2); got shape {X.shape}")
    for i, c in enumerate(np.unique(y)):
        name = labels[i] if labels is not None else f"class {c}"
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], marker=markers[i % len(markers)], s=30,
                   edgecolor="k", linewidth=0.5, label=name, zorder=3)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                           y: np.ndarray | None = None, ax=None, alpha: float = 0.25,
                           xlim: tuple[float, float] | None = None,
                           ylim: tuple[float, float] | None = None):
    """Shade the regions where ``predict`` (N, 2) -> (N,) labels returns each class.

    Shapes: X (N, 2) data (used for the window and, with y, drawn on top).
    """
    ax = _axes(ax)
    X = np.asarray(X, dtype=np.float64)
    lo, hi = X.min(axis=0) - PADDING, X.max(axis=0) + PADDING
    xlim = xlim or (lo[0], hi[0])
    ylim = ylim or (lo[1], hi[1])
    xx, yy = np.meshgrid(np.linspace(*xlim, GRID_STEPS), np.linspace(*ylim, GRID_STEPS))
    grid = np.column_stack([xx.ravel(), yy.ravel()])  # (GRID_STEPS^2, 2)
    zz = np.asarray(predict(grid)).reshape(xx.shape)
    ax.contourf(xx, yy, zz, alpha=alpha, cmap="coolwarm")
    ax.contour(xx, yy, zz, colors="k", linewidths=0.8)
    if y is not None:
        scatter_classes(X, y, ax=ax)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return ax


def plot_function(fns: Mapping[str, Callable[[np.ndarray], np.ndarray]],
                  x: np.ndarray | None = None, ax=None, title: str | None = None):
    """Plot several named 1-D functions on one axes, e.g. {"sigmoid": F.sigmoid}."""
    ax = _axes(ax)
    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x)
    for name, fn in fns.items():
        ax.plot(x, fn(x), label=name)
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.axvline(0, color="gray", linewidth=0.5)
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_curves(curves: Mapping[str, Sequence[float]], ax=None, xlabel: str = "step",
                ylabel: str = "loss", logy: bool = False, title: str | None = None):
    """Plot named curves (loss or accuracy per step/epoch) against their index."""
    ax = _axes(ax)
    for name, values in curves.items():
        ax.plot(np.arange(len(values)), values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_images(images: np.ndarray, labels: Sequence | None = None, ncols: int = 10,
                cmap: str = "gray_r", size: float = 1.0):
    """Show a grid of grayscale images; returns the figure.

    Shapes: images (N, H, W), or (N, H*W) with square H = W.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"plot_images expected (N, H, W) or square (N, H*W); got {images.shape}")
        images = images.reshape(-1, side, side)
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, min(n, ncols), figsize=(size * min(n, ncols), size * nrows * 1.15),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=8)
    fig.tight_layout()
    return fig


def plot_linear_boundary(w: Sequence[float], b: float, ax=None,
                         xlim: tuple[float, float] = (-0.5, 1.5),
                         ylim: tuple[float, float] = (-0.5, 1.5), shade: bool = True,
                         color: str = "k", linestyle: str = "-", alpha: float = 0.15,
                         label: str | None = None):
    """Draw the line w . x + b = 0 in 2-D and shade the half-plane where w . x + b > 0.

    Shapes: w (2,), b a scalar. Used for the perceptron's decision boundary (chapter 1).
    """
    ax = _axes(ax)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (2,):
        raise ValueError(f"plot_linear_boundary expected w of shape (2,); got shape {w.shape}")
    if not np.any(w):
        raise ValueError("plot_linear_boundary expected a non-zero w (a line); got w = (0, 0)")
    if shade:
        xx, yy = np.meshgrid(np.linspace(*xlim, GRID_STEPS), np.linspace(*ylim, GRID_STEPS))
        positive = (w[0] * xx + w[1] * yy + b > 0).astype(float)  # (GRID_STEPS, GRID_STEPS)
        ax.contourf(xx, yy, positive, levels=[0.5, 1.5], colors=[color], alpha=alpha)
    if abs(w[1]) >= abs(w[0]):  # solve for x2 along x1
        xs = np.linspace(*xlim, 2)
        ys = -(w[0] * xs + b) / w[1]
    else:  # a steep line: solve for x1 along x2
        ys = np.linspace(*ylim, 2)
        xs = -(w[1] * ys + b) / w[0]
    ax.plot(xs, ys, color=color, linestyle=linestyle, label=label)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return ax


def plot_history(history, metric: str = "loss", ax=None, label: str | None = None,
                 logy: bool = False):
    """Plot a ``dlbook.train.History`` metric per epoch, training and (if present) validation.

    ``metric`` is "loss" or "acc"; ``label`` prefixes the legend entries, so
    several runs can share one axes.
    """
    ax = _axes(ax)
    prefix = f"{label} " if label else ""
    train, val = history[f"train_{metric}"], history.metrics.get(f"val_{metric}", [])
    epochs = np.arange(1, len(train) + 1)
    (line,) = ax.plot(epochs, train, label=f"{prefix}train")
    if val:
        ax.plot(epochs, val, linestyle="--", color=line.get_color(), label=f"{prefix}validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel({"loss": "loss", "acc": "accuracy"}.get(metric, metric))
    if logy:
        ax.set_yscale("log")
    ax.legend(loc="best", fontsize="small")
    return ax
