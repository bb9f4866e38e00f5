"""Sequence to sequence with dot-product attention over the encoder's outputs (chapter 17).

The plain encoder-decoder of chapter 16 squeezes the whole source into one
context vector. Here the decoder keeps *every* encoder output h^enc_s and,
at each target step t, looks back at them (Luong's "dot" attention):

    score_{t,s} = h_t . h^enc_s,    a_{t,s} = softmax_s(score_{t,s}),
    c_t = sum_s a_{t,s} h^enc_s,    logits_t = [c_t; h_t] W_out + b_out,

where h_t is the decoder LSTM's hidden state. Padded source positions are
masked (``True`` = real token, the convention of
:func:`dlbook.layers.attention.scaled_dot_product_attention`): their weight is
exactly 0 and no gradient reaches them. The weights a are kept for heat maps
(``attn_weights`` after a forward pass, ``last_attention`` after
:meth:`AttentionSeq2Seq.generate`).
"""

from __future__ import annotations

import numpy as np

from dlbook.layers.base import Layer
from dlbook.layers.attention import (scaled_dot_product_attention,
                                     scaled_dot_product_attention_backward)
from dlbook.layers.embedding import Embedding
from dlbook.layers.linear import Linear
from dlbook.models.seq2seq import Seq2Seq, _check_cell, rnn_backward, rnn_run, rnn_state
from dlbook.text.batching import length_mask

DOT_SCALE = 1.0
"""Plain dot-product scores (Luong's "dot"); scale=None gives 1/sqrt(H) as in chapter 18."""


def source_mask(lengths: np.ndarray, T: int) -> np.ndarray:
    """Attention mask over source positions: True at real tokens. Shapes: (N,) -> (N, 1, T) bool."""
    return length_mask(lengths, T)[:, None, :]  # (N, T) -> (N, 1, T): one row for all queries


class AttentionDecoder(Layer):
    """Embedding + LSTM/GRU + dot-product attention over the encoder outputs + Linear(2H -> V).

    Shapes: forward(tgt_in (N, Tt), enc_out (N, Ts, H), mask (N, 1, Ts) bool,
    context (N, H)) -> logits (N, Tt, V); afterwards ``attn_weights`` (N, Tt, Ts).
    backward(dlogits) -> (denc_out (N, Ts, H), dcontext (N, H)).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, cell: str = "lstm",
                 padding_idx: int | None = 0, scale: float | None = DOT_SCALE,
                 rng: int | np.random.Generator | None = None, dtype=np.float32) -> None:
        rnn_cls = _check_cell(cell, "AttentionDecoder")
        super().__init__()
        self.embed = Embedding(vocab_size, embedding_dim, padding_idx,
                               rng=rng, dtype=dtype)
        self.rnn = rnn_cls(embedding_dim, hidden_size, rng=rng, dtype=dtype)
        self.out = Linear(2 * hidden_size, vocab_size, rng=rng, dtype=dtype)
        self.hidden_size, self.scale = hidden_size, scale
        self.attn_weights = None
        self._cache = None

    def _attend(self, h: np.ndarray, enc_out: np.ndarray, mask: np.ndarray):
        """[c_t; h_t] for every query step, with c = attention(h, enc_out, enc_out)."""
        ctx, weights = scaled_dot_product_attention(h, enc_out, enc_out, mask, self.scale)
        return np.concatenate([ctx, h], axis=2), weights  # (N, Tq, 2H), (N, Tq, Ts)

    def forward(self, tgt_in: np.ndarray, enc_out: np.ndarray, mask: np.ndarray,
                context: np.ndarray) -> np.ndarray:
        """Teacher-forced scores; keeps the weights in ``attn_weights``. -> (N, Tt, V)."""
        h = rnn_run(self.rnn, self.embed.forward(tgt_in), context)  # (N, Tt, H)
        z, self.attn_weights = self._attend(h, enc_out, mask)
        self._cache = (h, enc_out, self.attn_weights)
        return self.out.forward(z)

    def backward(self, dlogits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(dL/d(enc_out), dL/d(context)) from dL/d(logits). (N, Tt, V) -> (N, Ts, H), (N, H)."""
        h, enc_out, weights = self._cached(self._cache)
        dz = self.out.backward(dlogits)  # (N, Tt, 2H)
        H = self.hidden_size
        dq, dk, dv = scaled_dot_product_attention_backward(
            np.ascontiguousarray(dz[:, :, :H]), (h, enc_out, enc_out, weights, self.scale))
        dh = dz[:, :, H:] + dq  # h_t feeds the output layer directly and as the query
        dx, dcontext = rnn_backward(self.rnn, dh)  # the context was the initial state h_0
        self.embed.backward(dx)
        return dk + dv, dcontext  # enc_out served as keys and as values

    def step(self, tokens: np.ndarray, state, enc_out: np.ndarray, mask: np.ndarray):
        """One free-running step -> (logits (N, V), new state, weights (N, Ts)); no backward."""
        x = self.embed.forward(tokens[:, None])  # (N, 1, E)
        h = rnn_run(self.rnn, x, *state) if isinstance(state, tuple) else rnn_run(self.rnn, x, state)
        z, weights = self._attend(h, enc_out, mask)
        return self.out.forward(z)[:, 0], rnn_state(self.rnn), weights[:, 0]


