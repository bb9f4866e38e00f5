"""Tests of the chapter 16 beam-search tree (dlbook.plot.beam)."""

import numpy as np
import pytest

# One source, K = 2, written by hand: step 1 keeps "a" (-0.5) and "b" (-0.9); step 2 keeps
# "b <eos>" (-1.0, finished) and "a a" (-1.2), dropping "a <eos>"; step 3 keeps the finished
# "b <eos>" (carried along) and "a a <eos>" (-1.5), so every hypothesis has finished.
PAD, EOS, A, B = 0, 3, 4, 5
LABELS = ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b"]
TOKENS = np.array([[A, B], [EOS, A], [PAD, EOS], [PAD, PAD]])
PARENTS = np.array([[0, 0], [1, 0], [0, 1], [0, 1]])
LOG_PROBS = np.array([[-0.5, -0.9], [-1.0, -1.2], [-1.0, -1.5], [-1.0, -1.5]])
FINISHED = np.array([[False, False], [True, False], [True, True], [True, True]])


def node_texts(ax):
    """The token boxes: texts with a bbox, by label; the log-probabilities are the others."""
    boxes = {}
    for text in ax.texts:
        if text.get_bbox_patch() is not None:
            boxes.setdefault(text.get_text(), []).append(text)
    return boxes


def test_tree_draws_each_kept_hypothesis_once_and_stops_when_all_have_finished(plt):
    from dlbook.plot.beam import plot_beam_tree
    ax = plot_beam_tree(TOKENS, PARENTS, LOG_PROBS, FINISHED, labels=LABELS, title="b")
    boxes = node_texts(ax)
    # the root, 2 nodes at step 1, 2 at step 2, 1 new node at step 3 (the other is carried)
    assert sorted((k, len(v)) for k, v in boxes.items()) == [
        ("<bos>", 1), ("<eos>", 2), ("a", 2), ("b", 1)]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["start", "step 1", "step 2", "step 3"]
    assert ax.get_title() == "b"
    numbers = sorted(t.get_text() for t in ax.texts if t.get_bbox_patch() is None)
    assert numbers == ["-0.50", "-0.90", "-1.00", "-1.20", "-1.50"]
    assert len(ax.lines) == 6  # one edge per drawn node, one dotted line for the carried answer
    assert sum(line.get_linestyle() == ":" for line in ax.lines) == 1


def test_best_path_kept_and_dropped_hypotheses_get_their_colours(plt):
    from matplotlib.colors import to_rgba

    from dlbook.plot.beam import BEST_COLOR, DROPPED_COLOR, KEPT_COLOR, plot_beam_tree
    ax = plot_beam_tree(TOKENS, PARENTS, LOG_PROBS, FINISHED, labels=LABELS)
    by_position = {(round(t.get_position()[0]), round(t.get_position()[1])): t
                   for t in ax.texts if t.get_bbox_patch() is not None}
    edge = lambda x, y: by_position[x, y].get_bbox_patch().get_edgecolor()
    # best answer "b <eos>": b at (step 1, beam 2), <eos> at (step 2, beam 1)
    assert edge(1, 1) == edge(2, 0) == to_rgba(BEST_COLOR)
    # the other returned answer "a a <eos>"
    assert edge(1, 0) == edge(2, 1) == edge(3, 1) == to_rgba(KEPT_COLOR)
    assert by_position[2, 0].get_bbox_patch().get_linewidth() > 2  # a finished answer
    # a variant where step 3 keeps two extensions of "a a" and drops the finished "b <eos>"
    tokens = np.array([[A, B], [EOS, A], [EOS, A], [PAD, EOS]])
    parents = np.array([[0, 0], [1, 0], [1, 1], [0, 1]])
    log_probs = np.array([[-0.5, -0.9], [-1.0, -1.2], [-1.5, -1.6], [-1.5, -1.9]])
    finished = np.array([[False, False], [True, False], [True, False], [True, True]])
    ax = plot_beam_tree(tokens, parents, log_probs, finished, labels=LABELS)
    colour = lambda t: t.get_bbox_patch().get_edgecolor()
    boxes = [t for t in ax.texts if t.get_bbox_patch() is not None]
    assert [t.get_text() for t in boxes if colour(t) == to_rgba(DROPPED_COLOR)] == ["b", "<eos>"]
    assert [t.get_text() for t in boxes if colour(t) == to_rgba(BEST_COLOR)] == ["a", "a", "<eos>"]
    assert len(ax.get_xticks()) == 5  # start and 4 steps


def test_tree_of_a_real_search_and_the_given_axes(plt):
    import seq2seq_checks as checks

    from dlbook.models.beam import beam_search
    from dlbook.models.seq2seq import Seq2Seq
    from dlbook.plot.beam import plot_beam_tree
    model = checks.make_model(Seq2Seq, {}, 0, 1.0)
    found = beam_search(model, checks.SRC, 3, 5)
    _, ax = plt.subplots()
    out = plot_beam_tree(found.tokens[0], found.parents[0], found.cum_log_probs[0],
                         found.finished[0], ax=ax)
    assert out is ax
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # the best beam at the top
    assert all(t.get_text().lstrip("<").rstrip(">") for t in ax.texts)


def test_tree_rejects_bad_arrays(plt):
    from dlbook.plot.beam import plot_beam_tree
    with pytest.raises(ValueError, match=r"plot_beam_tree expected .* of one shape \(T, K\)"):
        plot_beam_tree(TOKENS, PARENTS[:2], LOG_PROBS, FINISHED)
    with pytest.raises(ValueError, match=r"plot_beam_tree expected .* of one shape \(T, K\)"):
        plot_beam_tree(TOKENS[0], PARENTS[0], LOG_PROBS[0], FINISHED[0])
    with pytest.raises(ValueError, match=r"plot_beam_tree expected parents in \[0, 2\)"):
        plot_beam_tree(TOKENS, PARENTS + 1, LOG_PROBS, FINISHED)
