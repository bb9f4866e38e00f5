"""Multi-head attention: h scaled dot-product attentions on learned projections (chapter 18).

    head_i = Attention(query W_q^(i), key W_k^(i), value W_v^(i)),
    out = concat(head_1, ..., head_h) W_o + b_o

Each W_* is one (E, E) matrix whose column blocks of width E / h are the
per-head projections, so all heads are computed with one matrix product and
a reshape (N, T, E) -> (N, h, T, E / h).

**Masks.** ``key_padding_mask`` (N, Tk) bool: True marks a *padding* key that
no query may attend to (the same convention as PyTorch). ``attn_mask``
(Tq, Tk), (N, Tq, Tk) or (N, h, Tq, Tk) bool: True means *may attend*, the
convention of :func:`dlbook.layers.attention.scaled_dot_product_attention`
and ``torch.nn.functional.scaled_dot_product_attention``, so
``attn_mask=causal_mask(T)`` is causal self-attention. Beware:
``torch.nn.MultiheadAttention`` reads a bool ``attn_mask`` the other way
round (True = *not* allowed); the PyTorch twin of ``attn_mask=m`` is
``attn_mask=~m`` there. Dropout on the attention weights is not implemented.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.layers.attention import (scaled_dot_product_attention,
                                     scaled_dot_product_attention_backward)
from dlbook.layers.base import Layer
from dlbook.utils import make_rng

PROJECTIONS = ("q", "k", "v", "o")
"""Parameter suffixes: W_q, W_k, W_v (input projections), W_o (output projection)."""


class MultiheadAttention(Layer):
    """out = concat_i softmax(Q_i K_i^T / sqrt(E / h)) V_i W_o + b_o, Q = query W_q + b_q, ...

    Shapes: query (N, Tq, E), key (N, Tk, E), value (N, Tk, E) -> out (N, Tq, E)
    (batch first only); afterwards ``attn_weights`` (N, h, Tq, Tk).
    backward(dout (N, Tq, E)) -> (dquery, dkey, dvalue); a self-attention caller
    (query = key = value = x) adds the three. Parameters W_q, W_k, W_v, W_o
    (E, E) from a Glorot-uniform draw, b_q, b_k, b_v, b_o (E,) = 0. PyTorch
    mapping: in_proj_weight = concat(W_q.T, W_k.T, W_v.T), in_proj_bias =
    concat(b_q, b_k, b_v), out_proj.weight = W_o.T, out_proj.bias = b_o. Chapter 18.
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        self.embed_dim = check_positive_int(embed_dim, "MultiheadAttention", "embed_dim")
        self.num_heads = check_positive_int(num_heads, "MultiheadAttention", "num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention expected embed_dim divisible by num_heads; "
                             f"got embed_dim={embed_dim}, num_heads={num_heads}")
        self.head_dim = embed_dim // num_heads
        rng = make_rng(rng, "MultiheadAttention")
        limit = np.sqrt(6.0 / (2 * embed_dim))  # Glorot uniform for a square matrix
        for p in PROJECTIONS:
            self.add_param(f"W_{p}", rng.uniform(-limit, limit, (embed_dim, embed_dim)).astype(dtype))
        if bias:
            for p in PROJECTIONS:
                self.add_param(f"b_{p}", np.zeros(embed_dim, dtype=dtype))
        self.attn_weights = None
        self._cache = None

    # projections ---------------------------------------------------------

    def _project(self, x: np.ndarray, p: str) -> np.ndarray:
        y = x @ self.params[f"W_{p}"]
        return y + self.params[f"b_{p}"] if f"b_{p}" in self.params else y

    def _project_backward(self, x: np.ndarray, dy: np.ndarray, p: str) -> np.ndarray:
        E = self.embed_dim
        self.grads[f"W_{p}"] += x.reshape(-1, E).T @ dy.reshape(-1, E)
        if f"b_{p}" in self.grads:
            self.grads[f"b_{p}"] += dy.reshape(-1, E).sum(axis=0)
        return dy @ self.params[f"W_{p}"].T

    def _split(self, x: np.ndarray) -> np.ndarray:
        N, T, _ = x.shape  # (N, T, E) -> (N, h, T, E / h)
        return x.reshape(N, T, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _merge(self, x: np.ndarray) -> np.ndarray:
        N, _, T, _ = x.shape  # (N, h, T, E / h) -> (N, T, E)
        return x.transpose(0, 2, 1, 3).reshape(N, T, self.embed_dim)

    # masks ---------------------------------------------------------------

    def _allowed(self, N: int, Tq: int, Tk: int, key_padding_mask, attn_mask):
        """One bool mask broadcastable to (N, h, Tq, Tk), True = may attend (or None)."""
        allowed = None
        if key_padding_mask is not None:
            kpm = np.asarray(key_padding_mask)
            if kpm.dtype != bool or kpm.shape != (N, Tk):
                raise ValueError(f"MultiheadAttention expected key_padding_mask of shape "
                                 f"(N, Tk) = {(N, Tk)} and dtype bool (True = padding); got "
                                 f"shape {kpm.shape}, dtype {kpm.dtype}")
            allowed = ~kpm[:, None, None, :]  # (N, 1, 1, Tk)
        if attn_mask is not None:
            am = np.asarray(attn_mask)
            shapes = {2: (Tq, Tk), 3: (N, Tq, Tk), 4: (N, self.num_heads, Tq, Tk)}
            if am.dtype != bool or shapes.get(am.ndim) != am.shape:
                raise ValueError(f"MultiheadAttention expected attn_mask of shape (Tq, Tk) = "
                                 f"{(Tq, Tk)}, (N, Tq, Tk) or (N, h, Tq, Tk) and dtype bool "
                                 f"(True = may attend); got shape {am.shape}, dtype {am.dtype}")
            am = am[:, None] if am.ndim == 3 else am  # (N, Tq, Tk) -> (N, 1, Tq, Tk)
            allowed = am if allowed is None else allowed & am
        return allowed

    # forward / backward --------------------------------------------------

    def forward(self, query: np.ndarray, key: np.ndarray, value: np.ndarray,
                key_padding_mask: np.ndarray | None = None,
                attn_mask: np.ndarray | None = None) -> np.ndarray:
        """Attention of every query over the (unmasked) keys. (N, Tq, E) -> (N, Tq, E)."""
        where, E = "MultiheadAttention.forward", self.embed_dim
        query, key, value = (as_float_array(a, where, n) for a, n in
                             ((query, "query"), (key, "key"), (value, "value")))
        for name, a in (("query", query), ("key", key), ("value", value)):
            if a.ndim != 3 or a.shape[-1] != E:
                raise ValueError(f"{where} expected {name} of shape (N, T, {E}); got shape {a.shape}")
        if key.shape != value.shape or query.shape[0] != key.shape[0]:
            raise ValueError(f"{where} expected key and value of the same shape (N, Tk, E) and "
                             f"the batch size of query; got query {query.shape}, key {key.shape}, "
                             f"value {value.shape}")
        (N, Tq, _), Tk = query.shape, key.shape[1]
        mask = self._allowed(N, Tq, Tk, key_padding_mask, attn_mask)
        Q, K, V = (self._split(self._project(x, p)) for x, p in
                   ((query, "q"), (key, "k"), (value, "v")))  # (N, h, T, E / h) each
        heads, weights = scaled_dot_product_attention(Q, K, V, mask)
        concat = self._merge(heads)  # (N, Tq, E)
        self.attn_weights = weights
        self._cache = (query, key, value, Q, K, V, weights, concat)
        return self._project(concat, "o")

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dquery, dkey, dvalue); adds every parameter gradient into grads."""
        query, key, value, Q, K, V, weights, concat = self._cached(self._cache)
        dout = self._check_dout(dout, query.shape)
        dconcat = self._project_backward(concat, dout, "o")
        dQ, dK, dV = scaled_dot_product_attention_backward(self._split(dconcat),
                                                           (Q, K, V, weights, None))
        return tuple(self._project_backward(x, self._merge(d), p) for x, d, p in
                     ((query, dQ, "q"), (key, dK, "k"), (value, dV, "v")))

    def __repr__(self) -> str:
        return (f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"bias={'b_q' in self.params})")
