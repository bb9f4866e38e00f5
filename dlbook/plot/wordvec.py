"""Word vectors in the plane: a 2-D PCA projection with labels and analogy arrows (chapter 13).

Draws into ``ax`` when given one and otherwise creates a new figure, then
returns the axes. Nothing here changes global matplotlib settings.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from dlbook._checks import as_float_array

GROUP_MARKERS = "os^vD<>p*h"
"""Marker shapes given to the word groups in turn."""


def project_2d(vectors: np.ndarray) -> np.ndarray:
    """Coordinates on the top two principal components of the centred vectors (PCA).

    Shapes: vectors (N, E), N >= 2, E >= 2 -> (N, 2). The sign of each axis
    is fixed (its largest-magnitude coordinate is positive), so the picture
    is reproducible. Chapter 13.
    """
    X = as_float_array(vectors, "project_2d", "vectors").astype(np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 2:
        raise ValueError(f"project_2d expected vectors of shape (N, E) with N >= 2 and E >= 2; "
                         f"got shape {X.shape}")
    X = X - X.mean(axis=0)
    U, S, _ = np.linalg.svd(X, full_matrices=False)
    Y = U[:, :2] * S[:2]  # (N, 2) scores on the first two components
    rows = np.argmax(np.abs(Y), axis=0)
    signs = np.sign(Y[rows, [0, 1]])
    signs[signs == 0] = 1
    return Y * signs


def plot_word_vectors(vectors: np.ndarray, words: Sequence[str], ax=None,
                      groups: Mapping[str, Sequence[str]] | None = None,
                      arrows: Sequence[tuple[str, str]] = (), fontsize: float = 8.0):
    """Scatter the PCA projection of word vectors, each point labelled with its word.

    Shapes: vectors (N, E) with one row per entry of ``words``. ``groups``
    (name -> words) colours and shapes the points by group, with a legend;
    ``arrows`` lists (from_word, to_word) pairs joined by an arrow, e.g. the
    man -> woman and king -> queen offsets of an analogy. Returns the axes. Chapter 13.
    """
    words = list(words)
    X = as_float_array(vectors, "plot_word_vectors", "vectors")
    if X.ndim != 2 or X.shape[0] != len(words):
        raise ValueError(f"plot_word_vectors expected vectors of shape ({len(words)}, E), one row "
                         f"per word; got shape {X.shape}")
    where = {w: i for i, w in enumerate(words)}
    for a, b in arrows:
        for w in (a, b):
            if w not in where:
                raise KeyError(f"plot_word_vectors: arrow word {w!r} is not among the words")
    Y = project_2d(X)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    if groups:
        for i, (name, members) in enumerate(groups.items()):
            idx = [where[w] for w in members if w in where]
            ax.scatter(Y[idx, 0], Y[idx, 1], marker=GROUP_MARKERS[i % len(GROUP_MARKERS)],
                       s=30, label=name, zorder=3)
        ax.legend(loc="best", fontsize="small")
    else:
        ax.scatter(Y[:, 0], Y[:, 1], s=20, zorder=3)
    for i, w in enumerate(words):
        ax.annotate(w, Y[i], xytext=(3, 3), textcoords="offset points", fontsize=fontsize)
    for a, b in arrows:
        ax.annotate("", xy=Y[where[b]], xytext=Y[where[a]],
                    arrowprops=dict(arrowstyle="->", color="0.4", lw=1.0))
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    return ax
