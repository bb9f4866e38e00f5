"""Encoder-decoder (sequence to sequence) models with teacher forcing (chapter 16).

The **encoder** reads the source ids with an embedding and an LSTM (or GRU)
and summarises them in one vector, the *context vector* c = h_{L-1}: the
hidden state at each sequence's true last token (index L-1 for a source of
L real tokens). Sources are right-padded: the recurrence runs over the padding,
but nothing reads those states, so they get zero gradient and cannot pollute c
(left padding would feed it *before* the real tokens; chapter 16 compares).

The **decoder** is a second embedding + LSTM that starts from h_0 = c (and
c_0 = 0 for an LSTM) and predicts the next target character at every step.
During training it reads the *true* previous characters (teacher forcing):
the target ``<bos> y_1 ... y_K <eos>`` is cut into the input
``<bos> y_1 ... y_K`` that ``Seq2Seq.forward`` reads and the labels
``y_1 ... y_K <eos>`` that a ``SequenceCrossEntropyLoss`` scores its logits
against, outside the model. At test time :meth:`Seq2Seq.generate` feeds back
its own greedy choices instead.

Options: ``reverse_source`` reverses the real tokens of every source (the
padding stays at the end), so the first source tokens sit next to the first
target tokens in time; ``peeky=True`` concatenates c to the decoder's input at
every step and to the input of its output layer.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.layers.base import Layer
from dlbook.layers.embedding import Embedding
from dlbook.layers.gru import GRU
from dlbook.layers.linear import Linear
from dlbook.layers.lstm import LSTM
from dlbook.utils import make_rng

CELLS = {"lstm": LSTM, "gru": GRU}
"""The recurrent layers an encoder or decoder can use, by name."""


def source_lengths(src: np.ndarray, pad_index: int, where: str = "source_lengths") -> np.ndarray:
    """Number of real (non-pad) tokens of each right-padded row. Shapes: (N, T) -> (N,) int64.

    Raises ``ValueError`` for an empty row or a pad token followed by a real one.
    """
    src = np.asarray(src)
    if src.ndim != 2 or src.dtype == bool or not np.issubdtype(src.dtype, np.integer):
        raise ValueError(f"{where} expected integer ids of shape (N, T); "
                         f"got shape {src.shape} and dtype {src.dtype}")
    real = src != pad_index
    lengths = real.sum(axis=1)
    if np.any(lengths == 0):
        raise ValueError(f"{where} expected every source to hold at least one real token; "
                         f"row {int(np.argmin(lengths))} is all padding")
    bad = np.any(real != (np.arange(src.shape[1]) < lengths[:, None]), axis=1)
    if np.any(bad):
        raise ValueError(f"{where} expected right padding (pad_index={pad_index} only after the "
                         f"real tokens); row {int(np.argmax(bad))} is not")
    return lengths.astype(np.int64)


def reverse_padded(ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Reverse the first lengths[n] entries of row n; the padding after them stays in place.

    Shapes: ids (N, T), lengths (N,) -> (N, T). Chapter 16 (reversed source).
    """
    ids = np.asarray(ids)
    T = ids.shape[1]
    t = np.arange(T)[None, :]
    src_t = np.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # mirror the real part
    return np.take_along_axis(ids, src_t, axis=1)


def rnn_run(rnn: Layer, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None = None) -> np.ndarray:
    """Run an LSTM from (h0, c0) (c0 None = zeros) or a GRU from h0. (N, T, D) -> (N, T, H)."""
    return rnn.forward(x, (h0, c0)) if isinstance(rnn, LSTM) else rnn.forward(x, h0)


def rnn_state(rnn: Layer):
    """The final state after a forward call: (h_n, c_n) for an LSTM, h_n for a GRU."""
    return (rnn.h_n, rnn.c_n) if isinstance(rnn, LSTM) else rnn.h_n


