"""Plotting helpers for the chapters (the only module that imports matplotlib).

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
    train, val = getattr(history, f"train_{metric}"), getattr(history, f"val_{metric}")
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


PATH_STYLES = ("-", "--", "-.", ":")
"""Line styles cycled by :func:`plot_contour_paths`."""


def plot_contour_paths(f: Callable[[np.ndarray], np.ndarray], paths: Mapping[str, np.ndarray],
                       xlim: tuple[float, float], ylim: tuple[float, float], ax=None,
                       levels: int | Sequence[float] = 15, minimum: Sequence[float] | None = None,
                       title: str | None = None):
    """Contour lines of f(x, y) and one optimizer path per name (chapter 7).

    Shapes: ``f`` maps points (..., 2) -> values (...); each path is (T, 2),
    the iterates in order (start: black dot; end: dot in the path's colour).
    Paths cycle through line styles so overlapping ones stay visible.
    ``levels`` is a count or the contour values; ``minimum`` (2,) gets a star.
    """
    ax = _axes(ax)
    xx, yy = np.meshgrid(np.linspace(*xlim, GRID_STEPS), np.linspace(*ylim, GRID_STEPS))
    zz = np.asarray(f(np.stack([xx, yy], axis=-1)))  # grid points (G, G, 2) -> values (G, G)
    if zz.shape != xx.shape:
        raise ValueError(f"plot_contour_paths expected f to map (..., 2) points to (...) values; "
                         f"got shape {zz.shape} from input shape {xx.shape + (2,)}")
    ax.contour(xx, yy, zz, levels=levels, colors="0.65", linewidths=0.6)
    for i, (name, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=np.float64)
        if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
            raise ValueError(f"plot_contour_paths expected each path of shape (T, 2); "
                             f"got shape {path.shape} for {name!r}")
        (line,) = ax.plot(path[:, 0], path[:, 1], linewidth=1.3, label=name,
                          linestyle=PATH_STYLES[i % len(PATH_STYLES)])
        ax.plot(path[0, 0], path[0, 1], "o", color="k", markersize=4)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=line.get_color(), markersize=5)
    if minimum is not None:
        ax.plot(minimum[0], minimum[1], "*", color="k", markersize=11)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    if paths:
        ax.legend(loc="best", fontsize="small")
    return ax
