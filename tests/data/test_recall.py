"""The associative-recall generator of chapter 18 (dlbook.data.recall)."""

import numpy as np
import pytest

from dlbook.data.recall import (FIRST_KEY, QUERY, RecallStream, associative_recall, matching_pair,
                                recall_tokens, recall_vocab_size)

K, NV = 26, 10
VALUE0 = FIRST_KEY + K


def decode_pairs(tokens):
    """(key, value) letters/digits of each pair token and the query key, from the text form."""
    words = recall_tokens(tokens, K, NV)
    return [(w[0], w[1]) for w in words[:-1]], words[-1][1]


@pytest.mark.parametrize("n_pairs", [1, 3, 16, 26])
def test_pair_layout_shapes_distinct_keys_and_the_right_answer(n_pairs):
    tokens, targets = associative_recall(200, n_pairs, K, NV, rng=0)
    assert tokens.shape == (200, n_pairs + 1) and targets.shape == (200,)
    assert tokens.dtype == np.int64 and targets.dtype == np.int64
    assert tokens.max() < recall_vocab_size(K, NV) and tokens.min() >= VALUE0 + NV
    assert np.all((targets >= VALUE0) & (targets < VALUE0 + NV))  # targets are value ids
    for row, target in zip(tokens, targets):
        pairs, query = decode_pairs(row)
        keys = [k for k, _ in pairs]
        assert len(set(keys)) == n_pairs and query in keys
        assert dict(pairs)[query] == recall_tokens(target, K, NV)[0]


def test_interleaved_layout_holds_the_same_sequences():
    a, ya = associative_recall(50, 5, K, NV, layout="pair", rng=3)
    b, yb = associative_recall(50, 5, K, NV, layout="interleaved", rng=3)
    assert b.shape == (50, 12) and np.all(b[:, -2] == QUERY)
    np.testing.assert_array_equal(ya, yb)
    for pair_row, row in zip(a, b):
        words = recall_tokens(row, K, NV)
        assert "".join(recall_tokens(pair_row, K, NV)[:-1]) == "".join(words[:-2])
        assert recall_tokens(pair_row, K, NV)[-1] == "?" + words[-1]


def test_uniform_queries_and_values_and_seeded_repeatability():
    tokens, targets = associative_recall(20000, 4, K, NV, rng=1)
    where = matching_pair(tokens, K, NV)
    assert np.all(where.sum(axis=1) == 1)
    np.testing.assert_allclose(where.mean(axis=0), 0.25, atol=0.02)  # the asked-for pair
    np.testing.assert_allclose(np.bincount(targets - VALUE0, minlength=NV) / 20000, 0.1, atol=0.01)
    again, _ = associative_recall(20000, 4, K, NV, rng=1)
    np.testing.assert_array_equal(tokens, again)


def test_text_form():
    assert recall_tokens(np.array([0, 1, FIRST_KEY, VALUE0 + 7])) == ["_", "?", "a", "7"]
    tokens, target = associative_recall(1, 3, K, NV, rng=0)
    words = recall_tokens(tokens[0])
    assert len(words) == 4 and words[-1][0] == "?" and all(len(w) == 2 for w in words)


def test_stream_yields_one_fresh_batch_per_pass_with_lengths_in_range():
    stream = RecallStream(8, 2, 5, K, NV, rng=0)
    lengths = set()
    first = None
    for _ in range(40):
        (batch,) = list(stream)  # exactly one batch per pass
        tokens, targets = batch
        assert tokens.shape[0] == 8 and targets.shape == (8,)
        lengths.add(tokens.shape[1] - 1)
        first = tokens if first is None else first
    assert lengths == {2, 3, 4, 5}
    (again,) = list(RecallStream(8, 2, 5, K, NV, rng=0))
    np.testing.assert_array_equal(again[0], first)


@pytest.mark.parametrize("call, match", [
    (lambda: associative_recall(5, 27), "n_pairs <= n_keys"),
    (lambda: associative_recall(5, 0), "n_pairs"),
    (lambda: associative_recall(5, 2, n_keys=27), "n_keys <= 26"),
    (lambda: associative_recall(5, 2, layout="mixed"), "layout in"),
    (lambda: RecallStream(4, 5, 3), "min_pairs <= max_pairs"),
    (lambda: RecallStream(4, 1, 3, layout="x"), "layout in"),
    (lambda: matching_pair(associative_recall(2, 3, layout="interleaved", rng=0)[0]), "pair-layout"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
