"""Inverted dropout: drop units at random while training, do nothing at test time (chapter 8).

Each unit is kept with probability 1 - p and the kept ones are scaled by
1 / (1 - p), so the expected activation E[y] = x is the same in training and
evaluation. (The original formulation instead scales by the keep probability
1 - p at test time; inverted dropout moves that scaling into training.)
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array
from dlbook.layers.base import Layer
from dlbook.utils import make_rng


class Dropout(Layer):
    """Training: y = x * m / (1 - p), m_i ~ Bernoulli(1 - p); evaluation: y = x.

    Shapes: x (...) -> y (...). Backward uses the same mask: dx = dout * m / (1 - p).
    ``p`` is the probability of *dropping* a unit, as in PyTorch; 0 <= p < 1.
    The mask is drawn from the explicit ``rng``; the last one is kept in ``mask``.
    At p = 0 (and in evaluation) the layer is the identity and draws nothing.
    """

    def __init__(self, p: float = 0.5, rng: int | np.random.Generator | None = None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"Dropout expected p to be a float; got {type(p).__name__}")
        if not 0 <= p < 1:
            raise ValueError(f"Dropout expected a drop probability 0 <= p < 1; got p={p}")
        self.p = float(p)
        self.rng = make_rng(rng, "Dropout")
        self.mask = None  # the scaled keep-mask m / (1 - p) of the last training forward
        self._shape = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "Dropout.forward")
        self._shape = x.shape
        if not self.training or self.p == 0:  # p = 0 keeps every unit: no mask to draw
            self.mask = None
            return x
        keep = self.rng.random(x.shape) >= self.p  # True with probability 1 - p
        self.mask = keep.astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self.mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dout = self._check_dout(dout, self._cached(self._shape))
        return dout if self.mask is None else dout * self.mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
