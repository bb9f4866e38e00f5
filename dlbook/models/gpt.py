"""A tiny decoder-only Transformer language model ("tiny GPT") in numpy (chapter 18).

    x_0 = token_embedding(ids) + position(0..T-1)
    x_l = PreNormBlock_l(x_{l-1}, causal mask),  l = 1..L
    logits = LayerNorm(x_L) W_head + b_head

Each block is a :class:`dlbook.layers.transformer.TransformerEncoderLayer`
with ``norm_first=True`` and ``is_causal=True``: position t only attends to
positions <= t, so the logits at t are a prediction of token t + 1 from the
prefix, and one forward pass trains all T predictions at once.

Its PyTorch twin (``dlbook.twins.to_torch(model)``, built from
``torch.nn.Embedding``, ``TransformerEncoderLayer(norm_first=True)``,
``LayerNorm`` and ``Linear`` under the same sublayer names) serves the
cross-check and larger runs on a GPU; ``dlbook.twins.copy_weights`` brings
the trained weights back.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers.base import Layer
from dlbook._checks import check_positive_int
from dlbook.functional import softmax
from dlbook.init import normal_
from dlbook.layers.container import LayerList
from dlbook.layers.embedding import Embedding
from dlbook.layers.linear import Linear
from dlbook.layers.norm import LayerNorm
from dlbook.layers.positional import PositionalEncoding
from dlbook.layers.transformer import TransformerEncoderLayer
from dlbook.utils import make_rng

INIT_STD = 0.02
"""Every weight matrix and embedding starts as N(0, INIT_STD^2), biases at 0 (GPT-2's recipe);
the matrices that write into the residual stream (out_proj, linear2) get INIT_STD / sqrt(2 L)."""

FF_MULTIPLIER = 4
"""dim_feedforward defaults to FF_MULTIPLIER * d_model, as in the Transformer and GPT papers."""

POSITIONAL = ("learned", "sinusoidal")


class GPT(Layer):
    """logits = head(LayerNorm(blocks(embed(ids) + pos))), causal self-attention in every block.

    Shapes: ids (N, T) integers in [0, V), T <= block_size -> logits (N, T, V).
    backward(dlogits (N, T, V)) -> None (ids have no gradient). Sublayers
    ``tok_emb``, ``pos_emb`` (learned positions only), ``blocks.i``, ``ln_f``,
    ``head``. ``positional="sinusoidal"`` uses the fixed encoding instead of a
    learned table. Initialisation: see ``INIT_STD`` (Radford et al., 2019). Chapter 18.
    """

    def __init__(self, vocab_size: int, block_size: int, d_model: int = 64, nhead: int = 4,
                 num_layers: int = 2, dim_feedforward: int | None = None, dropout: float = 0.0,
                 positional: str = "learned",
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        if positional not in POSITIONAL:
            raise ValueError(f"GPT expected positional in {POSITIONAL}; got {positional!r}")
        dim_feedforward = FF_MULTIPLIER * d_model if dim_feedforward is None else dim_feedforward
        self.config = dict(vocab_size=check_positive_int(vocab_size, "GPT", "vocab_size"),
                           block_size=check_positive_int(block_size, "GPT", "block_size"),
                           d_model=d_model, nhead=nhead,
                           num_layers=check_positive_int(num_layers, "GPT", "num_layers"),
                           dim_feedforward=dim_feedforward, dropout=dropout, positional=positional)
        rng = make_rng(rng, "GPT")
        self.tok_emb = Embedding(vocab_size, d_model, rng=rng, dtype=dtype)
        if positional == "learned":
            self.pos_emb = Embedding(block_size, d_model, rng=rng, dtype=dtype)
        else:
            self.pos_emb = PositionalEncoding(d_model, max_len=block_size, dtype=dtype)
        self.blocks = LayerList(TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                                        norm_first=True, rng=rng, dtype=dtype)
                                for _ in range(num_layers))
        self.ln_f = LayerNorm(d_model, dtype=dtype)
        self.head = Linear(d_model, vocab_size, rng=rng, dtype=dtype)
        self._init_weights(rng)

    def _init_weights(self, rng: np.random.Generator) -> None:
        """N(0, INIT_STD^2) weights, N(0, (INIT_STD / sqrt(2 L))^2) for residual outputs."""
        residual_std = INIT_STD / np.sqrt(2 * self.config["num_layers"])
        for name, p in self.params.items():
            if name.endswith(".W"):
                std = residual_std if name.endswith(("out_proj.W", "linear2.W")) else INIT_STD
                normal_(p, std=std, rng=rng)  # in place, GPT-2's small normal init

    def forward(self, ids: np.ndarray) -> np.ndarray:
        """Next-token logits at every position. Shapes: (N, T) -> (N, T, V)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or not 1 <= ids.shape[1] <= self.config["block_size"]:
            raise ValueError(f"GPT.forward expected ids of shape (N, T) with 1 <= T <= block_size "
                             f"= {self.config['block_size']}; got shape {ids.shape}")
        x = self.tok_emb(ids)  # (N, T, E)
        if self.config["positional"] == "learned":
            x = x + self.pos_emb(np.arange(ids.shape[1]))  # (T, E) broadcasts over N
        else:
            x = self.pos_emb(x)
        for block in self.blocks:
            x = block(x, is_causal=True)
        return self.head(self.ln_f(x))

    def backward(self, dlogits: np.ndarray) -> None:
        """Accumulate every parameter gradient from dlogits (N, T, V); returns None."""
        dx = self.ln_f.backward(self.head.backward(dlogits))
        for block in reversed(self.blocks):
            dx = block.backward(dx)
        if self.config["positional"] == "learned":
            self.pos_emb.backward(dx.sum(axis=0))  # the position rows are shared by the batch
        else:
            dx = self.pos_emb.backward(dx)
        self.tok_emb.backward(dx)
        return None

    def generate(self, ids: np.ndarray, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None,
                 rng: int | np.random.Generator | None = None) -> np.ndarray:
        """Append max_new_tokens sampled tokens, each from softmax(logits / temperature).

        Shapes: ids (T0,) or (N, T0) -> (T0 + max_new_tokens,) or (N, T0 + max_new_tokens).
        Only the last block_size tokens are fed back; ``top_k`` keeps the k most
        likely tokens. Runs in evaluation mode and restores the mode afterwards.
        """
        ids = np.asarray(ids, dtype=np.int64)
        squeeze = ids.ndim == 1
        ids = ids[None] if squeeze else ids
        check_positive_int(max_new_tokens, "GPT.generate", "max_new_tokens")
        if not temperature > 0:
            raise ValueError(f"GPT.generate expected temperature > 0; got {temperature}")
        rng, was_training = make_rng(rng, "GPT.generate"), self.training
        self.eval()
        try:
            for _ in range(max_new_tokens):
                logits = self.forward(ids[:, -self.config["block_size"]:])[:, -1]  # (N, V)
                logits = logits.astype(np.float64) / temperature
                if top_k is not None and top_k < logits.shape[-1]:
                    kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
                    logits = np.where(logits < kth, -np.inf, logits)
                cdf = np.cumsum(softmax(logits), axis=-1)  # inverse-CDF sampling
                u = rng.random((len(ids), 1)) * cdf[:, -1:]
                nxt = np.minimum((cdf < u).sum(axis=-1), logits.shape[-1] - 1)
                ids = np.concatenate([ids, nxt[:, None]], axis=1)
        finally:
            self.train(was_training)
        return ids[0] if squeeze else ids

    def __repr__(self) -> str:
        c = self.config
        return (f"GPT(vocab_size={c['vocab_size']}, block_size={c['block_size']}, "
                f"d_model={c['d_model']}, nhead={c['nhead']}, num_layers={c['num_layers']}, "
                f"positional={c['positional']!r})")
