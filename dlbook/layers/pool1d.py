"""Pooling over time for sequences and text, and the axis transpose it needs (chapter 10).

Text arrives from an embedding table (chapter 12) as x (N, L, E): N sentences,
L tokens, E numbers per token. ``Conv1d`` and the pools below follow PyTorch's
channels-first layout (N, C, L): the E embedding numbers are the *channels*,
and the window slides along the L positions. So a text CNN puts a
``Transpose(1, 2)`` between the embedding and the first convolution,

    (N, L, E) --Transpose(1, 2)--> (N, E, L) --Conv1d--> (N, C, L') --GlobalMaxPool1d--> (N, C)

the same ``x.transpose(1, 2)`` a PyTorch model writes. Forgetting it slides the
window across the embedding dimensions instead of across the words.

Max-over-time pooling (:class:`GlobalMaxPool1d`) keeps, for each filter, its
strongest response anywhere in the sentence, which turns sentences of any
length into a fixed-size vector (Collobert et al. 2011; Kim 2014).
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_non_negative_int, check_positive_int
from dlbook.layers.base import Layer
from dlbook.layers.pool import MaxPool2d


def _check_ncl(x, where: str) -> np.ndarray:
    x = as_float_array(x, where)
    if x.ndim != 3:
        raise ValueError(f"{where} expected x of shape (N, C, L); got shape {x.shape}")
    return x


class MaxPool1d(Layer):
    """y[n, c, i] = max of x[n, c, i stride - padding : i stride - padding + kernel_size].

    Shapes: x (N, C, L) -> y (N, C, L_out),
    L_out = floor((L + 2 padding - kernel_size) / stride) + 1.
    It is :class:`~dlbook.layers.pool.MaxPool2d` on a (N, C, 1, L) view with a
    (1, kernel_size) window: the same -inf padding, the same backward (the
    gradient goes to each window's first maximum; overlapping windows add up).
    After ``forward``, ``indices`` (N, C, L_out) holds the position in L of each
    maximum, as ``torch.nn.functional.max_pool1d(..., return_indices=True)``.
    """

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0) -> None:
        super().__init__()
        self.kernel_size = check_positive_int(kernel_size, "MaxPool1d", "kernel_size")
        self.stride = (self.kernel_size if stride is None
                       else check_positive_int(stride, "MaxPool1d", "stride"))
        self.padding = check_non_negative_int(padding, "MaxPool1d", "padding")
        if 2 * self.padding > self.kernel_size:
            raise ValueError(f"MaxPool1d expected padding at most half of kernel_size (as "
                             f"PyTorch requires); got padding={self.padding} with "
                             f"kernel_size={self.kernel_size}")
        self._pool = MaxPool2d((1, self.kernel_size), (1, self.stride), (0, self.padding))

    @property
    def indices(self) -> np.ndarray | None:
        """(N, C, L_out) int64: where in L each window's maximum sits (None before forward)."""
        indices = self._pool.indices
        return None if indices is None else indices[:, :, 0, :]  # in a 1 x L plane, h W + w = w

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Window maxima along L. (N, C, L) -> (N, C, L_out)."""
        x = _check_ncl(x, "MaxPool1d.forward")
        if x.shape[2] + 2 * self.padding < self.kernel_size:
            raise ValueError(f"MaxPool1d.forward expected L + 2 padding >= kernel_size "
                             f"{self.kernel_size}; got L = {x.shape[2]}, padding = {self.padding}")
        return self._pool.forward(x[:, :, None, :])[:, :, 0, :]  # (N, C, 1, L) -> (N, C, L_out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx[n, c, l] = sum of dout over the windows whose maximum sits at l."""
        indices = self._cached(self.indices)
        dout = self._check_dout(dout, indices.shape)
        return self._pool.backward(dout[:, :, None, :])[:, :, 0, :]

    def __repr__(self) -> str:
        return (f"MaxPool1d(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding})")


class GlobalMaxPool1d(Layer):
    """Max-over-time pooling: y[n, c] = max over l of x[n, c, l].

    Shapes: x (N, C, L) -> y (N, C), for any L >= 1 (sentences of any length).
    Backward (chapter 10): dx[n, c, l] = dout[n, c] at the first maximum of
    x[n, c, :] and 0 elsewhere, i.e. ``MaxPool1d(kernel_size=L)``; the chosen
    positions are kept in ``indices`` (N, C). ``torch.amax`` agrees when the
    maximum is unique but *splits* the gradient evenly among tied maxima.
    """

    def __init__(self) -> None:
        super().__init__()
        self.indices: np.ndarray | None = None
        self._x_shape: tuple[int, ...] | None = None
        self._dtype = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Maximum over the time axis. (N, C, L) -> (N, C)."""
        x = _check_ncl(x, "GlobalMaxPool1d.forward")
        if x.shape[2] == 0:
            raise ValueError(f"GlobalMaxPool1d.forward expected at least one time step (L >= 1); "
                             f"got shape {x.shape}")
        self.indices = x.argmax(axis=2)  # (N, C): the first maximum of each row
        self._x_shape, self._dtype = x.shape, x.dtype
        return np.take_along_axis(x, self.indices[..., None], axis=2)[..., 0]

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Send dout[n, c] to position indices[n, c]; every other position gets 0."""
        shape = self._cached(self._x_shape)
        dout = self._check_dout(dout, shape[:2])
        dx = np.zeros(shape, dtype=np.result_type(self._dtype, dout.dtype))
        np.put_along_axis(dx, self.indices[..., None], dout[..., None], axis=2)
        return dx


class Transpose(Layer):
    """y = x with axes ``dim0`` and ``dim1`` swapped; backward swaps dout back.

    Shapes: e.g. ``Transpose(1, 2)``: x (N, L, E) -> y (N, E, L), the layout
    change between an embedding and ``Conv1d`` (see the module docstring;
    chapter 10). Negative dims count from the end, as in ``torch.transpose``.
    Forward and backward return contiguous copies, so the next layer's
    reshapes and matrix products run on ordinary memory.
    """

    def __init__(self, dim0: int, dim1: int) -> None:
        super().__init__()
        for name, dim in (("dim0", dim0), ("dim1", dim1)):
            if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
                raise TypeError(f"Transpose expected {name} to be an int; "
                                f"got {type(dim).__name__}")
        self.dim0, self.dim1 = int(dim0), int(dim1)
        self._x_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Swap two axes. (..., a, ..., b, ...) -> (..., b, ..., a, ...)."""
        x = as_float_array(x, "Transpose.forward")
        if not all(-x.ndim <= d < x.ndim for d in (self.dim0, self.dim1)):
            raise ValueError(f"Transpose.forward expected x with axes {self.dim0} and "
                             f"{self.dim1}; got shape {x.shape}")
        self._x_shape = x.shape
        return np.ascontiguousarray(np.swapaxes(x, self.dim0, self.dim1))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = dout with the same two axes swapped back (a swap is its own inverse)."""
        shape = self._cached(self._x_shape)
        out_shape = list(shape)
        out_shape[self.dim0], out_shape[self.dim1] = shape[self.dim1], shape[self.dim0]
        dout = self._check_dout(dout, tuple(out_shape))
        return np.ascontiguousarray(np.swapaxes(dout, self.dim0, self.dim1))

    def __repr__(self) -> str:
        return f"Transpose(dim0={self.dim0}, dim1={self.dim1})"