def rnn_backward(rnn: Layer, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dh0) after :func:`rnn_run`, dc0 dropped (c0 = 0). (N, T, H) -> (N, T, D), (N, H)."""
    dx, dstate = rnn.backward(dout)
    return dx, (dstate[0] if isinstance(rnn, LSTM) else dstate)


def initial_state(rnn: Layer, context: np.ndarray):
    """A decoder's first state: (h_0, c_0) = (context, 0) for an LSTM; h_0 = context for a GRU."""
    return (context, np.zeros_like(context)) if isinstance(rnn, LSTM) else context


def _check_cell(cell: str, where: str) -> type:
    if cell not in CELLS:
        raise ValueError(f"{where} expected cell in {sorted(CELLS)}; got {cell!r}")
    return CELLS[cell]


class Encoder(Layer):
    """Embedding + LSTM/GRU; the context vector is the hidden state at the true last token.

    Shapes: forward(src (N, T) ids, lengths (N,)) -> (out (N, T, H), context (N, H));
    backward(dout (N, T, H) or None, dcontext (N, H) or None) -> None: both
    inputs are integers, which get no gradient (the embedding's rows do).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, cell: str = "lstm",
                 padding_idx: int | None = 0, rng: int | np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        rnn_cls = _check_cell(cell, "Encoder")
        super().__init__()
        self.embed = Embedding(vocab_size, embedding_dim, padding_idx, rng=rng, dtype=dtype)
        self.rnn = rnn_cls(embedding_dim, hidden_size, rng=rng, dtype=dtype)
        self.hidden_size = hidden_size
        self._last = None

    def forward(self, src: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All hidden states and the context h_{L-1}. (N, T), (N,) -> (N, T, H), (N, H)."""
        out = self.rnn.forward(self.embed.forward(src))  # (N, T, H); states after the end unused
        last = (np.arange(len(src)), np.asarray(lengths) - 1)
        self._last = (last, out.shape)
        return out, out[last]  # context: h at position L_n - 1 of row n

    def backward(self, dout: np.ndarray | None = None, dcontext: np.ndarray | None = None) -> None:
        """Backpropagate dL/d(out) and dL/d(context) into the LSTM and the embedding; -> None."""
        last, shape = self._cached(self._last)
        d = np.zeros(shape, dtype=self.rnn.dtype) if dout is None else np.array(dout, self.rnn.dtype)
        if dcontext is not None:
            d[last] += dcontext  # the gather's backward: a scatter into the last real positions
        self.embed.backward(self.rnn.backward(d))


