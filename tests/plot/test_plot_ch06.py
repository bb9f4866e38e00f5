"""dlbook.plot.plot_graph: the computation-graph figure of chapter 6."""

import numpy as np
import pytest

from dlbook.autograd import Tensor, Value, trace


def _arrows(ax):
    from matplotlib.patches import FancyArrowPatch
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def _boxes(ax):
    from matplotlib.patches import FancyBboxPatch
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch)]


def test_one_box_per_node_and_one_arrow_per_argument(plt):
    from dlbook.plot import plot_graph
    x = Value(3.0, label="x")
    f = x * x + x
    f.label = "f"
    f.backward()
    nodes, edges = trace(f)
    ax = plot_graph(nodes, edges)
    assert len(_boxes(ax)) == len(nodes) == 3
    assert len(_arrows(ax)) == len(edges) == 4  # x * x gives two arrows: the fan-out
    texts = [t.get_text() for t in ax.texts]
    assert "x\ndata 3\ngrad 7" in texts and "f = +\ndata 12\ngrad 1" in texts
    assert "n1 = *\ndata 9\ngrad 1" in texts  # unlabelled nodes are named by position


def test_repeated_edges_are_curved_apart_and_long_edges_arc_over(plt):
    from dlbook.plot import plot_graph
    x = Value(3.0, label="x")
    nodes, edges = trace(x * x + x)  # edges (x, n1) twice, (n1, f), (x, f)
    ax = plot_graph(nodes, edges)
    ax.figure.canvas.draw()
    arrows = {}
    for edge, arrow in zip(edges, _arrows(ax)):
        arrows.setdefault(edge, []).append(arrow.get_window_extent())
    middle = _boxes(ax)[1].get_window_extent()  # the box of x * x, between x and f
    first, second = arrows[(0, 1)]
    assert first.y1 < second.y0 or second.y1 < first.y0  # the two copies curve apart
    straight = arrows[(1, 2)][0]  # a single edge runs straight between box centres
    assert abs((straight.y0 + straight.y1) / 2 - (middle.y0 + middle.y1) / 2) < 1
    assert arrows[(0, 2)][0].y1 > middle.y1  # x -> f arcs over the box of x * x


def test_leaves_sit_left_of_their_first_user_and_columns_follow_depth(plt):
    from dlbook.plot import plot_graph
    a, b, c = Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")
    out = (a * b).tanh() + c  # c is used only by the last node
    nodes, edges = trace(out)
    ax = plot_graph(nodes, edges, show_grad=False)
    x_of = {t.get_text().split("\n")[0]: t.get_position()[0] for t in ax.texts}
    assert x_of["a"] == x_of["b"] == 0 and x_of["c"] == 2  # c waits next to its user
    assert max(x_of.values()) == 3
    assert all("grad" not in t.get_text() for t in ax.texts)


def test_tensor_nodes_show_shapes_and_an_existing_axes_is_used(plt):
    from dlbook.plot import plot_graph
    X = Tensor(np.ones((4, 3)), label="X")
    b = Tensor(np.zeros(3), label="b")
    loss = (X + b).tanh().sum()
    loss.backward()
    _, ax = plt.subplots()
    assert plot_graph(*trace(loss), ax=ax) is ax
    texts = [t.get_text() for t in ax.texts]
    assert "b\ndata shape (3,)\ngrad shape (3,)" in texts
    assert any(t.startswith("n4 = sum\ndata") and t.endswith("grad 1") for t in texts)
    assert not ax.axison


def test_a_single_leaf_is_drawn(plt):
    from dlbook.plot import plot_graph
    ax = plot_graph([Value(2.0)], [])
    assert len(_boxes(ax)) == 1 and not _arrows(ax)


@pytest.mark.parametrize("edges", [[(0, 0)], [(1, 0)], [(0, 5)], [(-1, 1)], [(0, 1, 2)]])
def test_bad_edges_are_value_errors(plt, edges):
    from dlbook.plot import plot_graph
    nodes = [Value(1.0), Value(2.0)]
    with pytest.raises(ValueError, match=r"plot_graph expected edges \(i, j\) with 0 <= i < j < 2"):
        plot_graph(nodes, edges)


def test_no_nodes_is_a_value_error(plt):
    from dlbook.plot import plot_graph
    with pytest.raises(ValueError, match="plot_graph expected at least one node; got an empty list"):
        plot_graph([], [])
