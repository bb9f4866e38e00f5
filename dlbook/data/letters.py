"""Generated string tasks over an alphabet, for chapters 12 and 14 (offline, seeded).

* :func:`contains_letter_dataset`: does the string contain the letter? A
  bag of characters answers it, so a bag-of-embeddings model suffices.
* :func:`letter_position_dataset`: at which index is the letter? Only the
  order answers it, so a model must read the sequence (chapter 14).

Both are balanced exactly (not just in expectation) and shuffled with the
explicit ``rng``, so the same seed gives the same strings.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.utils import make_rng

__all__ = ["ALPHABET", "contains_letter_dataset", "letter_position_dataset"]

ALPHABET = "abcdefghijklmnopqrstuvwxyz"
MAX_OCCURRENCES = 3
"""A positive example of contains_letter_dataset holds the letter 1 to 3 times."""


def _check_alphabet(letter: str, alphabet: str, where: str) -> np.ndarray:
    """The alphabet without ``letter``, as an array of characters to draw the others from."""
    if not isinstance(alphabet, str) or len(set(alphabet)) != len(alphabet) or len(alphabet) < 2:
        raise ValueError(f"{where} expected alphabet to be a str of at least 2 distinct "
                         f"characters; got {alphabet!r}")
    if not isinstance(letter, str) or len(letter) != 1 or letter not in alphabet:
        raise ValueError(f"{where} expected letter to be one character of the alphabet "
                         f"{alphabet!r}; got {letter!r}")
    return np.array([c for c in alphabet if c != letter])


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
    n = check_positive_int(n, where, "n")
    min_len = check_positive_int(min_len, where, "min_len")
    max_len = check_positive_int(max_len, where, "max_len")
    if max_len < min_len:
        raise ValueError(f"{where} expected max_len >= min_len; got {max_len} < {min_len}")
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
