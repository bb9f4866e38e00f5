"""Training and scoring sequence-to-sequence models (chapters 16 and 17).

:func:`fit_seq2seq` is the loop of :func:`dlbook.train.fit` for models whose
``forward(src, tgt_in)`` returns teacher-forced logits: shuffled mini-batches,
the loss ``SequenceCrossEntropyLoss(ignore_index=pad)`` of the logits and the
shifted targets, the global gradient norm clipped before each step, and the
held-out *exact match* (greedy decoding, whole answer right or wrong) after
every epoch.

The scores here work on id arrays: a target row is ``<bos> y_1 ... y_K <eos>``
right-padded, and an answer counts as correct when the generated ids equal
``y_1 ... y_K <eos>`` followed by padding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.layers.seq_loss import SequenceCrossEntropyLoss
from dlbook.optim.clip import clip_grad_norm_
from dlbook.utils import make_rng

EVAL_BATCH = 500
"""Batch size for decoding held-out data (no backward pass, so it can be large)."""


@dataclass
class Seq2SeqHistory:
    """Per-epoch metrics of :func:`fit_seq2seq` (one entry per epoch)."""

    train_loss: list[float] = field(default_factory=list)
    val_exact: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[float]]:
        """The non-empty metrics by name."""
        return {k: v for k, v in vars(self).items() if v}


def trim_padding(ids: np.ndarray, pad_index: int) -> np.ndarray:
    """Drop the trailing columns that are padding in every row. Shapes: (N, T) -> (N, T')."""
    real = np.any(np.asarray(ids) != pad_index, axis=0)
    keep = int(np.flatnonzero(real)[-1]) + 1 if real.any() else 1
    return ids[:, :keep]


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


def fit_seq2seq(model, optimizer, src: np.ndarray, tgt: np.ndarray, epochs: int,
                batch_size: int = 64, clip_norm: float | None = 1.0,
                val: tuple[np.ndarray, np.ndarray] | None = None, scheduler=None,
                rng: int | np.random.Generator | None = None) -> Seq2SeqHistory:
    """Train with teacher forcing for ``epochs`` passes of shuffled mini-batches.

    Each step: zero_grad, loss = loss_fn(model(src_b, tgt_b[:, :-1]), tgt_b[:, 1:])
    with ``loss_fn = SequenceCrossEntropyLoss(ignore_index=model.pad_index)``,
    model.backward(loss_fn.backward()), clip the global gradient norm to
    ``clip_norm`` (None: no clipping), optimizer.step(). Each batch is trimmed
    to its longest source and target.
    Shapes: src (N, Ts), tgt (N, Tt); ``val`` = (src_val, tgt_val) scored by
    :func:`exact_match_ids` after every epoch; ``scheduler.step()`` runs after
    every epoch. Chapter 16.
    """
    src, tgt = _check_pairs(src, tgt, "fit_seq2seq")
    epochs = check_positive_int(epochs, "fit_seq2seq", "epochs")
    batch_size = check_positive_int(batch_size, "fit_seq2seq", "batch_size")
    if val is not None:
        val = _check_pairs(*val, "fit_seq2seq (val)")
    gen = make_rng(rng, "fit_seq2seq")
    loss_fn = SequenceCrossEntropyLoss(ignore_index=model.pad_index)  # padding labels skipped
    pairs = list(model.parameters())
    history = Seq2SeqHistory()
    for _ in range(epochs):
        model.train()
        order = gen.permutation(len(src))
        total, norms = 0.0, []
        for start in range(0, len(src), batch_size):
            idx = order[start:start + batch_size]
            sb = trim_padding(src[idx], model.pad_index)
            tb = trim_padding(tgt[idx], model.pad_index)
            model.zero_grad()
            loss = loss_fn.forward(model.forward(sb, tb[:, :-1]), tb[:, 1:])  # teacher forcing
            model.backward(loss_fn.backward())
            if clip_norm is not None:
                norms.append(clip_grad_norm_(pairs, clip_norm))
            optimizer.step()
            total += loss * len(idx)
        history.train_loss.append(total / len(src))
        if norms:
            history.grad_norm.append(float(np.mean(norms)))
        if val is not None:
            history.val_exact.append(exact_match_ids(model, *val))
        if scheduler is not None:
            scheduler.step()
    model.train()
    return history
