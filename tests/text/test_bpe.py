"""Byte-pair encoding (chapter 12): exact round trips, hand-worked merges, ties, the size knob."""

import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlbook.data.text import load_lee_corpus
from dlbook.text import BPETokenizer, learn_bpe, pretokenize

# every code point, lone surrogates included: all of them are valid Python str
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=80)
SPACED_TEXT = st.text(alphabet=st.sampled_from("ab c\n\t.1_é€😀"), max_size=60)


@pytest.fixture(scope="module")
def lee():
    docs = load_lee_corpus()
    return "\n".join(docs[:250]), "\n".join(docs[250:])


@pytest.fixture(scope="module")
def lee_bpe(lee):
    return learn_bpe(lee[0], vocab_size=1000)


def naive_learn_bpe(text, vocab_size):
    """Reference learner: recount every pair of every word after each merge (slow, obvious)."""
    words = Counter(pretokenize(text))
    seqs = {w: list(w.encode("utf-8", "surrogatepass")) for w in words}
    merges = []
    while 256 + len(merges) < vocab_size:
        counts = Counter()
        for w, f in words.items():
            for pair in zip(seqs[w], seqs[w][1:]):
                counts[pair] += f
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))  # most frequent, then smallest ids
        new_id = 256 + len(merges)
        merges.append(best)
        for w, s in seqs.items():
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return merges


# --- pretokenize ------------------------------------------------------------------


def test_pretokenize_attaches_one_leading_space():
    assert pretokenize("Hi, you  2!") == ["Hi", ",", " you", " ", " 2", "!"]
    assert pretokenize("a_b\n x") == ["a", "_", "b", "\n", " x"]
    assert pretokenize("") == []


@given(ANY_TEXT)
@settings(max_examples=200, deadline=None)
def test_pretokenize_covers_every_character(text):
    assert "".join(pretokenize(text)) == text


# --- hand-worked merges and ties ---------------------------------------------------


def test_merges_of_aaabdaaabac_worked_by_hand():
    # One word, byte ids a=97 b=98 c=99 d=100.
    # pairs: aa 4, ab 2, bd 1, da 1, ba 1, ac 1   -> merge (a, a) = 256 "Z":   Z a b d Z a b a c
    # pairs: Za 2, ab 2, ...  tie: (97, 98) < (256, 97) -> merge (a, b) = 257 "Y":  Z Y d Z Y a c
    # pairs: ZY 2, the rest 1                      -> merge (Z, Y) = 258 "X":  X d X a c
    # all pairs once: (97, 99) "ac" is the smallest -> 259 "W":  X d X W
    # (100, 258) "dX" < (258, 100), (258, 259)      -> 260:        X [dX] W
    # (258, 260) < (260, 259)                       -> 261, then (261, 259) -> 262: one token
    tok = learn_bpe("aaabdaaabac", vocab_size=300)
    assert tok.merges == [(97, 97), (97, 98), (256, 257), (97, 99), (100, 258), (258, 260),
                          (261, 259)]
    assert tok.vocab_size == 263                      # stopped early: the word is one token
    assert [tok.token_bytes(i) for i in range(256, 259)] == [b"aa", b"ab", b"aaab"]
    three = BPETokenizer(tok.merges[:3])
    assert three.tokens(three.encode("aaabdaaabac")) == ["aaab", "d", "aaab", "a", "c"]


def test_merges_never_cross_word_boundaries():
    tok = learn_bpe("ab ab ab", vocab_size=1000)
    # words: "ab" once, " ab" twice; (97, 98) occurs 3 times, (32, 97) twice
    assert tok.merges == [(97, 98), (32, 256)]
    assert all(b" " not in tok.token_bytes(i)[1:] for i in range(tok.vocab_size))


def test_ties_go_to_the_smallest_ids_whatever_the_order_of_the_text():
    a = learn_bpe("cd\nab\nxy", vocab_size=300)
    b = learn_bpe("xy\ncd\nab", vocab_size=300)
    assert a.merges == b.merges == [(97, 98), (99, 100), (120, 121)]


@given(SPACED_TEXT, st.integers(256, 320))
@settings(max_examples=60, deadline=None)
def test_incremental_learning_equals_naive_recounting(text, vocab_size):
    assert learn_bpe(text, vocab_size).merges == naive_learn_bpe(text, vocab_size)


def test_incremental_learning_equals_naive_recounting_on_real_text(lee):
    text = lee[0][:20_000]
    assert learn_bpe(text, 400).merges == naive_learn_bpe(text, 400)


# --- the vocabulary size knob --------------------------------------------------------


