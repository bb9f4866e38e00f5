"""Sinusoidal positional encoding: telling an order-blind attention layer where tokens are (chapter 18).

Attention treats its inputs as a set: permuting the tokens permutes the
outputs the same way. Adding a position-dependent vector to each token
embedding breaks that symmetry. The sinusoidal encoding uses, for position t
and feature pair i (frequency omega_i = 10000^(-2i / E)),

    PE[t, 2i] = sin(t * omega_i),    PE[t, 2i + 1] = cos(t * omega_i),

so every pair is a point on a circle turning at its own speed, and the
encoding of t + k is a fixed rotation of the encoding of t.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.layers.base import Layer
from dlbook.layers.dropout import Dropout

BASE_WAVELENGTH = 10000.0
"""omega_i = BASE_WAVELENGTH^(-2i / E): wavelengths from 2 pi up to 2 pi * BASE_WAVELENGTH."""

DEFAULT_MAX_LEN = 5000
"""Longest sequence a PositionalEncoding layer precomputes (as in the PyTorch tutorials)."""


def sinusoidal_positional_encoding(T: int, E: int, dtype=np.float32) -> np.ndarray:
    """PE[t, 2i] = sin(t omega_i), PE[t, 2i+1] = cos(t omega_i), omega_i = 10000^(-2i/E).

    Shapes: -> (T, E). An odd E keeps the first E columns (the last sine has no cosine).
    Chapter 18.
    """
    T = check_positive_int(T, "sinusoidal_positional_encoding", "T")
    E = check_positive_int(E, "sinusoidal_positional_encoding", "E")
    t = np.arange(T, dtype=np.float64)[:, None]  # (T, 1)
    omega = BASE_WAVELENGTH ** (-np.arange(0, E, 2, dtype=np.float64) / E)  # (ceil(E/2),)
    pe = np.empty((T, 2 * len(omega)), dtype=np.float64)
    pe[:, 0::2] = np.sin(t * omega)
    pe[:, 1::2] = np.cos(t * omega)
    return pe[:, :E].astype(dtype)


class PositionalEncoding(Layer):
    """y = dropout(x + PE[:T]) with the fixed sinusoidal PE (no parameters).

    Shapes: x (N, T, E) -> y (N, T, E), T <= ``max_len``. backward(dout) ->
    dx = dropout'(dout) (the encoding is a constant). Chapter 18.
    """

    def __init__(self, d_model: int, max_len: int = DEFAULT_MAX_LEN, dropout: float = 0.0,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        self.d_model = check_positive_int(d_model, "PositionalEncoding", "d_model")
        self.max_len = check_positive_int(max_len, "PositionalEncoding", "max_len")
        self.pe = sinusoidal_positional_encoding(self.max_len, self.d_model, dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self._shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "PositionalEncoding.forward")
        if x.ndim != 3 or x.shape[-1] != self.d_model or x.shape[1] > self.max_len:
            raise ValueError(f"PositionalEncoding.forward expected x of shape (N, T, "
                             f"{self.d_model}) with T <= max_len = {self.max_len}; "
                             f"got shape {x.shape}")
        self._shape = x.shape
        y = x + self.pe[: x.shape[1]]
        return self.dropout.forward(y)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout = self._check_dout(dout, self._cached(self._shape))
        return self.dropout.backward(dout)

    def __repr__(self) -> str:
        return (f"PositionalEncoding(d_model={self.d_model}, max_len={self.max_len}, "
                f"dropout={self.dropout.p})")
