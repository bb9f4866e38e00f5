"""plot_backprop_graph: the annotated computational-graph figure of chapter 5."""

import pytest

NODES = {"x": (0.0, 1.0, "$x$"), "y": (0.0, -1.0, "$y$"), "add": (2.0, 0.0, "+"),
         "f": (4.0, 0.0, "$f$")}
EDGES = [("x", "add", "3", "1"), ("y", "add", "-1", "1"), ("add", "f", "2", "1")]


def texts(ax):
    """The texts drawn on ax, without the (empty) texts of the arrow annotations."""
    return [t.get_text() for t in ax.texts if getattr(t, "arrow_patch", None) is None]


def test_draws_one_circle_per_node_and_one_arrow_per_edge(plt):
    from dlbook.plot import plot_backprop_graph
    ax = plot_backprop_graph(NODES, EDGES, title="f = x + y")
    assert len(ax.patches) == len(NODES)
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == len(EDGES)
    assert {"$x$", "$y$", "+", "$f$", "3", "-1", "2"} <= set(texts(ax))
    assert texts(ax).count("1") == 3  # every backward label is drawn
    assert ax.get_title() == "f = x + y" and ax.get_legend() is not None
    assert ax.get_aspect() == 1.0


def test_forward_labels_on_the_left_backward_on_the_right_of_the_arrow(plt):
    from dlbook.plot import plot_backprop_graph
    ax = plot_backprop_graph({"a": (0.0, 0.0, "a"), "b": (2.0, 0.0, "b")}, [("a", "b", "fwd", "bwd")],
                             forward_color="green", backward_color="red")
    by_text = {t.get_text(): t for t in ax.texts}
    assert by_text["fwd"].get_position()[1] > 0 > by_text["bwd"].get_position()[1]
    assert by_text["fwd"].get_color() == "green" and by_text["bwd"].get_color() == "red"


def test_empty_labels_are_skipped_and_a_given_axes_is_used(plt):
    from dlbook.plot import plot_backprop_graph
    _, ax = plt.subplots()
    out = plot_backprop_graph({"a": (0.0, 0.0, "a"), "b": (2.0, 0.0, "b")}, [("a", "b", "v", "")], ax=ax)
    assert out is ax
    assert texts(ax) == ["a", "b", "v"]


def test_bad_input(plt):
    from dlbook.plot import plot_backprop_graph
    with pytest.raises(ValueError, match=r"nodes\['x'\] = \(x, y, text\); got \(0, 1\)"):
        plot_backprop_graph({"x": (0, 1)}, [])
    with pytest.raises(ValueError, match=r"edges\[0\] = \(source, target, forward, backward\)"):
        plot_backprop_graph(NODES, [("x", "add")])
    with pytest.raises(ValueError, match=r"known nodes .*got 'z'"):
        plot_backprop_graph(NODES, [("x", "z", "1", "2")])
    with pytest.raises(ValueError, match="nodes further apart"):
        plot_backprop_graph({"a": (0.0, 0.0, "a"), "b": (0.1, 0.0, "b")}, [("a", "b", "", "")])
