"""Tokenizers, the vocabulary and batching of token indices (chapter 12)."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlbook.text import (PAD, UNK, Vocab, char_tokenize, length_mask, pad_sequences,
                         stream_batches, word_tokenize)

# --- tokenize -----------------------------------------------------------------


def test_char_tokenize_keeps_every_character():
    assert char_tokenize("a b!") == ["a", " ", "b", "!"]
    assert char_tokenize("") == []


def test_word_tokenize_words_numbers_punctuation():
    text = "Don't panic, it's 4:00 -- 1,000 people (3.5%)!"
    assert word_tokenize(text) == ["don't", "panic", ",", "it's", "4:00", "-", "-", "1,000",
                                   "people", "(", "3.5", "%", ")", "!"]
    assert word_tokenize("The Cat.", lower=False) == ["The", "Cat", "."]
    assert word_tokenize("   \n\t") == []
    assert word_tokenize("café naïve") == ["café", "naïve"]


@given(st.text(max_size=60))
@settings(max_examples=60, deadline=None)
def test_word_tokenize_loses_only_whitespace(text):
    """Joining the tokens gives back the text with its whitespace removed."""
    tokens = word_tokenize(text, lower=False)
    assert "".join(tokens) == "".join(text.split())
    assert all(tok and not any(c.isspace() for c in tok) for tok in tokens)


@pytest.mark.parametrize("fn", [char_tokenize, word_tokenize])
def test_tokenizers_reject_non_strings(fn):
    with pytest.raises(TypeError, match=f"{fn.__name__} expected text to be a str; got bytes"):
        fn(b"abc")

# --- Vocab --------------------------------------------------------------------


def test_vocab_order_specials_then_count_then_alphabetical():
    v = Vocab(["b", "a", "c", "a", "b", "d", "a"])
    assert v.itos == [PAD, UNK, "a", "b", "c", "d"]  # a:3, b:2, then c, d tied at 1
    assert v.stoi == {t: i for i, t in enumerate(v.itos)}
    assert (v.pad_index, v.unk_index) == (0, 1)
    assert v.counts == Counter({"a": 3, "b": 2, "c": 1, "d": 1})
    assert len(v) == 6 and "a" in v and "z" not in v


def test_vocab_accepts_token_lists_and_is_deterministic():
    docs = [["the", "cat"], ["the", "dog"], ["a", "cat"]]
    v1, v2 = Vocab(docs), Vocab(reversed([list(reversed(d)) for d in docs]))
    assert v1.itos == v2.itos == [PAD, UNK, "cat", "the", "a", "dog"]
    assert Vocab(iter(["x", "y", "x"])).itos == [PAD, UNK, "x", "y"]  # a generator works


def test_vocab_min_freq_and_max_size():
    tokens = list("aaaabbbccd")
    assert Vocab(tokens, min_freq=2).itos == [PAD, UNK, "a", "b", "c"]
    assert Vocab(tokens, max_size=4).itos == [PAD, UNK, "a", "b"]  # size counts the specials
    assert Vocab(tokens, min_freq=3, max_size=10).itos == [PAD, UNK, "a", "b"]
    assert Vocab(tokens, max_size=2).itos == [PAD, UNK]


def test_vocab_unknown_tokens_and_encode_decode():
    v = Vocab(list("abca"))
    ids = v.encode(["a", "z", "c"])
    assert ids.dtype == np.int64 and ids.tolist() == [2, 1, 4]
    assert v["z"] == v.unk_index
    assert v.decode(ids) == ["a", UNK, "c"]
    assert v.decode(np.array([0, 3], dtype=np.int32)) == [PAD, "b"]
    assert v.encode([]).shape == (0,) and v.decode([]) == []


def test_vocab_specials_custom_absent_and_in_corpus():
    v = Vocab(["x", "<unk>", "y", "x"], specials=("<unk>",))
    assert v.itos == ["<unk>", "x", "y"]
    assert (v.pad_index, v.unk_index) == (None, 0)
    assert v.frequencies().tolist() == [0, 2, 1]  # specials count 0 even when seen
    bare = Vocab(["x", "y", "x"], specials=())
    assert bare.itos == ["x", "y"] and bare.pad_index is None and bare.unk_index is None
    with pytest.raises(KeyError, match="token 'z' is not in the vocabulary and there is no"):
        bare["z"]
    with pytest.raises(KeyError, match="'z'"):
        bare.encode(["x", "z"])


def test_vocab_frequencies_in_index_order():
    v = Vocab(list("aaabbc"))
    f = v.frequencies()
    assert f.dtype == np.int64 and f.tolist() == [0, 0, 3, 2, 1]
    assert repr(v) == "Vocab(size=5, itos=['<pad>', '<unk>', 'a', 'b', 'c'])"


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(tokens="hello"), TypeError, "got a single str"),
    (dict(tokens=[1, 2]), TypeError, "tokens to be str or lists of str; got int"),
    (dict(tokens=[["a", 3]]), TypeError, "tokens to be str; got int"),
    (dict(tokens=["a"], min_freq=0), ValueError, "min_freq >= 1; got 0"),
    (dict(tokens=["a"], min_freq=1.5), TypeError, "min_freq to be an int; got float"),
    (dict(tokens=["a"], max_size=1), ValueError, r"max_size >= the number of specials \(2\)"),
    (dict(tokens=["a"], specials="<pad>"), TypeError, "got the single str"),
    (dict(tokens=["a"], specials=("<pad>", "<pad>")), ValueError, "distinct specials"),
    (dict(tokens=["a"], specials=("<pad>", None)), TypeError, "specials to be str"),
])
def test_vocab_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        Vocab(**kwargs)


def test_vocab_bad_lookups():
    v = Vocab(list("ab"))
    with pytest.raises(TypeError, match=r"Vocab\[...\] expected a str token; got int"):
        v[3]
    with pytest.raises(TypeError, match="Vocab.encode expected a list of tokens; got a single str"):
        v.encode("ab")
    with pytest.raises(ValueError, match=r"Vocab.decode expected indices in \[0, 3\]; got 4"):
        v.decode([0, 4])
    with pytest.raises(ValueError, match="got -1"):
        v.decode([-1])
    with pytest.raises(TypeError, match="integer indices; got dtype float64"):
        v.decode([1.0])
    with pytest.raises(ValueError, match=r"1-D sequence of indices \(T,\); got shape \(1, 2\)"):
        v.decode([[0, 1]])

# --- pad_sequences / length_mask ------------------------------------------------


def test_pad_sequences_right_pads_and_truncates():
    ids, lengths = pad_sequences([[5, 6, 7], [8], []], pad_index=0)
    assert ids.dtype == lengths.dtype == np.int64
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]] and lengths.tolist() == [3, 1, 0]
    ids, lengths = pad_sequences([np.array([1, 2, 3, 4]), (9,)], pad_index=-1, max_len=2)
    assert ids.tolist() == [[1, 2], [9, -1]] and lengths.tolist() == [2, 1]
    ids, lengths = pad_sequences([[1]], max_len=3)
    assert ids.tolist() == [[1, 0, 0]]


def test_pad_sequences_bad_input():
    with pytest.raises(ValueError, match="at least one sequence; got none"):
        pad_sequences([])
    with pytest.raises(TypeError,
                       match=r"seqs\[1\] to hold integer token indices; got dtype float64"):
        pad_sequences([[1], [1.5]])
    with pytest.raises(TypeError, match="a list of integer sequences; got str"):
        pad_sequences("abc")
    with pytest.raises(ValueError, match=r"seqs\[0\] to be 1-D \(T,\); got shape \(1, 1\)"):
        pad_sequences([[[1]]])
    with pytest.raises(ValueError, match="max_len >= 0; got -1"):
        pad_sequences([[1]], max_len=-1)
    with pytest.raises(TypeError, match="pad_index to be an int; got float"):
        pad_sequences([[1]], pad_index=0.0)


def test_length_mask_marks_real_tokens():
    mask = length_mask(np.array([3, 1, 0]))
    assert mask.dtype == bool
    assert mask.tolist() == [[True, True, True], [True, False, False], [False, False, False]]
    assert length_mask([1, 2], max_len=4).tolist() == [[True, False, False, False],
                                                       [True, True, False, False]]
    ids, lengths = pad_sequences([[4, 5], [6, 7, 8]], pad_index=0)
    assert np.array_equal(length_mask(lengths), ids != 0)
    with pytest.raises(ValueError, match="lengths >= 0; got -2"):
        length_mask([1, -2])
    with pytest.raises(TypeError, match="integer token indices; got dtype float64"):
        length_mask([1.0])

# --- stream_batches ---------------------------------------------------------------


def test_stream_batches_shapes_targets_and_row_continuity():
    stream = np.arange(103)
    batches = list(stream_batches(stream, batch_size=4, seq_len=7))
    L = (103 - 1) // 4  # 25 tokens per row
    assert [x.shape for x, _ in batches] == [(4, 7)] * 3 + [(4, 4)]
    for x, y in batches:
        assert x.dtype == y.dtype == np.int64
        assert np.array_equal(y, x + 1)  # the stream is 0, 1, 2, ...: next token = +1
    rows = np.concatenate([x for x, _ in batches], axis=1)  # batch k+1 continues batch k
    assert np.array_equal(rows, stream[:4 * L].reshape(4, L))
    assert rows[1, 0] == rows[0, -1] + 1  # row i+1 starts where row i ends
    dropped = list(stream_batches(stream, 4, 7, drop_last=True))
    assert [x.shape for x, _ in dropped] == [(4, 7)] * 3


def test_stream_batches_with_real_tokens_and_bad_input():
    ids = np.array([3, 1, 4, 1, 5, 9, 2])
    (x, y), = list(stream_batches(ids, batch_size=2, seq_len=5))
    assert x.tolist() == [[3, 1, 4], [1, 5, 9]] and y.tolist() == [[1, 4, 1], [5, 9, 2]]
    with pytest.raises(ValueError, match=r"batch_size \+ 1 = 3 tokens; got 2"):
        next(stream_batches([1, 2], batch_size=2, seq_len=1))
    with pytest.raises(ValueError, match=r"ids to be 1-D \(T,\); got shape \(2, 2\)"):
        next(stream_batches(np.zeros((2, 2), dtype=int), 1, 1))
    with pytest.raises(ValueError, match="seq_len >= 1; got 0"):
        next(stream_batches(ids, 1, 0))
    with pytest.raises(TypeError, match="batch_size to be an int; got float"):
        next(stream_batches(ids, 2.0, 1))
