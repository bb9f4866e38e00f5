"""Transformer blocks: attention and a feed-forward network, each in a residual branch with LayerNorm (chapter 18).

A sublayer f (attention or the feed-forward network) is wrapped as

    post-norm (the original Transformer):  y = LayerNorm(x + Dropout(f(x)))
    pre-norm  (norm_first=True, GPT-2):    y = x + Dropout(f(LayerNorm(x)))

Backward of the residual sum is a fork: dout reaches x directly *and*
through f, dx = dout + f'(dout) (pre-norm) or, after the norm,
d = LayerNorm'(dout), dx = d + f'(d) (post-norm). In the pre-norm form the
identity path from output to input never passes a normalisation, which is
why deep pre-norm stacks train without a learning-rate warm-up.

The bool masks follow :mod:`dlbook.layers.multihead`: ``*_mask`` True = may
attend, ``*_key_padding_mask`` True = padding. ``torch.nn.Transformer*Layer``
read a bool ``src_mask``/``tgt_mask`` as True = *not* allowed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlbook.layers.base import Layer
from dlbook._checks import as_float_array, check_positive_int
from dlbook.layers.activation import ReLU
from dlbook.layers.attention import causal_mask
from dlbook.layers.dropout import Dropout
from dlbook.layers.linear import Linear
from dlbook.layers.multihead import MultiheadAttention
from dlbook.layers.norm import DEFAULT_EPS, LayerNorm
from dlbook.utils import make_rng


def dropout_forward(drop: Dropout, x: np.ndarray) -> np.ndarray:
    """drop(x), skipped when p = 0 (Dropout would still draw a random mask of ones)."""
    return drop(x) if drop.p > 0 else x


def dropout_backward(drop: Dropout, dout: np.ndarray) -> np.ndarray:
    """The backward pass matching :func:`dropout_forward`."""
    return drop.backward(dout) if drop.p > 0 else dout


class FeedForward(Layer):
    """y = Linear_2(Dropout(ReLU(Linear_1(x)))), applied to every position on its own.

    Shapes: x (..., E) -> y (..., E), hidden width ``dim_feedforward``.
    Sublayers ``linear1`` (E, F) and ``linear2`` (F, E). Chapter 18.
    """

    def __init__(self, d_model: int, dim_feedforward: int, dropout: float = 0.0,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        rng = make_rng(rng, "FeedForward")
        self.linear1 = Linear(d_model, dim_feedforward, rng=rng, dtype=dtype)
        self.relu = ReLU()
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, rng=rng, dtype=dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.linear2(dropout_forward(self.dropout, self.relu(self.linear1(x))))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        d = dropout_backward(self.dropout, self.linear2.backward(dout))
        return self.linear1.backward(self.relu.backward(d))


class _TransformerLayer(Layer):
    """What encoder and decoder layers share: the residual wrapper in both norm placements."""

    def _build(self, where: str, d_model: int, nhead: int, dim_feedforward: int, dropout: float,
               norm_first: bool, layer_norm_eps: float, rng, dtype, n_sublayers: int) -> None:
        self.d_model = check_positive_int(d_model, where, "d_model")
        self.nhead = check_positive_int(nhead, where, "nhead")
        self.norm_first = bool(norm_first)
        rng = make_rng(rng, where)
        self.self_attn = MultiheadAttention(d_model, nhead, rng=rng, dtype=dtype)
        if n_sublayers == 3:
            self.multihead_attn = MultiheadAttention(d_model, nhead, rng=rng, dtype=dtype)
        self.ff = FeedForward(d_model, dim_feedforward, dropout, rng=rng, dtype=dtype)
        self.norms = [self.add_module(f"norm{i}", LayerNorm(d_model, layer_norm_eps, dtype=dtype))
                      for i in range(1, n_sublayers + 1)]
        self.drops = [self.add_module(f"dropout{i}", Dropout(dropout, rng=rng))
                      for i in range(1, n_sublayers + 1)]

    def _check_x(self, x, where: str, name: str) -> np.ndarray:
        x = as_float_array(x, where, name)
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"{where} expected {name} of shape (N, T, {self.d_model}); "
                             f"got shape {x.shape}")
        return x

    def _residual(self, x: np.ndarray, i: int, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Sublayer i around f: x + drop(f(norm(x))) or norm(x + drop(f(x)))."""
        norm, drop = self.norms[i], self.drops[i]
        if self.norm_first:
            return x + dropout_forward(drop, f(norm(x)))
        return norm(x + dropout_forward(drop, f(x)))

    def _residual_backward(self, dout: np.ndarray, i: int,
                           f_backward: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """dx of sublayer i: the identity path plus the path through f."""
        norm, drop = self.norms[i], self.drops[i]
        if self.norm_first:
            return dout + norm.backward(f_backward(dropout_backward(drop, dout)))
        d = norm.backward(dout)
        return d + f_backward(dropout_backward(drop, d))

    def _self_attention_backward(self, d: np.ndarray) -> np.ndarray:
        return sum(self.self_attn.backward(d))  # query = key = value: add the three gradients

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(d_model={self.d_model}, nhead={self.nhead}, "
                f"norm_first={self.norm_first})")


def _combine_causal(mask, T: int, causal: bool):
    """The bool mask (True = may attend) intersected with causal_mask(T) when causal is True."""
    if not causal:
        return mask
    return causal_mask(T) if mask is None else np.asarray(mask) & causal_mask(T)


class TransformerEncoderLayer(_TransformerLayer):
    """x -> sublayer(self-attention) -> sublayer(feed-forward), post- or pre-norm.

    Shapes: src (N, T, E) -> (N, T, E); ``src_mask`` bool broadcastable to
    (N, h, T, T) True = may attend, ``src_key_padding_mask`` (N, T) True = padding,
    ``is_causal=True`` adds the causal mask. Sublayers ``self_attn``, ``ff``,
    ``norm1``, ``norm2``, ``dropout1``, ``dropout2`` (torch: linear1/linear2 =
    ff.linear1/ff.linear2). Dropout is on each branch and the feed-forward
    hidden layer, not on the attention weights. Chapter 18.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.0, norm_first: bool = False,
                 layer_norm_eps: float = DEFAULT_EPS,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        self._build("TransformerEncoderLayer", d_model, nhead, dim_feedforward, dropout,
                    norm_first, layer_norm_eps, rng, dtype, n_sublayers=2)

    def forward(self, src: np.ndarray, src_mask: np.ndarray | None = None,
                src_key_padding_mask: np.ndarray | None = None,
                is_causal: bool = False) -> np.ndarray:
        x = self._check_x(src, "TransformerEncoderLayer.forward", "src")
        mask = _combine_causal(src_mask, x.shape[1], is_causal)
        h = self._residual(x, 0, lambda z: self.self_attn(z, z, z, src_key_padding_mask, mask))
        return self._residual(h, 1, self.ff)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dh = self._residual_backward(dout, 1, self.ff.backward)
        return self._residual_backward(dh, 0, self._self_attention_backward)


class TransformerDecoderLayer(_TransformerLayer):
    """tgt -> sublayer(causal self-attention) -> sublayer(cross-attention to memory) -> sublayer(FF).

    Shapes: tgt (N, T, E), memory (N, S, E) -> (N, T, E). Masks as in the
    encoder layer; ``tgt_is_causal=True`` (the default: unlike PyTorch, where it is
    only a hint, it *applies* causal_mask(T)) keeps position t from seeing
    targets after t. backward(dout) -> (dtgt, dmemory). Sublayers ``self_attn``,
    ``multihead_attn``, ``ff``, ``norm1..3``, ``dropout1..3``. Chapter 18.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.0, norm_first: bool = False,
                 layer_norm_eps: float = DEFAULT_EPS,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        self._build("TransformerDecoderLayer", d_model, nhead, dim_feedforward, dropout,
                    norm_first, layer_norm_eps, rng, dtype, n_sublayers=3)

    def forward(self, tgt: np.ndarray, memory: np.ndarray,
                tgt_mask: np.ndarray | None = None, memory_mask: np.ndarray | None = None,
                tgt_key_padding_mask: np.ndarray | None = None,
                memory_key_padding_mask: np.ndarray | None = None,
                tgt_is_causal: bool = True) -> np.ndarray:
        where = "TransformerDecoderLayer.forward"
        x, memory = self._check_x(tgt, where, "tgt"), self._check_x(memory, where, "memory")
        if memory.shape[0] != x.shape[0]:
            raise ValueError(f"{where} expected memory with the batch size of tgt "
                             f"({x.shape[0]}); got memory of shape {memory.shape}")
        mask = _combine_causal(tgt_mask, x.shape[1], tgt_is_causal)
        x = self._residual(x, 0, lambda z: self.self_attn(z, z, z, tgt_key_padding_mask, mask))
        x = self._residual(x, 1, lambda z: self.multihead_attn(
            z, memory, memory, memory_key_padding_mask, memory_mask))
        return self._residual(x, 2, self.ff)

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(dtgt (N, T, E), dmemory (N, S, E)) from dout (N, T, E)."""
        dmemory = []  # filled on the way through the cross-attention sublayer

        def cross_attention_backward(d: np.ndarray) -> np.ndarray:
            dquery, dkey, dvalue = self.multihead_attn.backward(d)
            dmemory.append(dkey + dvalue)  # memory feeds both keys and values
            return dquery

        d = self._residual_backward(dout, 2, self.ff.backward)
        d = self._residual_backward(d, 1, cross_attention_backward)
        dtgt = self._residual_backward(d, 0, self._self_attention_backward)
        return dtgt, dmemory[0]
