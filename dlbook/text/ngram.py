"""Count-based baselines for language models: unigram and bigram with add-k smoothing (chapter 15).

A neural language model is only worth its training time if it beats counting.
The unigram model ignores the context, P(w_t) = (c(w) + k) / (n + kV); the
bigram model looks at one previous token, P(w_t | w_{t-1} = v) =
(c(v, w) + k) / (c(v) + kV), where c(v) counts the bigrams that start with v.
Adding k > 0 to every count (Laplace smoothing for k = 1) keeps the
probability of an unseen token or pair above zero, so a held-out text never
gets an infinite loss.

Both models score a token sequence the way a neural LM does: the first token
is context only and every later token is predicted, so ``nll(ids)`` has
len(ids) - 1 entries and the numbers are directly comparable.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import check_positive_int

DEFAULT_K = 1.0
"""Add-one (Laplace) smoothing unless told otherwise."""


def _check_ids(ids, vocab_size: int, where: str, min_len: int = 1) -> np.ndarray:
    """A 1-D integer array of token ids in [0, vocab_size) with at least ``min_len`` entries."""
    arr = np.asarray(ids)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{where} expected integer token ids; got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size < min_len:
        raise ValueError(f"{where} expected a 1-D sequence of at least {min_len} token ids (T,); "
                         f"got shape {arr.shape}")
    if arr.min() < 0 or arr.max() >= vocab_size:
        bad = arr[(arr < 0) | (arr >= vocab_size)][0]
        raise ValueError(f"{where} expected ids in [0, {vocab_size - 1}]; got {int(bad)}")
    return arr.astype(np.int64)


def _check_k(k, where: str) -> float:
    if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where} expected k to be a real number; got {type(k).__name__}")
    if not k > 0:
        raise ValueError(f"{where} expected a smoothing constant k > 0; got {k}")
    return float(k)


class _CountLM:
    """Shared part of the count models: fitting state and the held-out metrics."""

    def __init__(self, vocab_size: int, k: float = DEFAULT_K):
        where = type(self).__name__
        self.vocab_size = check_positive_int(vocab_size, where, "vocab_size")
        self.k = _check_k(k, where)
        self.counts: np.ndarray | None = None
        self.probs: np.ndarray | None = None

    def _fitted(self, where: str) -> np.ndarray:
        if self.probs is None:
            raise RuntimeError(f"{type(self).__name__}.{where} called before fit")
        return self.probs

    def nll(self, ids: np.ndarray) -> np.ndarray:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def cross_entropy(self, ids: np.ndarray) -> float:
        """Mean negative log-likelihood in nats per predicted token: mean(nll(ids))."""
        return float(np.mean(self.nll(ids)))

    def perplexity(self, ids: np.ndarray) -> float:
        """exp(cross_entropy(ids)): the effective number of equally likely next tokens."""
        return float(np.exp(self.cross_entropy(ids)))


class UnigramLM(_CountLM):
    """P(w) = (c(w) + k) / (n + k V), the same for every context.

    Shapes: fit(ids (T,)); probs (V,); nll(ids (T,)) -> (T - 1,).
    Chapter 15 uses it as the floor a language model must beat.
    """

    def fit(self, ids: np.ndarray) -> "UnigramLM":
        """Count every token of the training ids; returns self."""
        ids = _check_ids(ids, self.vocab_size, "UnigramLM.fit")
        self.counts = np.bincount(ids, minlength=self.vocab_size).astype(np.int64)
        total = self.counts.sum() + self.k * self.vocab_size
        self.probs = (self.counts + self.k) / total
        return self

    def nll(self, ids: np.ndarray) -> np.ndarray:
        """-log P(w_t) for t = 1 .. T-1 (ids[0] is context only, as for the other models)."""
        probs = self._fitted("nll")
        ids = _check_ids(ids, self.vocab_size, "UnigramLM.nll", min_len=2)
        return -np.log(probs[ids[1:]])


class BigramLM(_CountLM):
    """P(w | v) = (c(v, w) + k) / (c(v) + k V), with c(v) = sum_w c(v, w).

    Shapes: fit(ids (T,)); counts and probs (V, V), row = previous token v,
    column = next token w (each row of probs sums to 1); nll(ids (T,)) -> (T - 1,).
    The table is dense, fine for characters (V ~ 100), not for a 50k-word vocabulary.
    Chapter 15 compares it with the recurrent language model.
    """

    def fit(self, ids: np.ndarray) -> "BigramLM":
        """Count the T - 1 adjacent pairs (ids[t-1], ids[t]) of the training ids; returns self."""
        ids = _check_ids(ids, self.vocab_size, "BigramLM.fit", min_len=2)
        V = self.vocab_size
        pairs = ids[:-1] * V + ids[1:]  # (v, w) -> v V + w, one bin per pair
        self.counts = np.bincount(pairs, minlength=V * V).reshape(V, V).astype(np.int64)
        row_totals = self.counts.sum(axis=1, keepdims=True) + self.k * V  # c(v) + kV, (V, 1)
        self.probs = (self.counts + self.k) / row_totals
        return self

    def nll(self, ids: np.ndarray) -> np.ndarray:
        """-log P(w_t | w_{t-1}) for t = 1 .. T-1."""
        probs = self._fitted("nll")
        ids = _check_ids(ids, self.vocab_size, "BigramLM.nll", min_len=2)
        return -np.log(probs[ids[:-1], ids[1:]])
