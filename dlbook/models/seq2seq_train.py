"""Training and scoring sequence-to-sequence models (chapters 16 and 17).

Training is :func:`dlbook.train.fit` with one step function,
:func:`seq2seq_step`: trim the batch's padding columns, score the
teacher-forced logits with ``SequenceCrossEntropyLoss(ignore_index=pad)``
against the shifted targets, backpropagate. ``fit`` does the rest (shuffled
:class:`dlbook.train.Minibatches`, gradient clipping, the optimizer step,
schedules), and :func:`exact_match_on` is the metric it logs after every
epoch: held-out *exact match* of greedy decoding (whole answer right or wrong)::

    fit(model, Minibatches(src, tgt, 64, rng=100), optimizer, epochs, step=seq2seq_step,
        clip_norm=5.0, metrics=[exact_match_on(val=(src_val, tgt_val))])

The scores here work on id arrays: a target row is ``<bos> y_1 ... y_K <eos>``
right-padded, and an answer counts as correct when the generated ids equal
``y_1 ... y_K <eos>`` followed by padding.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlbook.layers.seq_loss import SequenceCrossEntropyLoss

EVAL_BATCH = 500
"""Batch size for decoding held-out data (no backward pass, so it can be large)."""


def trim_padding(ids: np.ndarray, pad_index: int) -> np.ndarray:
    """Drop the trailing columns that are padding in every row. Shapes: (N, T) -> (N, T')."""
    real = np.any(np.asarray(ids) != pad_index, axis=0)
    keep = int(np.flatnonzero(real)[-1]) + 1 if real.any() else 1
    return ids[:, :keep]


def _unpack_pair(pair, where: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{where} expected a pair (src, tgt) of id arrays; got {type(pair).__name__}"
                        + (f" of length {len(pair)}" if isinstance(pair, (tuple, list)) else ""))
    return _check_pairs(*pair, where)


def _check_pairs(src, tgt, where: str) -> tuple[np.ndarray, np.ndarray]:
    src, tgt = np.asarray(src), np.asarray(tgt)
    if src.ndim != 2 or tgt.ndim != 2 or len(src) != len(tgt) or len(src) == 0:
        raise ValueError(f"{where} expected src (N, Ts) and tgt (N, Tt) with the same N >= 1; "
                         f"got shapes {src.shape} and {tgt.shape}")
    return src, tgt


def generate_batched(model, src: np.ndarray, max_len: int, batch_size: int = EVAL_BATCH) -> np.ndarray:
    """``model.generate`` over src (N, Ts) in batches. -> (N, max_len) int64."""
    src = np.asarray(src)
    was_training = model.training
    model.eval()
    try:
        parts = [model.generate(trim_padding(src[i:i + batch_size], model.pad_index), max_len)
                 for i in range(0, len(src), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(parts, axis=0)


def exact_match_ids(model, src: np.ndarray, tgt: np.ndarray, batch_size: int = EVAL_BATCH) -> float:
    """Fraction of sources whose greedy output equals the target exactly, <eos> included.

    Shapes: src (N, Ts), tgt (N, Tt) rows ``<bos> y <eos> <pad>...`` -> float in [0, 1].
    """
    src, tgt = _check_pairs(src, tgt, "exact_match_ids")
    labels = tgt[:, 1:]  # y_1 ... y_K <eos> <pad> ...
    generated = generate_batched(model, src, labels.shape[1], batch_size)
    return float(np.mean(np.all(generated == labels, axis=1)))


def token_accuracies(model, src: np.ndarray, tgt: np.ndarray,
                     batch_size: int = EVAL_BATCH) -> tuple[float, float]:
    """Per-character accuracy with teacher forcing and free running, over the real target positions.

    Teacher forced: argmax of the scores when the decoder reads the true
    prefix. Free running: the greedy output compared position by position,
    each step reading the model's own earlier choices. Their gap is the
    *exposure bias* of chapter 16. Shapes: src (N, Ts), tgt (N, Tt) -> (tf, free).
    """
    src, tgt = _check_pairs(src, tgt, "token_accuracies")
    labels = tgt[:, 1:]
    real = labels != model.pad_index
    was_training = model.training
    model.eval()
    tf_hits = []
    try:
        for i in range(0, len(src), batch_size):
            logits = model.forward(trim_padding(src[i:i + batch_size], model.pad_index),
                                   tgt[i:i + batch_size, :-1])
            tf_hits.append(logits.argmax(axis=2) == labels[i:i + batch_size])
    finally:
        model.train(was_training)
    free_hits = generate_batched(model, src, labels.shape[1], batch_size) == labels
    tf = np.concatenate(tf_hits, axis=0)
    return float(tf[real].mean()), float(free_hits[real].mean())


def seq2seq_step(model, batch: tuple[np.ndarray, np.ndarray]) -> float:
    """``fit``'s step for an encoder-decoder: the teacher-forced loss, then backward (chapter 16).

    Shapes: batch = (src (B, Ts), tgt (B, Tt)), right-padded id rows, each
    trimmed to its longest source and target; the decoder reads tgt[:, :-1]
    and is scored on tgt[:, 1:], padding labels skipped. -> the mean loss.
    """
    src, tgt = _unpack_pair(batch, "seq2seq_step")
    src, tgt = trim_padding(src, model.pad_index), trim_padding(tgt, model.pad_index)
    loss_fn = SequenceCrossEntropyLoss(ignore_index=model.pad_index)
    loss = loss_fn(model(src, tgt[:, :-1]), tgt[:, 1:])  # teacher forcing
    model.backward(loss_fn.backward())
    return loss


def exact_match_on(**splits: tuple[np.ndarray, np.ndarray]) -> Callable:
    """A metric for ``fit``: greedy exact match on each named split, logged as ``<name>_exact``.

    Shapes: each split = (src (N, Ts), tgt (N, Tt)), e.g. ``val=(src_val, tgt_val)``
    logs ``val_exact``, scored by :func:`exact_match_ids`. Chapter 16.
    """
    checked = {name: _unpack_pair(pair, f"exact_match_on ({name})") for name, pair in splits.items()}

    def metric(model) -> dict[str, float]:
        return {f"{name}_exact": exact_match_ids(model, *pair) for name, pair in checked.items()}

    return metric
