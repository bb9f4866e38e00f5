"""Count-based word vectors: co-occurrence counts, PPMI, truncated SVD, similarity (chapter 13).

The pipeline of chapter 13: count how often word w has word c within a
window (:func:`cooccurrence_matrix`), reweight the counts by positive
pointwise mutual information (:func:`ppmi`), keep the top singular directions
(:func:`truncated_svd`, :func:`svd_embeddings`), and compare the resulting
vectors by cosine (:func:`cosine_similarity`, :func:`most_similar`,
:func:`analogy`). ``vocab`` arguments take a :class:`dlbook.text.vocab.Vocab`
or any sequence of words in index order.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from dlbook._checks import as_float_array, check_non_negative_int, check_positive_int
from dlbook.utils import make_rng

COSINE_EPS = 1e-12
"""Norms are clipped below at this value, so a zero vector has cosine 0 with everything."""

RANDOMIZED_OVERSAMPLES = 10
"""Extra random directions a randomized SVD keeps beyond the requested rank (Halko et al.)."""

RANDOMIZED_POWER_ITERATIONS = 4
"""Power iterations of the randomized SVD: each sharpens the gap between singular values."""


def _id_sequences(sequences, where: str) -> list[np.ndarray]:
    """One 1-D int64 array, or a list of them (sentences), -> list of int64 arrays."""
    if isinstance(sequences, np.ndarray) and sequences.ndim == 1:
        sequences = [sequences]
    if isinstance(sequences, np.ndarray) and sequences.ndim != 1:
        raise ValueError(f"{where} expected a 1-D id array or a list of them; "
                         f"got an array of shape {sequences.shape}")
    out = []
    for i, seq in enumerate(sequences):
        arr = np.asarray(seq)
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{where} expected sequence {i} to be a 1-D array of integer ids; "
                            f"got shape {arr.shape} and dtype {arr.dtype}")
        out.append(arr.astype(np.int64))
    return out


def cooccurrence_matrix(sequences, vocab_size: int, window: int = 2,
                        distance_weighting: bool = False, dtype=np.float64) -> np.ndarray:
    """C[w, c] = number of times c occurs within ``window`` positions of w (both sides).

    Shapes: sequences, a 1-D int array (T,) or a list of them -> C (V, V), symmetric.
    Windows never cross from one sequence into the next. With
    ``distance_weighting`` a pair at distance d adds 1/d instead of 1
    (GloVe's weighting), so near neighbours count more. Chapter 13.
    """
    V = check_positive_int(vocab_size, "cooccurrence_matrix", "vocab_size")
    window = check_positive_int(window, "cooccurrence_matrix", "window")
    C = np.zeros((V, V), dtype=dtype)
    for seq in _id_sequences(sequences, "cooccurrence_matrix"):
        if seq.size and (seq.min() < 0 or seq.max() >= V):
            raise ValueError(f"cooccurrence_matrix expected ids in [0, {V}); got ids in "
                             f"[{seq.min()}, {seq.max()}]")
        for d in range(1, min(window, len(seq) - 1) + 1):  # every pair (t, t + d) once ...
            weight = 1.0 / d if distance_weighting else 1.0
            np.add.at(C, (seq[:-d], seq[d:]), weight)  # ... counted for both words
            np.add.at(C, (seq[d:], seq[:-d]), weight)
    return C


def _check_counts(C, where: str) -> np.ndarray:
    C = as_float_array(C, where, "C")
    if C.ndim != 2:
        raise ValueError(f"{where} expected a count matrix C of shape (V, V'); got shape {C.shape}")
    if np.any(C < 0):
        raise ValueError(f"{where} expected non-negative counts; got a minimum of {C.min():g}")
    return C


def pmi(C: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """PMI(w, c) = log( P(w, c) / (P(w) P_alpha(c)) ), -inf where C[w, c] = 0.

    Shapes: C (V, V') counts -> (V, V'). P(w, c) = C[w, c] / sum(C),
    P(w) = row sums / sum(C), and the context distribution is smoothed,
    P_alpha(c) = n_c^alpha / sum_c' n_c'^alpha with n_c the column sums
    (``alpha=0.75`` lifts rare contexts, as word2vec's negative sampling does).
    A row or column without counts holds -inf, never NaN. Chapter 13.
    """
    C = _check_counts(C, "pmi")
    if not alpha > 0:
        raise ValueError(f"pmi expected alpha > 0; got {alpha}")
    total = C.sum()
    if total <= 0:
        raise ValueError("pmi expected at least one positive count; got an all-zero matrix")
    p_wc = C / total
    p_w = C.sum(axis=1, keepdims=True) / total  # (V, 1)
    n_c = C.sum(axis=0, keepdims=True) ** alpha  # (1, V')
    p_c = n_c / n_c.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(p_wc) - np.log(p_w) - np.log(p_c)
    return np.where(C > 0, out, -np.inf).astype(C.dtype, copy=False)


def ppmi(C: np.ndarray, alpha: float = 1.0, shift: float = 1.0) -> np.ndarray:
    """PPMI(w, c) = max(PMI(w, c) - log(shift), 0); 0 where C[w, c] = 0.

    Shapes: C (V, V') -> (V, V'). ``shift = k`` gives the shifted PPMI that
    skip-gram with k negative samples implicitly factorises (Levy & Goldberg 2014);
    ``alpha`` smooths the context distribution as in :func:`pmi`. Chapter 13.
    """
    if not shift > 0:
        raise ValueError(f"ppmi expected shift > 0; got {shift}")
    return np.maximum(pmi(C, alpha) - np.log(shift), 0.0).astype(np.result_type(C, np.float32))


def _sign_flip(U: np.ndarray, Vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make the largest-|.| entry of each column of U positive (and flip Vt's row with it)."""
    rows = np.argmax(np.abs(U), axis=0)
    signs = np.sign(U[rows, np.arange(U.shape[1])])
    signs[signs == 0] = 1
    return U * signs, Vt * signs[:, None]


def truncated_svd(M: np.ndarray, k: int, randomized: bool = False,
                  rng: int | np.random.Generator | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best rank-k approximation M ~ U_k diag(S_k) Vt_k (Eckart-Young).

    Shapes: M (m, n), k <= min(m, n) -> U (m, k), S (k,), Vt (k, n).
    Exact (``numpy.linalg.svd``) by default; ``randomized=True`` projects M on
    k + 10 random directions sharpened by power iterations first, which is much
    faster for large sparse-ish matrices and needs ``rng``. Signs are fixed: the
    largest-magnitude entry of every column of U is positive. Chapter 13.
    """
    M = as_float_array(M, "truncated_svd", "M")
    if M.ndim != 2:
        raise ValueError(f"truncated_svd expected a matrix M of shape (m, n); got shape {M.shape}")
    k = check_positive_int(k, "truncated_svd", "k")
    if k > min(M.shape):
        raise ValueError(f"truncated_svd expected k <= min(m, n) = {min(M.shape)}; got k={k}")
    if not randomized:
        U, S, Vt = np.linalg.svd(M, full_matrices=False)
        U, S, Vt = U[:, :k], S[:k], Vt[:k]
    else:
        gen = make_rng(rng, "truncated_svd")
        p = min(k + RANDOMIZED_OVERSAMPLES, min(M.shape))
        Q = np.linalg.qr(M @ gen.standard_normal((M.shape[1], p)).astype(M.dtype))[0]  # (m, p)
        for _ in range(RANDOMIZED_POWER_ITERATIONS):  # Q spans ever more of the top subspace
            Q = np.linalg.qr(M.T @ Q)[0]
            Q = np.linalg.qr(M @ Q)[0]
        Ub, S, Vt = np.linalg.svd(Q.T @ M, full_matrices=False)  # small (p, n) problem
        U, S, Vt = (Q @ Ub)[:, :k], S[:k], Vt[:k]
    U, Vt = _sign_flip(U, Vt)
    return U, S, Vt


def svd_embeddings(M: np.ndarray, dim: int, power: float = 0.5, randomized: bool = False,
                   rng: int | np.random.Generator | None = None) -> np.ndarray:
    """Word vectors U_k diag(S_k)^power from the truncated SVD of a (PPMI) matrix.

    Shapes: M (V, V') -> (V, dim). ``power=1`` keeps the rank-k factor U S,
    ``power=0.5`` (the default) splits S evenly between words and contexts and
    usually gives better similarities (Levy, Goldberg & Dagan 2015). Chapter 13.
    """
    U, S, _ = truncated_svd(M, dim, randomized=randomized, rng=rng)
    return U * S ** power


def cosine_similarity(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """cos(a_i, b_j) = a_i . b_j / (||a_i|| ||b_j||) for every pair of rows.

    Shapes: a (N, E), b (M, E) -> (N, M); a 1-D a (or b) counts as one row and
    its axis is dropped from the result; ``b=None`` compares a with itself.
    A zero vector has similarity 0 with everything. Chapter 13.
    """
    a = as_float_array(a, "cosine_similarity", "a")
    b = a if b is None else as_float_array(b, "cosine_similarity", "b")
    if a.ndim not in (1, 2) or b.ndim not in (1, 2) or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"cosine_similarity expected a (N, E) or (E,) and b (M, E) or (E,) "
                         f"with the same E; got shapes {a.shape} and {b.shape}")
    an = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), COSINE_EPS)
    bn = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), COSINE_EPS)
    return an @ bn.T


def _words(vocab) -> list[str]:
    return list(vocab.itos) if hasattr(vocab, "itos") else [str(w) for w in vocab]


def _index(word: str, words: list[str], where: str) -> int:
    if not isinstance(word, str):
        raise TypeError(f"{where} expected a word (str); got {type(word).__name__}")
    try:
        return words.index(word)
    except ValueError:
        raise KeyError(f"{where}: the word {word!r} is not in the vocabulary") from None


def _top_k(scores: np.ndarray, words: list[str], k: int, banned: Iterable[int]
           ) -> list[tuple[str, float]]:
    scores = scores.astype(np.float64)  # a copy: banning does not touch the caller's array
    scores[list(banned)] = -np.inf
    order = np.argsort(-scores, kind="stable")[:k]  # ties: lower index first
    return [(words[i], float(scores[i])) for i in order if np.isfinite(scores[i])]


def _banned(vocab, words: list[str], exclude: Iterable[str], where: str) -> set[int]:
    """Indices never returned: the excluded words, and <pad>/<unk> of a Vocab."""
    banned = {_index(w, words, where) for w in exclude if w in words}
    for special in ("pad_index", "unk_index"):
        if getattr(vocab, special, None) is not None:
            banned.add(getattr(vocab, special))
    return banned


def most_similar(query: str | np.ndarray, embeddings: np.ndarray, vocab, k: int = 5,
                 exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
    """The k words whose vectors have the highest cosine with the query's.

    Shapes: query a word or a vector (E,), embeddings (V, E) -> list of k
    (word, cosine) pairs, best first. The query word itself, the words in
    ``exclude`` and a Vocab's <pad>/<unk> are never returned. Chapter 13.
    """
    embeddings = as_float_array(embeddings, "most_similar", "embeddings")
    words = _words(vocab)
    if embeddings.ndim != 2 or embeddings.shape[0] != len(words):
        raise ValueError(f"most_similar expected embeddings of shape ({len(words)}, E), one row "
                         f"per vocabulary word; got shape {embeddings.shape}")
    k = check_non_negative_int(k, "most_similar", "k")
    banned = _banned(vocab, words, exclude, "most_similar")
    if isinstance(query, str):
        banned.add(_index(query, words, "most_similar"))
        query = embeddings[words.index(query)]
    return _top_k(cosine_similarity(query, embeddings), words, k, banned)


def analogy(a: str, b: str, c: str, embeddings: np.ndarray, vocab, k: int = 1,
            exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
    """"a is to b as c is to ?" by 3CosAdd: argmax_x cos(x, b) - cos(x, a) + cos(x, c).

    Shapes: embeddings (V, E) -> list of k (word, score) pairs, best first.
    The score equals x_hat . (b_hat - a_hat + c_hat) with unit vectors; a, b and c
    themselves are excluded (else b or c usually wins). Chapter 13.
    """
    embeddings = as_float_array(embeddings, "analogy", "embeddings")
    words = _words(vocab)
    if embeddings.ndim != 2 or embeddings.shape[0] != len(words):
        raise ValueError(f"analogy expected embeddings of shape ({len(words)}, E); "
                         f"got shape {embeddings.shape}")
    k = check_non_negative_int(k, "analogy", "k")
    ia, ib, ic = (_index(w, words, "analogy") for w in (a, b, c))
    sims = cosine_similarity(embeddings[[ia, ib, ic]], embeddings)  # (3, V)
    scores = sims[1] - sims[0] + sims[2]
    banned = _banned(vocab, words, exclude, "analogy") | {ia, ib, ic}
    return _top_k(scores, words, k, banned)
