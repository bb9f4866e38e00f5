"""Flatten: from feature maps to feature vectors, and back in the backward pass (chapter 10).

A CNN ends its convolution and pooling stages with feature maps (N, C, H, W)
but its classifier is a ``Linear`` layer that wants vectors (N, D). Flatten
joins the axes into one, D = C H W, in row-major (C order) order, the same
order as ``torch.nn.Flatten``, so weights copied between the two libraries
line up. Reshaping moves no numbers, so the backward pass only reshapes
dout back to the input's shape.
"""

from __future__ import annotations

import math

import numpy as np

from dlbook._checks import as_float_array
from dlbook.layers.base import Layer


class Flatten(Layer):
    """y = x reshaped so that axes start_dim ... end_dim become one; dx = dout reshaped back.

    Shapes: x (N, C, H, W) -> y (N, C H W) with the defaults ``start_dim=1``,
    ``end_dim=-1`` (as ``torch.nn.Flatten``); in general
    (d_0, ..., d_s, ..., d_e, ...) -> (d_0, ..., d_s * ... * d_e, ...).
    Negative dims count from the end. No parameters (chapter 10).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for name, dim in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
                raise TypeError(f"Flatten expected {name} to be an int; got {type(dim).__name__}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)
        self._x_shape: tuple[int, ...] | None = None

    def output_shape(self, x_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape forward gives for ``x_shape``; ValueError if the axes do not fit."""
        ndim = len(x_shape)
        start, end = self.start_dim % max(ndim, 1), self.end_dim % max(ndim, 1)
        fits = all(-ndim <= d < ndim for d in (self.start_dim, self.end_dim))
        if not fits or start > end:
            raise ValueError(f"Flatten.forward expected x with axes start_dim={self.start_dim} "
                             f"up to end_dim={self.end_dim} (start first); "
                             f"got shape {tuple(x_shape)}")
        joined = math.prod(x_shape[start:end + 1])
        return tuple(x_shape[:start]) + (joined,) + tuple(x_shape[end + 1:])

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Join axes start_dim..end_dim. (N, C, H, W) -> (N, C H W) by default."""
        x = as_float_array(x, "Flatten.forward")
        y_shape = self.output_shape(x.shape)
        self._x_shape = x.shape
        return x.reshape(y_shape)  # a view when x is contiguous, like torch's flatten

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = dout reshaped to the input's shape. (N, C H W) -> (N, C, H, W)."""
        shape = self._cached(self._x_shape)
        dout = self._check_dout(dout, self.output_shape(shape))
        return dout.reshape(shape)

    def __repr__(self) -> str:
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"
