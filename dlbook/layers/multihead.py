"""Multi-head attention: h scaled dot-product attentions on learned projections (chapter 18).

    head_i = Attention(query W_q^(i), key W_k^(i), value W_v^(i)),
    out = concat(head_1, ..., head_h) W_o + b_o

The four projections are ordinary :class:`~dlbook.layers.linear.Linear`
layers, ``q_proj``, ``k_proj``, ``v_proj`` and ``out_proj``, each (E, E):
the column blocks of width E / h of ``q_proj.W`` are the per-head
projections W_q^(i), so all heads are computed with one matrix product and a
reshape (N, T, E) -> (N, h, T, E / h). Their backward passes are Linear's.

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
from dlbook.init import xavier_uniform
from dlbook.layers.linear import Linear
from dlbook.utils import make_rng

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")
"""The four Linear sublayers: the input projections of query, key, value, and the output."""


class MultiheadAttention(Layer):
    """out = concat_i softmax(Q_i K_i^T / sqrt(E / h)) V_i W_o + b_o, Q = q_proj(query), ...

    Shapes: query (N, Tq, E), key (N, Tk, E), value (N, Tk, E) -> out (N, Tq, E)
    (batch first only); afterwards ``attn_weights`` (N, h, Tq, Tk).
    backward(dout (N, Tq, E)) -> (dquery, dkey, dvalue); a self-attention caller
    (query = key = value = x) adds the three. Sublayers ``q_proj``, ``k_proj``,
    ``v_proj``, ``out_proj``: ``Linear(E, E, bias)`` whose W starts from a
    Glorot-uniform draw (b = 0). PyTorch mapping: in_proj_weight =
    concat(q_proj.W.T, k_proj.W.T, v_proj.W.T), in_proj_bias = concat(q_proj.b,
    k_proj.b, v_proj.b), out_proj.weight = out_proj.W.T, out_proj.bias = out_proj.b.
    Chapter 18.
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
        for name in PROJECTIONS:
            proj = Linear(embed_dim, embed_dim, bias=bias, rng=rng, dtype=dtype)
            proj.params["W"][...] = xavier_uniform((embed_dim, embed_dim), rng=rng)  # as torch
            setattr(self, name, proj)  # registered as a sublayer
        self.bias = bool(bias)
        self.attn_weights = None
        self._cache = None

    # heads ---------------------------------------------------------------

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
        Q = self._split(self.q_proj(query))  # (N, h, Tq, E / h)
        K = self._split(self.k_proj(key))  # (N, h, Tk, E / h)
        V = self._split(self.v_proj(value))  # (N, h, Tk, E / h)
        heads, weights = scaled_dot_product_attention(Q, K, V, mask)
        self.attn_weights = weights
        self._cache = (query.shape, Q, K, V, weights)
        return self.out_proj(self._merge(heads))  # (N, h, Tq, E / h) -> (N, Tq, E) -> (N, Tq, E)

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dquery, dkey, dvalue); adds every parameter gradient into grads."""
        query_shape, Q, K, V, weights = self._cached(self._cache)
        dout = self._check_dout(dout, query_shape)
        dheads = self._split(self.out_proj.backward(dout))  # (N, h, Tq, E / h)
        dQ, dK, dV = scaled_dot_product_attention_backward(dheads, (Q, K, V, weights, None))
        return (self.q_proj.backward(self._merge(dQ)), self.k_proj.backward(self._merge(dK)),
                self.v_proj.backward(self._merge(dV)))

    def __repr__(self) -> str:
        return (f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"bias={self.bias})")
