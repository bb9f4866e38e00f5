"""Chapter 14's homework data: where is the first 'a' (or none) in strings of varying length?"""

import numpy as np
import pytest

from dlbook.data.letters import ALPHABET, P_REPEAT, first_letter_dataset


def first_index(s: str, letter: str, none: int) -> int:
    return s.index(letter) if letter in s else none


def test_labels_are_the_first_occurrence_or_none():
    strings, labels = first_letter_dataset(2000, min_len=1, max_len=12, rng=0)
    assert len(strings) == 2000 and labels.dtype == np.int64 and labels.shape == (2000,)
    assert all(y == first_index(s, "a", 12) for s, y in zip(strings, labels))
    assert labels.min() >= 0 and labels.max() <= 12
    assert set("".join(strings)) <= set(ALPHABET)


def test_zero_one_and_several_occurrences_all_occur():
    strings, labels = first_letter_dataset(2000, min_len=1, max_len=12, rng=1)
    counts = np.array([s.count("a") for s in strings])
    assert (counts == 0).any() and (counts == 1).any() and (counts >= 3).any()
    assert np.array_equal(counts == 0, labels == 12)  # "none" exactly when there is no a
    # after the first a, each letter is another a with probability P_REPEAT
    after = "".join(s[y + 1:] for s, y in zip(strings, labels) if y < 12)
    assert abs(after.count("a") / len(after) - P_REPEAT) < 0.02


def test_every_length_is_used_equally_often_and_label_is_uniform_per_length():
    strings, labels = first_letter_dataset(2501, min_len=3, max_len=7, rng=2)
    lengths = np.array([len(s) for s in strings])
    counts = np.bincount(lengths, minlength=8)[3:]
    assert counts.min() >= 500 and counts.max() - counts.min() <= 1
    short = labels[lengths == 3]  # positions 0, 1, 2 or none (7): each about 1/4
    shares = [np.mean(short == k) for k in (0, 1, 2, 7)]
    assert all(abs(p - 0.25) < 0.07 for p in shares)
    assert not np.any((labels >= lengths) & (labels != 7))  # a position inside its string


def test_length_knob_determinism_and_custom_alphabet():
    s1, y1 = first_letter_dataset(300, min_len=5, max_len=5, letter="x", alphabet="xyz", rng=3)
    s2, y2 = first_letter_dataset(300, min_len=5, max_len=5, letter="x", alphabet="xyz",
                                  rng=np.random.default_rng(3))
    assert s1 == s2 and np.array_equal(y1, y2)
    assert {len(s) for s in s1} == {5} and set("".join(s1)) <= set("xyz")
    assert all(y == first_index(s, "x", 5) for s, y in zip(s1, y1))
    s3, _ = first_letter_dataset(300, min_len=5, max_len=5, letter="x", alphabet="xyz", rng=4)
    assert s3 != s1
    never, y = first_letter_dataset(50, max_len=6, p_repeat=1.0, rng=5)
    assert all(s[k:] == "a" * (len(s) - k) for s, k in zip(never, y) if k < 6)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n": 0}, ValueError, "n >= 1; got 0"),
    (dict(n=5, min_len=4, max_len=3), ValueError, "max_len >= min_len; got 3 < 4"),
    (dict(n=5, min_len=0), ValueError, "min_len >= 1; got 0"),
    (dict(n=5, p_repeat=1.5), ValueError, r"p_repeat to be a number in \[0, 1\]; got 1.5"),
    (dict(n=5, p_repeat=True), ValueError, "p_repeat to be a number"),
    (dict(n=5, letter="A"), ValueError, "one character of the alphabet"),
    (dict(n=5, alphabet="aab"), ValueError, "distinct characters"),
    (dict(n=5, rng="seed"), TypeError, "expected rng"),
    (dict(n=2.0), TypeError, "n to be an int; got float"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        first_letter_dataset(**kwargs)
