"""Generated string tasks over an alphabet, for chapters 12 and 14 (offline, seeded).

* :func:`contains_letter_dataset`: does the string contain the letter? A
  bag of characters answers it, so a bag-of-embeddings model suffices.
* :func:`letter_position_dataset`: at which index is the letter? Only the
  order answers it, so a model must read the sequence (chapter 14).
* :func:`first_letter_dataset`: where is the *first* occurrence of the
  letter, in strings of varying length holding it zero, one or several
  times? A reader must latch the position and then ignore the rest of the
  string (chapter 14's homework).

The first two are balanced exactly (not just in expectation), the third uses
every length equally often; all are shuffled with the explicit ``rng``, so
the same seed gives the same strings.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.utils import make_rng

__all__ = ["ALPHABET", "contains_letter_dataset", "first_letter_dataset",
           "letter_position_dataset"]

ALPHABET = "abcdefghijklmnopqrstuvwxyz"
MAX_OCCURRENCES = 3
"""A positive example of contains_letter_dataset holds the letter 1 to 3 times."""
P_REPEAT = 0.2
"""In first_letter_dataset, each character after the first occurrence repeats the letter
with this probability (so many strings hold it several times)."""


def _check_alphabet(letter: str, alphabet: str, where: str) -> np.ndarray:
    """The alphabet without ``letter``, as an array of characters to draw the others from."""
    if not isinstance(alphabet, str) or len(set(alphabet)) != len(alphabet) or len(alphabet) < 2:
        raise ValueError(f"{where} expected alphabet to be a str of at least 2 distinct "
                         f"characters; got {alphabet!r}")
    if not isinstance(letter, str) or len(letter) != 1 or letter not in alphabet:
        raise ValueError(f"{where} expected letter to be one character of the alphabet "
                         f"{alphabet!r}; got {letter!r}")
    return np.array([c for c in alphabet if c != letter])


def _check_sizes(n, min_len, max_len, where: str) -> tuple[int, int, int]:
    """n strings of lengths in [min_len, max_len]: three positive ints, min_len <= max_len."""
    n = check_positive_int(n, where, "n")
    min_len = check_positive_int(min_len, where, "min_len")
    max_len = check_positive_int(max_len, where, "max_len")
    if max_len < min_len:
        raise ValueError(f"{where} expected max_len >= min_len; got {max_len} < {min_len}")
    return n, min_len, max_len


def contains_letter_dataset(n: int, min_len: int = 3, max_len: int = 12, letter: str = "a",
                            alphabet: str = ALPHABET, p_contains: float = 0.5,
                            rng: int | np.random.Generator | None = None,
                            ) -> tuple[list[str], np.ndarray]:
    """Random strings and labels y = 1 if ``letter`` occurs in the string, else 0.

    Lengths are uniform in [min_len, max_len]; exactly round(n p_contains)
    strings contain the letter (1 to 3 times, at random positions), the
    others draw only from the rest of the alphabet. Chapter 12.
    Shapes: -> n strings, labels (n,) int64 in {0, 1}.
    """
    where = "contains_letter_dataset"
    n, min_len, max_len = _check_sizes(n, min_len, max_len, where)
    if not 0.0 <= p_contains <= 1.0:
        raise ValueError(f"{where} expected p_contains in [0, 1]; got {p_contains}")
    others = _check_alphabet(letter, alphabet, where)
    rng = make_rng(rng, where)
    n_pos = int(round(n * p_contains))
    labels = rng.permutation(np.r_[np.ones(n_pos), np.zeros(n - n_pos)].astype(np.int64))
    strings = []
    for label in labels:
        length = int(rng.integers(min_len, max_len + 1))
        chars = rng.choice(others, size=length)
        if label:
            k = int(rng.integers(1, min(MAX_OCCURRENCES, length) + 1))
            chars[rng.choice(length, size=k, replace=False)] = letter
        strings.append("".join(chars))
    return strings, labels


def letter_position_dataset(n: int, length: int = 10, letter: str = "a",
                            alphabet: str = ALPHABET,
                            rng: int | np.random.Generator | None = None,
                            ) -> tuple[list[str], np.ndarray]:
    """Strings of fixed ``length`` holding ``letter`` exactly once; the label is its index.

    Every position 0 .. length-1 is used equally often (up to one when n is
    not a multiple of length); the other characters never equal ``letter``.
    Chapter 14. Shapes: -> n strings, positions (n,) int64 in [0, length).
    """
    where = "letter_position_dataset"
    n = check_positive_int(n, where, "n")
    length = check_positive_int(length, where, "length")
    others = _check_alphabet(letter, alphabet, where)
    rng = make_rng(rng, where)
    positions = rng.permutation(np.arange(n, dtype=np.int64) % length)
    chars = rng.choice(others, size=(n, length))
    chars[np.arange(n), positions] = letter
    return ["".join(row) for row in chars], positions


def first_letter_dataset(n: int, min_len: int = 1, max_len: int = 20, letter: str = "a",
                         alphabet: str = ALPHABET, p_repeat: float = P_REPEAT,
                         rng: int | np.random.Generator | None = None,
                         ) -> tuple[list[str], np.ndarray]:
    """Strings with zero, one or several ``letter``; the label is the index of the first one.

    The label of a string without the letter is ``max_len`` (the class "none"),
    so there are ``max_len + 1`` classes. Every length in [min_len, max_len]
    is used equally often (up to one when n is not a multiple of the number
    of lengths); for a string of length L the label is uniform over its L
    positions and "none", so late positions, which only long strings have,
    are rarer than early ones. Characters before the first occurrence come
    from the rest of the alphabet; each character after it is ``letter``
    again with probability ``p_repeat``. Chapter 14.
    Shapes: -> n strings, labels (n,) int64 in [0, max_len].
    """
    where = "first_letter_dataset"
    n, min_len, max_len = _check_sizes(n, min_len, max_len, where)
    if isinstance(p_repeat, bool) or not isinstance(p_repeat, (int, float, np.integer, np.floating)) \
            or not 0.0 <= p_repeat <= 1.0:
        raise ValueError(f"{where} expected p_repeat to be a number in [0, 1]; got {p_repeat!r}")
    others = _check_alphabet(letter, alphabet, where)
    rng = make_rng(rng, where)
    lengths = rng.permutation(min_len + np.arange(n) % (max_len - min_len + 1))
    strings, labels = [], np.empty(n, dtype=np.int64)
    for i, length in enumerate(lengths):
        first = int(rng.integers(0, length + 1))  # == length: the letter does not occur
        chars = rng.choice(others, size=length)
        if first < length:
            chars[first] = letter
            repeat = rng.random(length - first - 1) < p_repeat  # the characters after it
            chars[first + 1:][repeat] = letter
        labels[i] = first if first < length else max_len
        strings.append("".join(chars))
    return strings, labels
