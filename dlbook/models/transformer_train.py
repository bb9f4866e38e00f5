"""Training chapter 18's models with the one loop, :func:`dlbook.train.fit` (chapter 18).

Two small pieces:

* **step functions** ``step(model, batch) -> loss`` (forward, loss, backward),
  the part of an update that differs between models:
  :func:`next_token_step` for language models on windows of a token stream
  (:class:`RandomWindows`) and :func:`last_token_step` for a question asked
  at the end of a sequence (encoder-decoders use
  :func:`dlbook.models.seq2seq_train.seq2seq_step`);
* :class:`PerUpdate`, an iterable that hands ``fit`` *one* batch per pass.
  ``fit`` steps a learning-rate schedule once per pass, so with it a warm-up
  is counted in updates, as Transformer recipes count it, while the batches
  still come from shuffled epochs (every example once per epoch).
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.layers.loss import CrossEntropyLoss
from dlbook.utils import make_rng


class PerUpdate:
    """One batch per iteration of ``for batch in stream``, drawn from an endless stream of passes.

    Shapes: whatever ``batches`` yields. ``batches`` is any re-iterable batch
    source (a :class:`dlbook.train.Minibatches` reshuffles on each pass); when
    one pass ends the next begins. ``fit(model, PerUpdate(batches), opt,
    epochs=None, max_steps=K, scheduler=...)`` makes K updates and steps the
    scheduler after each. Chapter 18.
    """

    def __init__(self, batches: Iterable):
        self.batches = batches
        self._it = None

    def __iter__(self):
        for _ in range(2):  # the current pass, or a fresh one when it has just ended
            if self._it is None:
                self._it = iter(self.batches)
            try:
                yield next(self._it)
                return
            except StopIteration:
                self._it = None
        raise ValueError("PerUpdate expected a batch source that yields at least one batch; "
                         "got an empty one")


def next_token_step() -> Callable:
    """step(model, (x, y)): cross-entropy of model(x) (N, T, V) against y (N, T), then backward.

    Shapes: x, y (N, T) token ids, y = x shifted by one. The mean over all
    N * T predictions, as in the GPT loss of chapter 18.
    """
    loss_fn = CrossEntropyLoss()

    def step(model, batch) -> float:
        x, y = batch
        logits = model(x)  # (N, T, V)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), np.asarray(y).reshape(-1))
        model.backward(loss_fn.backward().reshape(logits.shape))
        return loss

    return step


def last_token_step() -> Callable:
    """step(model, (x, y)): cross-entropy of the *last* position's logits against y, then backward.

    Shapes: x (N, T) token ids, model(x) (N, T, V), y (N,) -> loss; the other
    positions get a zero gradient. For a query at the end of a sequence
    (associative recall, chapter 18), read by a GPT or by an LSTM language model.
    """
    loss_fn = CrossEntropyLoss()

    def step(model, batch) -> float:
        x, y = batch
        logits = model(x)  # (N, T, V)
        loss = loss_fn(logits[:, -1], y)
        dlogits = np.zeros_like(logits)
        dlogits[:, -1] = loss_fn.backward()
        model.backward(dlogits)
        return loss

    return step


class RandomWindows:
    """Each pass yields one batch of ``batch_size`` random windows (x, y = x shifted by one).

    Shapes: ids (S,) a token stream -> x, y (batch_size, seq_len) int64.
    Combine with ``fit(..., epochs=None, max_steps=K)``: one update per pass.
    Chapter 18 (and the language models of chapter 15).
    """

    def __init__(self, ids: np.ndarray, seq_len: int, batch_size: int,
                 rng: int | np.random.Generator | None = None):
        self.ids = np.asarray(ids)
        self.seq_len = check_positive_int(seq_len, "RandomWindows", "seq_len")
        self.batch_size = check_positive_int(batch_size, "RandomWindows", "batch_size")
        if self.ids.ndim != 1 or len(self.ids) <= self.seq_len:
            raise ValueError(f"RandomWindows expected a 1-d stream longer than seq_len = "
                             f"{self.seq_len}; got shape {self.ids.shape}")
        self.rng = make_rng(rng, "RandomWindows")
        self._offsets = np.arange(self.seq_len)

    def __iter__(self):
        start = self.rng.integers(0, len(self.ids) - self.seq_len, size=self.batch_size)
        idx = start[:, None] + self._offsets  # (batch_size, seq_len)
        yield self.ids[idx], self.ids[idx + 1]
