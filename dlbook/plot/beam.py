"""The tree that beam search explores, step by step (chapter 16).

Column t holds the K hypotheses kept after step t, best at the top; each is
drawn as the token it added, with its log-probability so far, and joined to
the hypothesis of step t - 1 it extended. The path of the returned best
answer is highlighted; hypotheses that no returned answer descends from (the
beam dropped them later) are grey; a hypothesis that wrote ``<eos>`` is
finished and grows no further. Draws into the axes it is given or makes a new
figure, and returns the axes. Nothing here changes global matplotlib settings.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

BEST_COLOR = "tab:red"
"""Nodes and edges on the path of the best returned answer."""

KEPT_COLOR = "tab:blue"
"""Nodes and edges that lead to one of the other returned answers."""

DROPPED_COLOR = "0.65"
"""Hypotheses the beam kept for a while and then dropped."""


def _check(tokens, parents, log_probs, finished) -> tuple[np.ndarray, ...]:
    arrays = [np.asarray(a) for a in (tokens, parents, log_probs, finished)]
    shape = arrays[0].shape
    if len(shape) != 2 or shape[0] == 0 or shape[1] == 0 or any(a.shape != shape for a in arrays):
        raise ValueError("plot_beam_tree expected tokens, parents, log_probs and finished of one "
                         f"shape (T, K) with T, K >= 1; got shapes {[a.shape for a in arrays]}")
    K = shape[1]
    if np.any(arrays[1] < 0) or np.any(arrays[1] >= K):
        raise ValueError(f"plot_beam_tree expected parents in [0, {K}); got values from "
                         f"{arrays[1].min()} to {arrays[1].max()}")
    return arrays[0].astype(np.int64), arrays[1].astype(np.int64), arrays[2], arrays[3].astype(bool)


def _ancestors(parents: np.ndarray, last: int, beams) -> np.ndarray:
    """on[t, k]: hypothesis k of step t is a prefix of one of ``beams`` at step ``last``."""
    on = np.zeros(parents.shape, dtype=bool)
    for k in beams:
        for t in range(last, -1, -1):
            on[t, k] = True
            k = parents[t, k]
    return on


def plot_beam_tree(tokens: np.ndarray, parents: np.ndarray, log_probs: np.ndarray,
                   finished: np.ndarray, labels=None, ax=None, title: str | None = None,
                   start: str = "<bos>"):
    """Draw one source's beam search: K hypotheses per step, edges to the ones they extend.

    Shapes: tokens, parents, log_probs, finished (T, K), the fields of a
    :class:`dlbook.models.beam.BeamSearchResult` for one source (e.g.
    ``result.tokens[n]``); ``labels[i]`` is the text of token id i (default:
    the id). Steps after every hypothesis has finished are not drawn. Returns
    the axes (chapter 16).
    """
    tokens, parents, log_probs, finished = _check(tokens, parents, log_probs, finished)
    T, K = tokens.shape
    done_before = np.zeros((T, K), dtype=bool)  # finished at an earlier step: only padding now
    done_before[1:] = finished[:-1][np.arange(T - 1)[:, None], parents[1:]]
    steps = next((t + 1 for t in range(T) if finished[t].all()), T)
    best = _ancestors(parents, steps - 1, [0])  # the returned answers, through the padding
    kept = _ancestors(parents, steps - 1, range(K))  # that finished ones were extended by
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * steps + 1.5, 0.7 * K + 1.2))
    text = (lambda i: str(labels[i])) if labels is not None else str
    root_y = (K - 1) / 2
    ax.text(0, root_y, start, ha="center", va="center", fontsize=9,
            bbox=dict(boxstyle="round", fc="white", ec="k"))
    for t in range(steps):
        for k in range(K):
            if done_before[t, k]:  # a finished answer keeps its place in the beam
                color = BEST_COLOR if best[t, k] else KEPT_COLOR if kept[t, k] else DROPPED_COLOR
                ax.plot([t + (0.22 if t > 0 else 0), t + 1], [parents[t, k], k], color=color,
                        lw=1.0, ls=":", zorder=1)
                continue
            color = BEST_COLOR if best[t, k] else KEPT_COLOR if kept[t, k] else DROPPED_COLOR
            x0, y0 = (t, parents[t, k]) if t > 0 else (0, root_y)
            ax.plot([x0 + 0.22, t + 1 - 0.22], [y0, k], color=color,
                    lw=2.2 if best[t, k] else 1.0, zorder=1)
            ax.text(t + 1, k, text(tokens[t, k]), ha="center", va="center", fontsize=9,
                    color="k" if color != DROPPED_COLOR else DROPPED_COLOR, zorder=2,
                    bbox=dict(boxstyle="round", fc="white", ec=color,
                              lw=2.2 if finished[t, k] else 1.0,
                              ls="-" if finished[t, k] or color != DROPPED_COLOR else ":"))
            ax.text(t + 1, k + 0.32, f"{log_probs[t, k]:.2f}", ha="center", va="center",
                    fontsize=7, color=color, zorder=2)
    ax.set_xlim(-0.5, steps + 0.5)
    ax.set_ylim(K - 0.4, -0.6)  # the best hypothesis of each step at the top
    ax.set_xticks(range(steps + 1), ["start"] + [f"step {t + 1}" for t in range(steps)])
    ax.set_yticks(range(K), [f"beam {k + 1}" for k in range(K)])
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if title is not None:
        ax.set_title(title)
    return ax
