"""CBOW and skip-gram side by side: which words go in, which come out (chapter 13).

CBOW averages the input vectors of the context words and predicts the centre
word; skip-gram looks up the centre word's input vector and predicts each
context word. Both read their input vectors from rows of ``W_in`` and score
every word of the vocabulary with ``W_out``. The boxes, arrows and labels are
those of :mod:`dlbook.plot.diagrams`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from dlbook.plot.diagrams import (
    DECODER_COLOR,
    ENCODER_COLOR,
    _arrow,
    _box,
    _finish,
    _label,
)

WORD_COLOR = "white"
"""Fill of the word boxes."""

WORD_GAP = 1.5
"""Distance between the centres of neighbouring context words, in data units."""


def _side(ax, xy, text, ha="left", fontsize=10, color="k"):
    """A label beside an arrow: left-aligned (or right-aligned) at ``xy``."""
    ax.text(*xy, text, ha=ha, va="center", fontsize=fontsize, color=color)


def _offset(d: int) -> str:
    """The subscript of a context position: t-2, t-1, t+1, ..."""
    return f"t{d:+d}"


def context_window(words: Sequence[str], centre: int, window: int) -> list[int]:
    """Positions of the context words: within ``window`` of ``centre``, inside the sentence.

    Shapes: words (L,) -> up to 2 window positions, in sentence order
    (the centre itself excluded). Raises ValueError for a centre outside the
    sentence or a window below 1 (chapter 13).
    """
    words = list(words)
    if len(words) < 2 or not all(isinstance(w, str) and w for w in words):
        raise ValueError(f"context_window expected at least two non-empty strings as words; "
                         f"got {words!r}")
    for name, value, low in (("centre", centre, 0), ("window", window, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"context_window expected {name} to be an int >= {low}; "
                             f"got {value!r}")
    if centre >= len(words):
        raise ValueError(f"context_window expected centre to index one of the {len(words)} "
                         f"words; got {centre}")
    return [j for j in range(centre - window, centre + window + 1)
            if 0 <= j < len(words) and j != centre]


def plot_cbow_skipgram(words: Sequence[str] = ("the", "king", "wore", "the", "crown"),
                       centre: int = 2, window: int = 2, ax=None, title: str | None = None):
    """CBOW (context -> averaged input vector -> centre word) beside skip-gram (centre -> each context word).

    Shapes: words (L,) a tokenized sentence, ``centre`` the index t of the
    centre word w_t, and the context C_t = the words within ``window``
    positions of it (see :func:`context_window`). Left: each context word's
    row v of W_in, their mean h_t, softmax(W_out h_t), the centre word w_t,
    eq. (eq-ch13-skipgram) with CBOW's mean. Right: the centre's row v_c and
    softmax(W_out v_c) scoring each context word o as p(o | c). Returns the
    axes (chapter 13).
    """
    context = context_window(words, centre, window)
    words = list(words)
    n = len(context)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2.0 * n * WORD_GAP + 3.5, 12.0), 4.6))
    P = n * WORD_GAP  # width of one panel
    xs = [WORD_GAP / 2 + k * WORD_GAP for k in range(n)]
    mid = P / 2
    # CBOW: context words -> v -> mean h_t -> softmax -> w_t
    for x, j in zip(xs, context):
        _box(ax, (x, 0), words[j], width=1.25, height=0.55, color=WORD_COLOR)
        _label(ax, (x, -0.6), rf"$w_{{{_offset(j - centre)}}}$", fontsize=10)
        _arrow(ax, (x, 0.28), (x, 1.12))
        _box(ax, (x, 1.4), rf"$\mathbf{{v}}_{{w_{{{_offset(j - centre)}}}}}$", width=1.05,
             height=0.55, color=ENCODER_COLOR)
        _arrow(ax, (x, 1.68), (mid + 0.35 * (x - mid) / max(mid, 1), 2.35))
    _side(ax, (xs[0] - 0.15, 0.72), r"row of $W_{\mathrm{in}}$", fontsize=9, ha="right",
          color="0.35")
    _box(ax, (mid, 2.8), r"$\mathbf{h}_t = \frac{1}{|\mathcal{C}_t|}\sum_{j \in \mathcal{C}_t} \mathbf{v}_{w_j}$",
         width=min(P - 0.2, 3.2), height=0.9, color=ENCODER_COLOR, fontsize=11)
    _arrow(ax, (mid, 3.25), (mid, 3.72))
    _box(ax, (mid, 4.0), r"softmax$(W_{\mathrm{out}}\,\mathbf{h}_t)$", width=min(P - 0.2, 3.2),
         height=0.55, color=DECODER_COLOR)
    _arrow(ax, (mid, 4.28), (mid, 5.02))
    _side(ax, (mid + 0.2, 4.65), r"$p(w_t \mid \mathcal{C}_t)$", fontsize=10, ha="left")
    _box(ax, (mid, 5.3), words[centre], width=1.25, height=0.55, color=WORD_COLOR)
    _label(ax, (mid - 0.95, 5.3), r"$w_t$", fontsize=10)
    _label(ax, (mid, 6.25), "CBOW: the context predicts the centre", fontsize=11)
    # skip-gram: centre word -> v_c -> softmax -> every context word o
    X = P + 1.2
    xc = X + mid
    ax.plot([P + 0.6, P + 0.6], [-0.8, 6.0], color="0.75", lw=1, ls="--")
    _box(ax, (xc, 0), words[centre], width=1.25, height=0.55, color=WORD_COLOR)
    _label(ax, (xc, -0.6), r"$c = w_t$", fontsize=10)
    _arrow(ax, (xc, 0.28), (xc, 1.12))
    _side(ax, (xc + 0.2, 0.72), r"row of $W_{\mathrm{in}}$", fontsize=9, ha="left", color="0.35")
    _box(ax, (xc, 1.4), r"$\mathbf{v}_c$", width=1.05, height=0.55, color=ENCODER_COLOR)
    _arrow(ax, (xc, 1.68), (xc, 3.72))
    _side(ax, (xc + 0.2, 2.7), r"$\mathbf{h} = \mathbf{v}_c$", fontsize=10, ha="left")
    _box(ax, (xc, 4.0), r"softmax$(W_{\mathrm{out}}\,\mathbf{v}_c)$", width=min(P - 0.2, 3.2),
         height=0.55, color=DECODER_COLOR)
    for x, j in zip(xs, context):
        _arrow(ax, (xc + 0.3 * (x - mid) / max(mid, 1), 4.28), (X + x, 5.02))
        _box(ax, (X + x, 5.3), words[j], width=1.25, height=0.55, color=WORD_COLOR)
        _label(ax, (X + x, 5.85), rf"$o = w_{{{_offset(j - centre)}}}$", fontsize=9)
    _side(ax, (X + (xs[0] + mid) / 2 - 0.55, 4.62), r"$p(o \mid c)$", fontsize=10, ha="right")
    _label(ax, (xc, 6.25), "skip-gram: the centre predicts the context", fontsize=11)
    return _finish(ax, (-1.7, X + P + 0.2), (-0.95, 6.55), title)
