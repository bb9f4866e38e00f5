"""The encoder-decoder Transformer of Vaswani et al. (2017) in numpy (chapter 18).

    memory = EncoderNorm(EncoderLayer_L(... EncoderLayer_1(src_emb(src) + PE)))
    logits = head(DecoderNorm(DecoderLayer_L(... DecoderLayer_1(tgt_emb(tgt_in) + PE, memory))))

Every encoder layer is self-attention over the source (padding keys masked)
and a feed-forward network; every decoder layer adds causal self-attention
over the target prefix and cross-attention to ``memory``
(:class:`dlbook.layers.transformer.TransformerDecoderLayer`). The two final
LayerNorms are those of ``torch.nn.Transformer``, so the PyTorch twin
(``dlbook.twins.to_torch``) is an ``nn.Transformer`` between two embeddings
and a Linear. Positions are the fixed sinusoids of
:mod:`dlbook.layers.positional`. The model has the interface of chapter 16's
``Seq2Seq`` (``pad_index``, ``generate``), so
:func:`dlbook.models.seq2seq_train.exact_match_ids` scores it.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.init import xavier_uniform
from dlbook.layers.base import Layer, eval_mode
from dlbook.layers.container import LayerList
from dlbook.layers.embedding import Embedding
from dlbook.layers.linear import Linear
from dlbook.layers.norm import LayerNorm
from dlbook.layers.positional import sinusoidal_positional_encoding
from dlbook.layers.transformer import TransformerDecoderLayer, TransformerEncoderLayer
from dlbook.utils import make_rng

DEFAULT_MAX_LEN = 256
"""Longest source or target the positional table covers."""

POSITIONAL = ("sinusoidal", "learned")


class TransformerSeq2Seq(Layer):
    """logits = head(decoder(tgt_emb(tgt_in) + PE, encoder(src_emb(src) + PE))), teacher forced.

    Shapes: forward(src (N, S), tgt_in (N, T)) integer ids -> logits (N, T, V);
    backward(dlogits (N, T, V)) -> None (ids get no gradient);
    generate(src (N, S), max_len) -> (N, max_len) int64 greedy ids, <eos> then
    ``pad_index``. Source positions holding ``pad_index`` are masked as keys in
    the encoder and in every cross-attention. Sublayers ``src_emb``,
    ``tgt_emb``, ``encoder_layers.i``, ``encoder_norm``, ``decoder_layers.i``,
    ``decoder_norm``, ``head``. Matrices inside the Transformer start from a
    Glorot-uniform draw (as ``nn.Transformer`` resets them), embeddings from
    N(0, 1). After ``generate``, ``last_cross_attention`` holds the last decoder
    layer's cross-attention weights (N, h, steps, S). Chapter 18.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, nhead: int = 4,
                 num_encoder_layers: int = 2, num_decoder_layers: int = 2,
                 dim_feedforward: int = 128, dropout: float = 0.0, norm_first: bool = False,
                 positional: str = "sinusoidal", max_len: int = DEFAULT_MAX_LEN, pad_index: int = 0, bos_index: int = 2,
                 eos_index: int = 3, rng: int | np.random.Generator | None = None,
                 dtype=np.float32):
        super().__init__()
        where = "TransformerSeq2Seq"
        if positional not in POSITIONAL:
            raise ValueError(f"{where} expected positional in {POSITIONAL}; got {positional!r}")
        self.config = dict(vocab_size=check_positive_int(vocab_size, where, "vocab_size"),
                           d_model=d_model, nhead=nhead,
                           num_encoder_layers=check_positive_int(num_encoder_layers, where,
                                                                 "num_encoder_layers"),
                           num_decoder_layers=check_positive_int(num_decoder_layers, where,
                                                                 "num_decoder_layers"),
                           dim_feedforward=dim_feedforward, dropout=dropout,
                           norm_first=norm_first, positional=positional, max_len=max_len, pad_index=pad_index,
                           bos_index=bos_index, eos_index=eos_index)
        self.pad_index, self.bos_index, self.eos_index = pad_index, bos_index, eos_index
        rng = make_rng(rng, where)
        layer_args = (d_model, nhead, dim_feedforward, dropout, norm_first)
        self.src_emb = Embedding(vocab_size, d_model, padding_idx=pad_index, rng=rng, dtype=dtype)
        self.tgt_emb = Embedding(vocab_size, d_model, padding_idx=pad_index, rng=rng, dtype=dtype)
        max_len = check_positive_int(max_len, where, "max_len")
        if positional == "learned":  # one table of position vectors for each side
            self.src_pos = Embedding(max_len, d_model, rng=rng, dtype=dtype)
            self.tgt_pos = Embedding(max_len, d_model, rng=rng, dtype=dtype)
        self.encoder_layers = LayerList(TransformerEncoderLayer(*layer_args, rng=rng, dtype=dtype)
                                        for _ in range(num_encoder_layers))
        self.encoder_norm = LayerNorm(d_model, dtype=dtype)
        self.decoder_layers = LayerList(TransformerDecoderLayer(*layer_args, rng=rng, dtype=dtype)
                                        for _ in range(num_decoder_layers))
        self.decoder_norm = LayerNorm(d_model, dtype=dtype)
        self.head = Linear(d_model, vocab_size, rng=rng, dtype=dtype)
        for name, p in self.named_parameters():
            if name.startswith(("encoder_layers", "decoder_layers")) and p.ndim > 1:
                p[...] = xavier_uniform(p.shape, rng=rng)
        self.pe = sinusoidal_positional_encoding(max_len, d_model, dtype)
        self.last_cross_attention = None
        self._pad_mask = None

    def _embed(self, side: str, ids: np.ndarray, name: str) -> np.ndarray:
        """Token embedding plus position vector: (N, T) ids -> (N, T, E)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or not 1 <= ids.shape[1] <= len(self.pe):
            raise ValueError(f"TransformerSeq2Seq expected {name} ids of shape (N, T) with "
                             f"1 <= T <= max_len = {len(self.pe)}; got shape {ids.shape}")
        T = ids.shape[1]
        if self.config["positional"] == "learned":
            return getattr(self, f"{side}_emb")(ids) + getattr(self, f"{side}_pos")(np.arange(T))
        return getattr(self, f"{side}_emb")(ids) + self.pe[:T]  # (N, T, E) + (T, E)

    def _embed_backward(self, side: str, dx: np.ndarray) -> None:
        getattr(self, f"{side}_emb").backward(dx)
        if self.config["positional"] == "learned":
            getattr(self, f"{side}_pos").backward(dx.sum(axis=0))  # a row is shared by the batch

    def encode(self, src: np.ndarray) -> np.ndarray:
        """memory (N, S, E) of the source; remembers its padding mask for the decoder."""
        x = self._embed("src", src, "src")
        self._pad_mask = np.asarray(src) == self.pad_index  # (N, S), True = padding
        for layer in self.encoder_layers:
            x = layer(x, src_key_padding_mask=self._pad_mask)
        return self.encoder_norm(x)

    def decode(self, tgt_in: np.ndarray, memory: np.ndarray) -> np.ndarray:
        """Logits (N, T, V) of the next target token at every prefix position."""
        y = self._embed("tgt", tgt_in, "tgt_in")
        if len(y) != len(memory):
            raise ValueError(f"TransformerSeq2Seq expected src and tgt_in with the same batch "
                             f"size; got {len(memory)} and {len(y)}")
        for layer in self.decoder_layers:
            y = layer(y, memory, memory_key_padding_mask=self._pad_mask)  # causal by default
        return self.head(self.decoder_norm(y))

    def forward(self, src: np.ndarray, tgt_in: np.ndarray) -> np.ndarray:
        """Teacher-forced logits. Shapes: (N, S), (N, T) -> (N, T, V)."""
        return self.decode(tgt_in, self.encode(src))

    def backward(self, dlogits: np.ndarray) -> None:
        """Accumulate every parameter gradient from dlogits (N, T, V); returns None."""
        dy = self.decoder_norm.backward(self.head.backward(dlogits))
        dmemory = 0.0
        for layer in reversed(self.decoder_layers):
            dy, dm = layer.backward(dy)
            dmemory = dmemory + dm  # memory feeds every decoder layer: the gradients add
        self._embed_backward("tgt", dy)
        dx = self.encoder_norm.backward(dmemory)
        for layer in reversed(self.encoder_layers):
            dx = layer.backward(dx)
        self._embed_backward("src", dx)
        return None

    def generate(self, src: np.ndarray, max_len: int) -> np.ndarray:
        """Greedy decoding, the whole prefix re-read at every step. -> (N, max_len) int64.

        Each row holds the generated ids, its <eos> included, then ``pad_index``.
        Runs in evaluation mode and restores the mode afterwards.
        """
        max_len = check_positive_int(max_len, "TransformerSeq2Seq.generate", "max_len")
        src = np.asarray(src)
        N = len(src)
        out = np.full((N, max_len), self.pad_index, dtype=np.int64)
        prefix = np.full((N, 1), self.bos_index, dtype=np.int64)
        done = np.zeros(N, dtype=bool)
        with eval_mode(self):
            memory = self.encode(src)
            for t in range(max_len):
                tokens = self.decode(prefix, memory)[:, -1].argmax(axis=-1)
                tokens = np.where(done, self.pad_index, tokens)
                out[:, t] = tokens
                done |= tokens == self.eos_index
                if done.all() or t == max_len - 1:
                    break
                prefix = np.concatenate([prefix, tokens[:, None]], axis=1)
        self.last_cross_attention = self.decoder_layers[-1].multihead_attn.attn_weights
        return out

    def __repr__(self) -> str:
        c = self.config
        return (f"TransformerSeq2Seq(vocab_size={c['vocab_size']}, d_model={c['d_model']}, "
                f"nhead={c['nhead']}, num_encoder_layers={c['num_encoder_layers']}, "
                f"num_decoder_layers={c['num_decoder_layers']}, "
                f"dim_feedforward={c['dim_feedforward']}, norm_first={c['norm_first']})")