class Decoder(Layer):
    """Embedding + LSTM/GRU started from the context + Linear to vocabulary scores.

    Shapes: forward(tgt_in (N, T) ids, context (N, H)) -> logits (N, T, V);
    backward(dlogits (N, T, V)) -> dcontext (N, H). ``peeky=True``: the
    context is concatenated to every step's embedding (input E + H) and to
    every hidden state before the output layer (input 2H).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, cell: str = "lstm",
                 peeky: bool = False, padding_idx: int | None = 0,
                 rng: int | np.random.Generator | None = None, dtype=np.float32) -> None:
        rnn_cls = _check_cell(cell, "Decoder")
        extra = hidden_size if peeky else 0
        super().__init__()
        self.embed = Embedding(vocab_size, embedding_dim, padding_idx, rng=rng, dtype=dtype)
        self.rnn = rnn_cls(embedding_dim + extra, hidden_size, rng=rng, dtype=dtype)
        self.out = Linear(hidden_size + extra, vocab_size, rng=rng, dtype=dtype)
        self.peeky, self.embedding_dim, self.hidden_size = bool(peeky), embedding_dim, hidden_size
        self._T = None

    def _peek(self, x: np.ndarray, context: np.ndarray) -> np.ndarray:
        """Append the context to every time step: (N, T, D), (N, H) -> (N, T, D + H)."""
        N, T, _ = x.shape
        return np.concatenate([x, np.broadcast_to(context[:, None, :], (N, T, context.shape[1]))], 2)

    def forward(self, tgt_in: np.ndarray, context: np.ndarray) -> np.ndarray:
        """Teacher-forced scores of every step. (N, T) ids, (N, H) -> (N, T, V)."""
        x = self.embed.forward(tgt_in)  # (N, T, E)
        if self.peeky:
            x = self._peek(x, context)
        h = rnn_run(self.rnn, x, context)  # (N, T, H), h_0 = context
        self._T = h.shape[1]
        return self.out.forward(self._peek(h, context) if self.peeky else h)

    def backward(self, dlogits: np.ndarray) -> np.ndarray:
        """dL/d(context), summed over every path the context took. (N, T, V) -> (N, H)."""
        self._cached(self._T)
        dh = self.out.backward(dlogits)
        dcontext = np.zeros((dh.shape[0], self.hidden_size), dtype=dh.dtype)
        if self.peeky:  # the context was copied to every step: its gradient is the sum over t
            dcontext += dh[:, :, self.hidden_size:].sum(axis=1)
            dh = dh[:, :, :self.hidden_size]
        dx, dh0 = rnn_backward(self.rnn, dh)
        dcontext += dh0  # the context was the initial state h_0
        if self.peeky:
            dcontext += dx[:, :, self.embedding_dim:].sum(axis=1)
            dx = dx[:, :, :self.embedding_dim]
        self.embed.backward(np.ascontiguousarray(dx))
        return dcontext

    def step(self, tokens: np.ndarray, state, context: np.ndarray):
        """One free-running step: (tokens (N,), state) -> (logits (N, V), new state); no backward."""
        x = self.embed.forward(tokens[:, None])  # (N, 1, E)
        if self.peeky:
            x = self._peek(x, context)
        h = rnn_run(self.rnn, x, *state) if isinstance(state, tuple) else rnn_run(self.rnn, x, state)
        logits = self.out.forward(self._peek(h, context) if self.peeky else h)
        return logits[:, 0], rnn_state(self.rnn)


class Seq2Seq(Layer):
    """Encoder-decoder trained with teacher forcing; greedy decoding at test time (chapter 16).

    Shapes: forward(src (N, Ts), tgt_in (N, Tt)) -> logits (N, Tt, V). A target row is
    ``<bos> y_1 ... y_K <eos>`` right-padded with ``pad_index``; the decoder reads
    tgt_in = tgt[:, :-1], and the loss, the mean over the real positions of
    -log p(y_t | y_<t, source), is ``SequenceCrossEntropyLoss(ignore_index=pad_index)`` of
    the logits and tgt[:, 1:], outside the model. backward(dlogits (N, Tt, V)) -> None
    (token ids get no gradient). generate(src, max_len) -> (N, max_len) ids; beam search
    (:mod:`dlbook.models.beam`) steps with decode_step. One codec serves source and target.
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 16, hidden_size: int = 64,
                 cell: str = "lstm", peeky: bool = False, reverse_source: bool = False,
                 pad_index: int = 0, bos_index: int = 2, eos_index: int = 3,
                 rng: int | np.random.Generator | None = None, dtype=np.float32) -> None:
        V = check_positive_int(vocab_size, type(self).__name__, "vocab_size")
        for name, idx in (("pad_index", pad_index), ("bos_index", bos_index), ("eos_index", eos_index)):
            if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)) or not 0 <= idx < V:
                raise ValueError(f"{type(self).__name__} expected {name} in [0, {V}); got {idx!r}")
        self.pad_index, self.bos_index, self.eos_index = int(pad_index), int(bos_index), int(eos_index)
        self.vocab_size, self.reverse_source, self.peeky = V, bool(reverse_source), bool(peeky)
        rng = make_rng(rng, type(self).__name__)  # one generator: every layer draws different numbers
        super().__init__()
        self.encoder = Encoder(V, embedding_dim, hidden_size, cell, pad_index, rng, dtype)
        self.decoder = self._make_decoder(V, embedding_dim, hidden_size, cell, rng, dtype)

    def _make_decoder(self, V, E, H, cell, rng, dtype) -> Layer:
        return Decoder(V, E, H, cell, self.peeky, self.pad_index, rng, dtype)

    # inputs -------------------------------------------------------------------------------

    def prepare_source(self, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Validate src (N, Ts), reverse it if asked; -> (ids (N, Ts), lengths (N,))."""
        lengths = source_lengths(src, self.pad_index, f"{type(self).__name__}")
        src = np.asarray(src, dtype=np.int64)
        return (reverse_padded(src, lengths) if self.reverse_source else src), lengths

    def _check_decoder_input(self, tgt_in: np.ndarray, src: np.ndarray) -> np.ndarray:
        tgt_in = np.asarray(tgt_in)
        where = f"{type(self).__name__}.forward"
        if tgt_in.ndim != 2 or tgt_in.dtype == bool or not np.issubdtype(tgt_in.dtype, np.integer):
            raise ValueError(f"{where} expected integer decoder inputs tgt_in of shape (N, Tt); "
                             f"got shape {tgt_in.shape} and dtype {tgt_in.dtype}")
        if tgt_in.shape[0] != len(src) or tgt_in.shape[1] < 1:
            raise ValueError(f"{where} expected tgt_in (N={len(src)}, Tt >= 1), the targets "
                             f"without their last column; got shape {tgt_in.shape}")
        if np.any(tgt_in[:, 0] != self.bos_index):
            raise ValueError(f"{where} expected every row of tgt_in to start with "
                             f"bos_index={self.bos_index}")
        return tgt_in.astype(np.int64)

    # training -----------------------------------------------------------------------------

    def forward(self, src: np.ndarray, tgt_in: np.ndarray) -> np.ndarray:
        """Teacher-forced scores: the decoder reads tgt_in (N, Tt) = tgt[:, :-1]. -> (N, Tt, V)."""
        tgt_in = self._check_decoder_input(tgt_in, src)
        ids, lengths = self.prepare_source(src)
        enc_out, context = self.encoder.forward(ids, lengths)
        return self._decode(tgt_in, enc_out, context, lengths)

    def backward(self, dlogits: np.ndarray) -> None:
        """Backpropagate dL/dlogits (N, Tt, V) through decoder and encoder into ``grads`` -> None."""
        self._decode_backward(dlogits)

    def _decode(self, tgt_in, enc_out, context, lengths) -> np.ndarray:
        return self.decoder.forward(tgt_in, context)

    def _decode_backward(self, dlogits: np.ndarray) -> None:
        self.encoder.backward(None, self.decoder.backward(dlogits))

    # test time ----------------------------------------------------------------------------

    def generate(self, src: np.ndarray, max_len: int) -> np.ndarray:
        """Greedy decoding: feed back argmax until <eos> (then pad). -> (N, max_len) int64.

        Each row holds the generated ids, its <eos> included, then ``pad_index``.
        """
        max_len = check_positive_int(max_len, f"{type(self).__name__}.generate", "max_len")
        ids, lengths = self.prepare_source(src)
        enc_out, context = self.encoder.forward(ids, lengths)
        N = len(ids)
        out = np.full((N, max_len), self.pad_index, dtype=np.int64)
        tokens, done = np.full(N, self.bos_index, dtype=np.int64), np.zeros(N, dtype=bool)
        state = initial_state(self.decoder.rnn, context)
        self._start_generation(N, max_len)
        for t in range(max_len):
            logits, state = self.decode_step(tokens, state, context, enc_out, lengths)
            tokens = np.where(done, self.pad_index, logits.argmax(axis=1))
            out[:, t] = tokens
            done |= tokens == self.eos_index
            if done.all():
                break
        return out

    def _start_generation(self, N: int, max_len: int) -> None:
        """Hook for subclasses (the attention model allocates its weight record here)."""

    def decode_step(self, tokens: np.ndarray, state, context, enc_out, lengths):
        """One free-running step, for greedy decoding and beam search: -> (logits (N, V), state).

        Shapes: tokens (N,), state (h, c) or h, context (N, H), enc_out (N, Ts, H), lengths (N,).
        """
        return self.decoder.step(tokens, state, context)
