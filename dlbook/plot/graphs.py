"""Drawings of computational graphs: the annotated graphs of chapter 5 and traces of chapter 6."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from dlbook.plot.basic import _axes


GRAPH_NODE_RADIUS = 0.32
"""Radius of a node's circle in :func:`plot_backprop_graph`, in data units."""

GRAPH_LABEL_OFFSET = 0.2
"""Distance of an edge's forward / backward labels from the edge, in data units."""


def plot_backprop_graph(nodes: Mapping[str, tuple[float, float, str]],
                        edges: Sequence[tuple[str, str, str, str]], ax=None,
                        title: str | None = None, forward_color: str = "black",
                        backward_color: str = "tab:red"):
    """Draw a small computational graph annotated with forward values and gradients (chapter 5).

    ``nodes`` maps a name to ``(x, y, text)``: the centre of the node's circle
    and the text written inside it (a variable name or an operation such as
    "+"). ``edges`` holds ``(source, target, forward, backward)``: an arrow
    source -> target with the ``forward`` text (the value flowing forward) on
    its left-hand side and the ``backward`` text (the gradient flowing back)
    on its right-hand side, i.e. above and below an arrow that points right.

    Shapes: len(nodes) circles, len(edges) arrows.
    """
    ax = _axes(ax)
    for name, spec in nodes.items():
        if not isinstance(spec, (tuple, list)) or len(spec) != 3:
            raise ValueError(f"plot_backprop_graph expected nodes[{name!r}] = (x, y, text); "
                             f"got {spec!r}")
    for i, edge in enumerate(edges):
        if not isinstance(edge, (tuple, list)) or len(edge) != 4:
            raise ValueError(f"plot_backprop_graph expected edges[{i}] = (source, target, "
                             f"forward, backward); got {edge!r}")
        for end in edge[:2]:
            if end not in nodes:
                raise ValueError(f"plot_backprop_graph expected edges[{i}] to join known nodes "
                                 f"{sorted(nodes)}; got {end!r}")
    for x, y, text in nodes.values():
        ax.add_patch(plt.Circle((x, y), GRAPH_NODE_RADIUS, facecolor="#e8f0fa",
                                edgecolor="k", linewidth=1, zorder=2))
        ax.text(x, y, text, ha="center", va="center", fontsize=12, zorder=3)
    for source, target, forward, backward in edges:
        _graph_edge(ax, nodes[source][:2], nodes[target][:2], forward, backward,
                    forward_color, backward_color)
    xs = [spec[0] for spec in nodes.values()]
    ys = [spec[1] for spec in nodes.values()]
    margin = 2 * GRAPH_NODE_RADIUS
    ax.set_xlim(min(xs) - margin, max(xs) + margin)
    ax.set_ylim(min(ys) - margin, max(ys) + margin)
    ax.set_aspect("equal")
    ax.axis("off")
    handles = [plt.Line2D([], [], color=forward_color, marker="s", linestyle="none",
                          label="forward value"),
               plt.Line2D([], [], color=backward_color, marker="s", linestyle="none",
                          label="gradient (backward)")]
    ax.legend(handles=handles, loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def _graph_edge(ax, start, end, forward: str, backward: str, forward_color: str,
                backward_color: str) -> None:
    """One arrow between two node circles, with its two labels beside its midpoint."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    length = float(np.hypot(*(end - start)))
    if length <= 2 * GRAPH_NODE_RADIUS:
        raise ValueError(f"plot_backprop_graph expected nodes further apart than "
                         f"{2 * GRAPH_NODE_RADIUS}; got {start} and {end}")
    unit = (end - start) / length
    normal = np.array([-unit[1], unit[0]])  # the left-hand side of the arrow
    ax.annotate("", xy=end - GRAPH_NODE_RADIUS * unit, xytext=start + GRAPH_NODE_RADIUS * unit,
                arrowprops={"arrowstyle": "-|>", "color": "0.35", "linewidth": 1.2})
    middle = (start + end) / 2
    for text, side, color in ((forward, 1, forward_color), (backward, -1, backward_color)):
        if text:
            x, y = middle + side * GRAPH_LABEL_OFFSET * normal
            ax.text(x, y, text, ha="center", va="center", fontsize=10, color=color,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5}, zorder=4)


GRAPH_BOX = (0.72, 0.62)
"""Width and height of a node's box in :func:`plot_graph` (the columns and rows are 1 apart)."""


def _graph_columns(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Column of each node: one right of its furthest input; a leaf just left of its first user."""
    col = [0] * n
    for i, j in sorted(edges, key=lambda e: e[1]):  # edges into j after every edge into i < j
        col[j] = max(col[j], col[i] + 1)
    users: dict[int, list[int]] = {}
    for i, j in edges:
        users.setdefault(i, []).append(col[j])
    inputs = {j for _, j in edges}
    return [min(users[k]) - 1 if k not in inputs and k in users else col[k] for k in range(n)]


def _graph_rows(col: list[int], edges: Sequence[tuple[int, int]]) -> dict[int, float]:
    """Height of each node: within a column, ordered by the mean height of its neighbours."""
    columns = [[k for k in range(len(col)) if col[k] == c] for c in range(max(col) + 1)]
    y = {k: (len(ks) - 1) / 2 - r for ks in columns for r, k in enumerate(ks)}
    for _ in range(3):  # a few sweeps of the barycentre heuristic untangle small graphs
        for ks in columns:
            near = {k: [y[a] for a, b in edges if b == k] + [y[b] for a, b in edges if a == k]
                    for k in ks}
            mean = {k: np.mean(near[k]) if near[k] else y[k] for k in ks}
            ks.sort(key=lambda k: -mean[k])
            y.update({k: (len(ks) - 1) / 2 - r for r, k in enumerate(ks)})
    return y


def _graph_text(node, index: int, show_grad: bool) -> str:
    """The lines of a node's box: its name (label or ``n<i>``) and op, data, and grad."""
    def fmt(x) -> str:
        arr = np.asarray(x)
        return f"{float(arr):.4g}" if arr.ndim == 0 else f"shape {arr.shape}"
    name = getattr(node, "label", "") or f"n{index}"
    op = getattr(node, "op", "")
    lines = [f"{name} = {op}" if op else name, f"data {fmt(node.data)}"]
    if show_grad:
        lines.append(f"grad {fmt(node.grad)}")
    return "\n".join(lines)


def plot_graph(nodes: Sequence, edges: Sequence[tuple[int, int]], ax=None,
               show_grad: bool = True, fontsize: float = 8):
    """Draw a computation graph left to right: inputs on the left, the output on the right.

    Shapes: ``nodes`` (n,) objects with ``data`` and ``grad`` (and optionally
    ``op``, ``label``), in topological order; ``edges`` (i, j) pairs, "node i is
    an input of node j", as returned by :func:`dlbook.autograd.trace` (chapter 6).
    Leaves are blue, operations orange. An input used twice (``x * x``) gets
    two curved arrows: that fan-out is where gradients add up.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    nodes, edges = list(nodes), [tuple(int(v) for v in e) for e in edges]
    n = len(nodes)
    if n == 0:
        raise ValueError("plot_graph expected at least one node; got an empty list")
    bad = [e for e in edges if len(e) != 2 or not 0 <= e[0] < e[1] < n]
    if bad:
        raise ValueError(f"plot_graph expected edges (i, j) with 0 <= i < j < {n} "
                         f"(nodes in topological order); got {bad[0]}")
    col = _graph_columns(n, edges)
    y = _graph_rows(col, edges)
    width, rows = max(col) + 1, max(col.count(c) for c in set(col))
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * width + 0.3, 1.0 * rows + 0.8))
    w, h = GRAPH_BOX
    boxes = []
    for k, node in enumerate(nodes):
        leaf = not getattr(node, "parents", ())
        boxes.append(ax.add_patch(FancyBboxPatch(
            (col[k] - w / 2, y[k] - h / 2), w, h, boxstyle="round,pad=0.02", linewidth=0.8,
            facecolor="#dbe9f6" if leaf else "#fdebd0", edgecolor="k", zorder=2)))
        ax.text(col[k], y[k], _graph_text(node, k, show_grad), ha="center", va="center",
                fontsize=fontsize, zorder=3)
    drawn: dict[tuple[int, int], int] = {}
    for i, j in edges:
        copy, drawn[(i, j)] = drawn.get((i, j), 0), drawn.get((i, j), 0) + 1
        style = dict(arrowstyle="-|>", mutation_scale=10, linewidth=0.9, zorder=1)
        if col[j] - col[i] > 1:  # skips a column: arc from box top to box top, over the others
            a, b = (col[i], y[i] + h / 2 + 0.02), (col[j], y[j] + h / 2 + 0.02)
            c = ((a[0] + b[0]) / 2, max(a[1], b[1]) + 0.5 + 0.15 * copy)
            arrow = FancyArrowPatch(path=Path([a, c, b], [Path.MOVETO, Path.CURVE3, Path.CURVE3]),
                                    **style)
        else:
            rad = 0.0 if edges.count((i, j)) == 1 else 0.35 * (copy // 2 + 1) * (-1) ** copy
            arrow = FancyArrowPatch((col[i], y[i]), (col[j], y[j]), patchA=boxes[i],
                                    patchB=boxes[j], connectionstyle=f"arc3,rad={rad}", **style)
        ax.add_patch(arrow)
    ax.set_xlim(-w / 2 - 0.1, width - 1 + w / 2 + 0.1)
    ax.set_ylim(-rows / 2 - 0.2, rows / 2 + 0.2)
    ax.axis("off")
    return ax
