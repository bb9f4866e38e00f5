"""Batches of token indices: padding, masks, a stream cut for truncated BPTT (chapters 12-15).

Sequences of different lengths become one rectangular array by right
padding with ``pad_index``; a boolean mask (True = real token) tells every
later step which entries to ignore. A long token stream for a language model
is instead cut into N contiguous rows read window by window, so that row i of
one batch continues row i of the previous batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from dlbook._checks import check_non_negative_int, check_positive_int

__all__ = ["pad_sequences", "length_mask", "stream_batches"]


def _as_ids(seq, where: str, name: str) -> np.ndarray:
    arr = np.asarray(seq)
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        raise TypeError(f"{where} expected {name} to hold integer token indices; "
                        f"got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{where} expected {name} to be 1-D (T,); got shape {arr.shape}")
    return arr.astype(np.int64)


def pad_sequences(seqs: Sequence[Sequence[int]], pad_index: int = 0,
                  max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad integer sequences into one array: ids[i, t] = seqs[i][t] for t < lengths[i].

    Longer sequences are truncated to ``max_len`` (default: the longest one).
    Shapes: N sequences -> ids (N, T) int64, lengths (N,) int64, T = max_len.
    """
    if isinstance(seqs, str) or (isinstance(seqs, np.ndarray) and seqs.dtype != object
                                 and seqs.ndim < 2):
        raise TypeError(f"pad_sequences expected a list of integer sequences; "
                        f"got {type(seqs).__name__}")
    rows = [_as_ids(s, "pad_sequences", f"seqs[{i}]") for i, s in enumerate(seqs)]
    if not rows:
        raise ValueError("pad_sequences expected at least one sequence; got none")
    if isinstance(pad_index, bool) or not isinstance(pad_index, (int, np.integer)):
        raise TypeError(f"pad_sequences expected pad_index to be an int; "
                        f"got {type(pad_index).__name__}")
    T = max(len(r) for r in rows) if max_len is None else \
        check_non_negative_int(max_len, "pad_sequences", "max_len")
    lengths = np.array([min(len(r), T) for r in rows], dtype=np.int64)
    ids = np.full((len(rows), T), pad_index, dtype=np.int64)
    for i, (row, n) in enumerate(zip(rows, lengths)):
        ids[i, :n] = row[:n]
    return ids, lengths


def length_mask(lengths, max_len: int | None = None) -> np.ndarray:
    """mask[i, t] = t < lengths[i]: True at real tokens, False at padding.

    Shapes: lengths (N,) -> mask (N, T) bool, T = max_len (default max(lengths)).
    """
    lengths = _as_ids(lengths, "length_mask", "lengths")
    if np.any(lengths < 0):
        raise ValueError(f"length_mask expected lengths >= 0; got {int(lengths.min())}")
    if max_len is None:
        T = int(lengths.max()) if lengths.size else 0
    else:
        T = check_non_negative_int(max_len, "length_mask", "max_len")
    return np.arange(T)[None, :] < lengths[:, None]  # (1, T) < (N, 1) -> (N, T)


def stream_batches(ids, batch_size: int, seq_len: int,
                   drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Windows of a token stream for stateful truncated BPTT: (x, y) with y[:, t] = x[:, t + 1].

    The stream is cut into ``batch_size`` contiguous rows of L = (len(ids) - 1) // N
    tokens; batch k holds columns [k T, (k + 1) T) of every row, so row i of
    batch k + 1 continues row i of batch k. The last window may be shorter
    than ``seq_len`` (skipped with ``drop_last=True``).
    Shapes: ids (S,) -> yields x (N, T) int64, y (N, T) int64, T = seq_len.
    """
    stream = _as_ids(ids, "stream_batches", "ids")
    N = check_positive_int(batch_size, "stream_batches", "batch_size")
    T = check_positive_int(seq_len, "stream_batches", "seq_len")
    L = (len(stream) - 1) // N  # each row needs L inputs plus one more token as the last target
    if L < 1:
        raise ValueError(f"stream_batches expected at least batch_size + 1 = {N + 1} tokens; "
                         f"got {len(stream)}")
    x_rows = stream[:N * L].reshape(N, L)  # row i = stream[i L : (i + 1) L]
    y_rows = stream[1:N * L + 1].reshape(N, L)  # the same rows shifted by one token
    for start in range(0, L, T):
        if drop_last and start + T > L:
            return
        yield x_rows[:, start:start + T].copy(), y_rows[:, start:start + T].copy()
