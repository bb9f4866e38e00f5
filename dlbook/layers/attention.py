"""Scaled dot-product attention, forward and backward, and the causal mask (chapter 18).

Every query scores every key with a dot product, the scores become weights
through a softmax over the keys, and the output is the weighted mean of the
values:

    out = softmax(q k^T * scale) v,    scale = 1 / sqrt(d) by default.

**Masks** are boolean and broadcast to the score matrix (..., Tq, Tk):
``True`` means *may attend*, as in the bool ``attn_mask`` of
``torch.nn.functional.scaled_dot_product_attention``. A masked score is
removed before the softmax, so its weight is exactly 0 and its gradient is
exactly 0. A query whose whole row is masked (no key may be attended) gets
all-zero weights and an all-zero output, and zero gradients; PyTorch returns
NaN for such a row. (``torch.nn.MultiheadAttention`` uses the opposite bool
convention; see :mod:`dlbook.layers.multihead`.)

Backward, with A = the weights, S = the scores and g = dout:
dv = A^T g, dA = g v^T, dS = A * (dA - sum_k(dA * A)) (the softmax Jacobian
applied row by row), dq = dS k * scale, dk = dS^T q * scale.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.layers.base import Layer


def causal_mask(T: int, Tk: int | None = None) -> np.ndarray:
    """mask[t, s] = (s <= t): query t may attend to keys 0..t only.

    Shapes: -> (T, T) bool, or (T, Tk) when ``Tk`` is given (lower triangle
    anchored at the top-left corner, as ``is_causal=True`` in PyTorch). Chapter 18.
    """
    T = check_positive_int(T, "causal_mask", "T")
    Tk = T if Tk is None else check_positive_int(Tk, "causal_mask", "Tk")
    return np.tril(np.ones((T, Tk), dtype=bool))


def _check_inputs(q, k, v, mask, where: str):
    """Validate q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) and a bool mask; return arrays."""
    q, k, v = (as_float_array(a, where, n) for a, n in ((q, "q"), (k, "k"), (v, "v")))
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a.ndim < 2:
            raise ValueError(f"{where} expected {name} with at least 2 axes (..., T, d); "
                             f"got shape {a.shape}")
    if q.shape[:-2] != k.shape[:-2] or k.shape[:-1] != v.shape[:-1] or q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{where} expected q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) with "
                         f"the same leading axes; got q {q.shape}, k {k.shape}, v {v.shape}")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"{where} expected a bool mask (True = may attend); "
                            f"got dtype {mask.dtype}")
        scores_shape = q.shape[:-1] + (k.shape[-2],)
        try:
            if np.broadcast_shapes(mask.shape, scores_shape) != scores_shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"{where} expected a mask broadcastable to the scores' shape "
                             f"{scores_shape} (..., Tq, Tk); got shape {mask.shape}") from None
    return q, k, v, mask


def _scale(scale: float | None, d: int) -> float:
    """1 / sqrt(d) unless given, as a Python float (a numpy float64 would upcast float32 arrays)."""
    return float(1.0 / np.sqrt(d)) if scale is None else float(scale)


def masked_softmax(scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """softmax over the last axis of the allowed scores; masked entries get weight exactly 0.

    Shapes: scores (..., Tq, Tk), mask broadcastable to it (True = allowed) -> (..., Tq, Tk).
    A row with no allowed entry is all zeros instead of NaN (chapter 18).
    """
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    m = np.max(scores, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # fully masked row: exp(-inf - 0) = 0, no NaN
    e = np.exp(scores - m)  # exactly 0 where masked
    total = np.sum(e, axis=-1, keepdims=True)
    return e / np.where(total > 0, total, 1)


def scaled_dot_product_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                                 mask: np.ndarray | None = None,
                                 scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """out = softmax(q k^T * scale, masked) v; returns (out, weights).

    Shapes: q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv), mask broadcastable
    to (..., Tq, Tk) bool (True = may attend) -> out (..., Tq, dv), weights
    (..., Tq, Tk). ``scale`` defaults to 1 / sqrt(d). For the backward pass
    keep ``cache = (q, k, v, weights, scale)`` and call
    :func:`scaled_dot_product_attention_backward`. Chapter 18.
    """
    q, k, v, mask = _check_inputs(q, k, v, mask, "scaled_dot_product_attention")
    scale = _scale(scale, q.shape[-1])
    scores = (q @ np.swapaxes(k, -1, -2)) * scale  # (..., Tq, Tk), in the dtype of q and k
    weights = masked_softmax(scores, mask)
    return weights @ v, weights


def scaled_dot_product_attention_backward(dout: np.ndarray, cache: tuple
                                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dq, dk, dv) of out = softmax(q k^T * scale) v, given dout and the forward's cache.

    Shapes: dout (..., Tq, dv); cache = (q, k, v, weights, scale) as used and
    returned by :func:`scaled_dot_product_attention` (``scale=None`` means
    1 / sqrt(d)) -> dq (..., Tq, d), dk (..., Tk, d), dv (..., Tk, dv).
    Masked weights are exactly 0, so their score gradients are exactly 0. Chapter 18.
    """
    q, k, v, weights, scale = cache
    scale = _scale(scale, q.shape[-1])
    expected = weights.shape[:-1] + (v.shape[-1],)
    dout = as_float_array(dout, "scaled_dot_product_attention_backward", "dout")
    if dout.shape != expected:
        raise ValueError(f"scaled_dot_product_attention_backward expected dout of shape "
                         f"{expected} (the shape of out); got shape {dout.shape}")
    dv = np.swapaxes(weights, -1, -2) @ dout  # (..., Tk, dv)
    dweights = dout @ np.swapaxes(v, -1, -2)  # (..., Tq, Tk)
    dscores = weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))
    dq = (dscores @ k) * scale
    dk = (np.swapaxes(dscores, -1, -2) @ q) * scale
    return dq, dk, dv


class ScaledDotProductAttention(Layer):
    """The layer form of :func:`scaled_dot_product_attention` (no parameters).

    Shapes: forward(q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv), mask) ->
    out (..., Tq, dv); afterwards ``attn_weights`` (..., Tq, Tk).
    backward(dout (..., Tq, dv)) -> (dq, dk, dv). Chapter 18.
    """

    def __init__(self, scale: float | None = None) -> None:
        super().__init__()
        self.scale = scale
        self.attn_weights = None
        self._cache = None

    def forward(self, q: np.ndarray, k: np.ndarray, v: np.ndarray,
                mask: np.ndarray | None = None) -> np.ndarray:
        out, weights = scaled_dot_product_attention(q, k, v, mask, self.scale)
        self.attn_weights = weights
        self._cache = (np.asarray(q), np.asarray(k), np.asarray(v), weights, self.scale)
        return out

    def backward(self, dout: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return scaled_dot_product_attention_backward(dout, self._cached(self._cache))

    def __repr__(self) -> str:
        return f"ScaledDotProductAttention(scale={self.scale})"
