"""A vocabulary: the two-way map between tokens and integer indices (chapter 12).

Index order is deterministic: the special tokens first (padding, unknown),
then the tokens by descending count, ties broken alphabetically. Rare tokens
(fewer than ``min_freq`` occurrences) and those beyond ``max_size`` are left
out and later encoded as ``<unk>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from dlbook._checks import check_positive_int

__all__ = ["Vocab", "PAD", "UNK"]

PAD = "<pad>"
"""The padding token: fills short sequences up to the batch's length."""
UNK = "<unk>"
"""The unknown token: stands for every token that is not in the vocabulary."""


def _count(tokens) -> Counter:
    """Count tokens given as an iterable of tokens or of token lists."""
    if isinstance(tokens, str):
        raise TypeError("Vocab expected an iterable of tokens or of token lists; got a single str "
                        "(pass char_tokenize(text) or word_tokenize(text))")
    counts: Counter = Counter()
    for item in tokens:
        if isinstance(item, str):
            counts[item] += 1
            continue
        if not isinstance(item, Iterable):
            raise TypeError(f"Vocab expected tokens to be str or lists of str; "
                            f"got {type(item).__name__}")
        for tok in item:
            if not isinstance(tok, str):
                raise TypeError(f"Vocab expected tokens to be str; got {type(tok).__name__}")
            counts[tok] += 1
    return counts


class Vocab:
    """Token <-> index map: specials first, then by descending count, ties alphabetical.

    ``tokens`` is an iterable of tokens (``["the", "cat"]``) or of token lists
    (``[["the", "cat"], ["a", "dog"]]``). Tokens seen fewer than ``min_freq``
    times are dropped; ``max_size`` caps ``len(vocab)``, specials included.
    ``v[tok]`` is the index of ``tok``, or ``unk_index`` for an unknown token
    (``KeyError`` when the vocabulary has no ``"<unk>"``).
    Shapes: encode: T tokens -> (T,) int64; decode: (T,) ints -> T tokens.
    """

    def __init__(self, tokens: Iterable, min_freq: int = 1, max_size: int | None = None,
                 specials: Sequence[str] = (PAD, UNK)):
        min_freq = check_positive_int(min_freq, "Vocab", "min_freq")
        specials = self._check_specials(specials)
        if max_size is not None:
            max_size = check_positive_int(max_size, "Vocab", "max_size")
            if max_size < len(specials):
                raise ValueError(f"Vocab expected max_size >= the number of specials "
                                 f"({len(specials)}); got {max_size}")
        self.counts: Counter = _count(tokens)
        special_set = set(specials)
        kept = [t for t, c in self.counts.items() if c >= min_freq and t not in special_set]
        kept.sort(key=lambda t: (-self.counts[t], t))  # descending count, then alphabetical
        if max_size is not None:
            kept = kept[:max_size - len(specials)]
        self.itos: list[str] = list(specials) + kept
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(self.itos)}
        self.pad_index: int | None = self.stoi.get(PAD)
        self.unk_index: int | None = self.stoi.get(UNK)
        self._n_specials = len(specials)

    @staticmethod
    def _check_specials(specials) -> tuple[str, ...]:
        if isinstance(specials, str):
            raise TypeError(f"Vocab expected specials to be a sequence of str, e.g. ({PAD!r}, "
                            f"{UNK!r}); got the single str {specials!r}")
        specials = tuple(specials)
        if not all(isinstance(s, str) for s in specials):
            raise TypeError(f"Vocab expected specials to be str; got {specials!r}")
        if len(set(specials)) != len(specials):
            raise ValueError(f"Vocab expected distinct specials; got {specials!r}")
        return specials

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        if not isinstance(token, str):
            raise TypeError(f"Vocab[...] expected a str token; got {type(token).__name__}")
        index = self.stoi.get(token, self.unk_index)
        if index is None:
            raise KeyError(f"Vocab: token {token!r} is not in the vocabulary and there is no "
                           f"{UNK!r} special to stand for it")
        return index

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Indices of ``tokens`` (unknown ones -> ``unk_index``). Shapes: T tokens -> (T,) int64."""
        if isinstance(tokens, str):
            raise TypeError("Vocab.encode expected a list of tokens; got a single str "
                            "(pass char_tokenize(text) or word_tokenize(text))")
        return np.array([self[tok] for tok in tokens], dtype=np.int64)

    def decode(self, ids) -> list[str]:
        """Tokens of the indices ``ids``. Shapes: (T,) integers -> list of T tokens."""
        arr = np.asarray(ids)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"Vocab.decode expected integer indices; got dtype {arr.dtype}")
        if arr.ndim != 1:
            raise ValueError(f"Vocab.decode expected a 1-D sequence of indices (T,); "
                             f"got shape {arr.shape}")
        bad = arr[(arr < 0) | (arr >= len(self))]
        if bad.size:
            raise ValueError(f"Vocab.decode expected indices in [0, {len(self) - 1}]; "
                             f"got {int(bad[0])}")
        return [self.itos[i] for i in arr.tolist()]

    def frequencies(self) -> np.ndarray:
        """Corpus count of each index's token, 0 for the specials. Shapes: -> (V,) int64."""
        freq = [0] * self._n_specials + [self.counts[t] for t in self.itos[self._n_specials:]]
        return np.array(freq, dtype=np.int64)

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:6])
        more = ", ..." if len(self) > 6 else ""
        return f"Vocab(size={len(self)}, itos=[{head}{more}])"