class AttentionSeq2Seq(Seq2Seq):
    """Encoder-decoder whose decoder attends over all encoder outputs (chapter 17).

    The same API as :class:`dlbook.models.seq2seq.Seq2Seq`: forward(src (N, Ts),
    tgt_in (N, Tt)) -> logits (N, Tt, V), backward(dlogits) -> None (token ids),
    generate(src, max_len) -> (N, max_len) ids. Afterwards ``attn_weights``
    (N, Tt, Ts) (teacher forced) or ``last_attention`` (N, max_len, Ts) (greedy
    decoding) hold the weights.
    The decoder still starts from the encoder's context vector; ``peeky`` is
    not offered (attention already gives every step access to the source).
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 16, hidden_size: int = 64,
                 cell: str = "lstm", reverse_source: bool = False, scale: float | None = DOT_SCALE,
                 pad_index: int = 0, bos_index: int = 2, eos_index: int = 3,
                 rng: int | np.random.Generator | None = None, dtype=np.float32) -> None:
        self.scale = scale
        super().__init__(vocab_size, embedding_dim, hidden_size, cell, False, reverse_source,
                         pad_index, bos_index, eos_index, rng, dtype)
        self.last_attention = None
        self._gen = None

    def _make_decoder(self, V, E, H, cell, rng, dtype) -> AttentionDecoder:
        return AttentionDecoder(V, E, H, cell, self.pad_index, self.scale, rng, dtype)

    @property
    def attn_weights(self) -> np.ndarray | None:
        """The attention weights of the last teacher-forced pass, (N, Tt, Ts)."""
        return self.decoder.attn_weights

    def _decode(self, tgt_in, enc_out, context, lengths) -> np.ndarray:
        return self.decoder.forward(tgt_in, enc_out, source_mask(lengths, enc_out.shape[1]), context)

    def _decode_backward(self, dlogits: np.ndarray) -> None:
        denc_out, dcontext = self.decoder.backward(dlogits)
        self.encoder.backward(denc_out, dcontext)

    def _start_generation(self, N: int, max_len: int) -> None:
        self._gen = []

    def decode_step(self, tokens, state, context, enc_out, lengths):
        """One free-running step with attention: -> (logits (N, V), new state) (chapter 17).

        Inside :meth:`generate` the step's weights (N, Ts) are kept for ``last_attention``.
        """
        logits, state, weights = self.decoder.step(tokens, state, enc_out,
                                                   source_mask(lengths, enc_out.shape[1]))
        if self._gen is not None:
            self._gen.append(weights)
        return logits, state

    def generate(self, src: np.ndarray, max_len: int) -> np.ndarray:
        """Greedy decoding as in Seq2Seq; also sets ``last_attention`` (N, max_len, Ts).

        Rows of ``last_attention`` after a sequence's <eos> are zeros.
        """
        try:
            out = super().generate(src, max_len)
            N, Ts = len(out), np.asarray(src).shape[1]
            weights = np.zeros((N, max_len, Ts))
            for t, w in enumerate(self._gen):
                weights[:, t] = w
        finally:
            self._gen = None  # steps taken outside generate (beam search) keep no weights
        ended = np.cumsum(out == self.eos_index, axis=1) - (out == self.eos_index) > 0  # after <eos>
        weights[ended] = 0.0
        self.last_attention = weights
        return out
