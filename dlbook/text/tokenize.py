"""Splitting text into tokens: characters or words (chapter 12).

A tokenizer turns a string into a list of strings, the units a vocabulary
numbers. Characters need no rules; words need a few: here a word is a run of
letters (with inner apostrophes, as in "don't"), a number is a run of digits
(with inner ".", "," or ":", as in "3.5", "1,000" or "4:00"), and every other
non-space character is a token of its own (punctuation).
"""

from __future__ import annotations

import re

__all__ = ["char_tokenize", "word_tokenize", "WORD_PATTERN"]

WORD_PATTERN = re.compile(
    r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*"  # a word: letters, inner apostrophes allowed
    r"|\d+(?:[.,:]\d+)*"  # a number: digits, inner . , : allowed (3.5, 1,000, 4:00)
    r"|[^\w\s]|_"  # any other visible character is a token of its own
)
"""The regular expression of :func:`word_tokenize`: words, numbers, single punctuation marks."""


def _check_text(text, where: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{where} expected text to be a str; got {type(text).__name__}")
    return text


def char_tokenize(text: str) -> list[str]:
    """Characters of ``text``, one token each (spaces included): "hi!" -> ["h", "i", "!"].

    Shapes: str of length T -> list of T one-character strings.
    """
    return list(_check_text(text, "char_tokenize"))


def word_tokenize(text: str, lower: bool = True) -> list[str]:
    """Words, numbers and punctuation marks of ``text`` as separate tokens (regex, chapter 12).

    "Don't panic, it's 4:00!" -> ["don't", "panic", ",", "it's", "4:00", "!"].
    Whitespace separates tokens and is dropped; ``lower=True`` lower-cases first.
    Shapes: str -> list of tokens.
    """
    text = _check_text(text, "word_tokenize")
    return WORD_PATTERN.findall(text.lower() if lower else text)