def test_vocab_size_knob(lee):
    text = lee[0][:30_000]
    for v in (256, 257, 300, 500):
        tok = learn_bpe(text, v)
        assert tok.vocab_size == len(tok) == v == 256 + len(tok.merges)
    assert learn_bpe(text, 300).merges == learn_bpe(text, 500).merges[:44]  # a prefix
    assert learn_bpe("", 500).vocab_size == 256


def test_more_merges_give_shorter_sequences(lee):
    big = learn_bpe(lee[0], 1000)
    lengths = [len(BPETokenizer(big.merges[:k]).encode(lee[1])) for k in (0, 100, 300, 744)]
    assert lengths[0] == len(lee[1].encode("utf-8"))
    assert lengths == sorted(lengths, reverse=True) and len(set(lengths)) == 4


# --- encode / decode ---------------------------------------------------------------


@given(ANY_TEXT)
@settings(max_examples=200, deadline=None)
def test_round_trip_on_any_text(lee_bpe, text):
    ids = lee_bpe.encode(text)
    assert ids.dtype == np.int64 and ids.ndim == 1
    assert lee_bpe.decode(ids) == text
    assert b"".join(lee_bpe.token_bytes(i) for i in ids) == text.encode("utf-8", "surrogatepass")


@given(SPACED_TEXT | ANY_TEXT)
@settings(max_examples=60, deadline=None)
def test_round_trip_with_merges_learned_on_the_text_itself(text):
    tok = learn_bpe(text, 300)
    assert tok.decode(tok.encode(text)) == text
    assert len(tok.encode(text)) <= len(text.encode("utf-8", "surrogatepass"))


def test_encode_reproduces_the_training_segmentation():
    text = "low lower lowest newer wider new"
    tok = learn_bpe(text, 270)
    # the learner's final words are what encode must give: rebuild them with the naive rule
    for word in set(pretokenize(text)):
        ids = list(word.encode())
        for k, pair in enumerate(tok.merges):
            out, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                    out.append(256 + k)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            ids = out
        assert tok.encode(word).tolist() == ids


def test_tokens_and_unknown_characters(lee_bpe):
    text = "Bushfires near Sydney: 北京, naïve €5 😀"
    ids = lee_bpe.encode(text)
    assert lee_bpe.decode(ids) == text
    # the Lee corpus is ASCII: its merges never touch the bytes of these characters
    assert lee_bpe.tokens(lee_bpe.encode("北京")) == ["\\xe5", "\\x8c", "\\x97", "\\xe4", "\\xba", "\\xac"]
    assert lee_bpe.tokens(lee_bpe.encode(" Sydney")) == [" Sydney"]
    assert lee_bpe.decode([]) == "" and lee_bpe.encode("").shape == (0,)
    # a lone byte of a multi-byte character decodes to the replacement character
    assert lee_bpe.decode(list("é".encode())[:1]) == "\ufffd"


def test_lee_corpus_tokens_per_character(lee):
    train, heldout = lee
    t0 = time.perf_counter()
    tok = learn_bpe(train, 2000)
    seconds = time.perf_counter() - t0
    ids = tok.encode(heldout)
    per_char = len(ids) / len(heldout)
    print(f"Lee corpus, vocab 2000: learned in {seconds:.2f} s, "
          f"{per_char:.3f} tokens per character on held-out text")
    assert tok.vocab_size == 2000
    assert 0.2 < per_char < 0.4                        # words give ~0.19, bytes 1.0
    assert tok.decode(ids) == heldout
    assert seconds < 60                                # a few seconds on one core


# --- errors ---------------------------------------------------------------------------


def test_errors(lee_bpe):
    with pytest.raises(TypeError, match="learn_bpe expected text to be a str"):
        learn_bpe(b"bytes", 300)
    with pytest.raises(ValueError, match="vocab_size >= 256"):
        learn_bpe("abc", 255)
    with pytest.raises(TypeError, match="vocab_size to be an int"):
        learn_bpe("abc", 300.0)
    with pytest.raises(TypeError, match="encode expected text to be a str"):
        lee_bpe.encode(["a", "b"])
    with pytest.raises(TypeError, match="pretokenize expected text"):
        pretokenize(None)
    with pytest.raises(ValueError, match=r"ids in \[0, 999\]; got 1000"):
        lee_bpe.decode([5, 1000])
    with pytest.raises(ValueError, match="got -1"):
        lee_bpe.tokens([-1])
    with pytest.raises(ValueError, match="got 1000"):
        lee_bpe.token_bytes(1000)
    with pytest.raises(TypeError, match="integer token ids"):
        lee_bpe.decode([1.5])
    with pytest.raises(ValueError, match=r"1-D sequence"):
        lee_bpe.decode([[1, 2]])
    with pytest.raises(ValueError, match="only earlier tokens"):
        BPETokenizer([(97, 256)])
    with pytest.raises(ValueError, match="as pairs"):
        BPETokenizer([(97, 98, 99)])
