"""Attention weights as a heat map: which key each query looks at (chapter 18).

Draws into the axes it is given or makes a new figure, and returns the axes.
Nothing here changes global matplotlib settings.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

ATTENTION_CMAP = "viridis"
"""Sequential colour map for weights in [0, 1] (a row of weights sums to 1)."""

MAX_TICK_LABELS = 40
"""Beyond this many tokens on an axis the labels would overlap; ticks are left to matplotlib."""


def plot_attention(weights: np.ndarray, x_labels=None, y_labels=None, ax=None,
                   cmap: str = ATTENTION_CMAP, colorbar: bool = True, title: str | None = None):
    """Heat map of an attention matrix: row q, column k shows weight[q, k] on the scale [0, 1].

    Shapes: weights (Tq, Tk); x_labels Tk key tokens, y_labels Tq query tokens
    (optional). Returns the axes (chapter 18).
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"plot_attention expected weights of shape (Tq, Tk); got shape {w.shape}")
    for name, labels, n in (("x_labels", x_labels, w.shape[1]), ("y_labels", y_labels, w.shape[0])):
        if labels is not None and len(labels) != n:
            raise ValueError(f"plot_attention expected {n} {name} (one per "
                             f"{'key' if name == 'x_labels' else 'query'}); got {len(labels)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    image = ax.imshow(w, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    if x_labels is not None and len(x_labels) <= MAX_TICK_LABELS:
        ax.set_xticks(range(w.shape[1]), [str(s) for s in x_labels])
    if y_labels is not None and len(y_labels) <= MAX_TICK_LABELS:
        ax.set_yticks(range(w.shape[0]), [str(s) for s in y_labels])
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax
