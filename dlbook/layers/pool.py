"""Max and average pooling over 2-D feature maps, forward and backward (chapter 10).

A pooling layer slides a kh x kw window over every channel of x (N, C, H, W),
moving ``stride`` pixels at a time, and summarises each window by one number:
its maximum (:class:`MaxPool2d`) or its mean (:class:`AvgPool2d`). As for a
convolution (chapter 9) the output size needs a floor,

    H_out = floor((H + 2 padding_h - kh) / stride_h) + 1,   and the same for W,

so rows and columns that no whole window reaches are dropped (PyTorch's
default ``ceil_mode=False``). Pooling learns nothing: ``params`` and ``grads``
are empty, and ``train()`` / ``eval()`` change nothing.

Vectorised without a loop over windows: for each of the kh kw offsets (i, j)
inside a window, the strided slice ``xp[:, :, i::stride_h, j::stride_w]`` (cut
to H_out x W_out) holds cell (i, j) of *every* window at once. So a pass is kh kw
whole-array operations, the same for stride 1 (overlapping windows), stride =
kernel (a tiling) and everything in between; the backward pass adds into the
same slices, so overlapping windows accumulate their gradients.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from dlbook._checks import as_float_array
from dlbook.layers.base import Layer
from dlbook.layers.im2col import as_pair

IntPair = int | tuple[int, int]


def pool_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """floor((size + 2 padding - kernel) / stride) + 1: windows that fit along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


class _Pool2d(Layer):
    """What max and average pooling share: arguments, output size, the windows.

    Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out).
    """

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None,
                 padding: IntPair = 0) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = as_pair(kernel_size, name, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else as_pair(stride, name, "stride", 1)
        self.padding = as_pair(padding, name, "padding", 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name} expected padding at most half of kernel_size (as PyTorch "
                             f"requires); got padding={self.padding} with "
                             f"kernel_size={self.kernel_size}")
        self._x_shape: tuple[int, ...] | None = None

    def output_shape(self, x_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """(N, C, H, W) -> (N, C, H_out, W_out), with the floor of the module docstring."""
        N, C, H, W = x_shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return N, C, pool_output_size(H, kh, sh, ph), pool_output_size(W, kw, sw, pw)

    def _check_input(self, x) -> np.ndarray:
        where = f"{type(self).__name__}.forward"
        x = as_float_array(x, where)
        if x.ndim != 4:
            raise ValueError(f"{where} expected x of shape (N, C, H, W); got shape {x.shape}")
        padded = tuple(s + 2 * p for s, p in zip(x.shape[2:], self.padding))
        if any(n < k for n, k in zip(padded, self.kernel_size)):
            raise ValueError(f"{where} expected the padded input (H + 2 padding, W + 2 padding) "
                             f"to be at least kernel_size {self.kernel_size}; got {padded} "
                             f"for x of shape {x.shape} and padding {self.padding}")
        return x

    def _pad(self, x: np.ndarray, fill: float) -> np.ndarray:
        """(N, C, H, W) -> (N, C, H + 2 ph, W + 2 pw), the border filled with ``fill``."""
        (ph, pw) = self.padding
        if not (ph or pw):
            return x
        return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)

    def _offsets(self, H_out: int, W_out: int) -> Iterator[tuple[int, tuple[slice, ...]]]:
        """For each offset (i, j) in the window: (i kw + j, the slices of the padded input
        that hold cell (i, j) of every window), the slice being (N, C, H_out, W_out)."""
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        for i in range(kh):
            for j in range(kw):
                rows, cols = slice(i, i + sh * H_out, sh), slice(j, j + sw * W_out, sw)
                yield i * kw + j, (slice(None), slice(None), rows, cols)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding})")


class MaxPool2d(_Pool2d):
    """y[n, c, i, j] = max of x[n, c] over the window at (i stride_h - pad_h, j stride_w - pad_w).

    Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out), H_out = floor((H + 2 pad - kh) / sh) + 1.
    Padding is implicit -inf, so a padded cell never wins. Backward (chapter 10)
    routes each dout entry to the input cell that held its window's maximum and
    adds up where overlapping windows (stride < kernel) share that cell; every
    other cell gets 0.

    Ties: the *first* maximum in row-major window order wins (a later cell
    must be strictly greater), as in PyTorch's kernels, so only that cell
    receives the gradient. A NaN in a window wins, so the output is NaN, also
    as in PyTorch.

    After ``forward``, ``indices`` (N, C, H_out, W_out, int64) holds the flat
    index h * W + w of each maximum in its unpadded (H, W) plane, exactly what
    ``torch.nn.functional.max_pool2d(..., return_indices=True)`` returns;
    max-unpooling (chapter 19) scatters values back through it. With
    ``return_indices=True`` forward returns ``(y, indices)`` as in PyTorch
    (backward still takes the gradient of y alone).
    """

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None,
                 padding: IntPair = 0, return_indices: bool = False) -> None:
        super().__init__(kernel_size, stride, padding)
        if not isinstance(return_indices, (bool, np.bool_)):
            raise TypeError(f"MaxPool2d expected return_indices to be a bool; "
                            f"got {return_indices!r}")
        self.return_indices = bool(return_indices)
        self.indices: np.ndarray | None = None
        self._dtype = None

    def forward(self, x: np.ndarray) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Window maxima; caches the argmax of each window. (N, C, H, W) -> (N, C, H_out, W_out),
        or ``(y, indices)`` with ``return_indices=True``."""
        x = self._check_input(x)
        out_shape = self.output_shape(x.shape)
        xp = self._pad(x, -np.inf)  # a padded cell never wins
        y = np.full(out_shape, -np.inf, dtype=x.dtype)
        arg = np.broadcast_to(self._first_real_cell(*out_shape[2:]), out_shape).copy()
        for k, cells in self._offsets(*out_shape[2:]):  # arg: position i kw + j of the max
            better = (xp[cells] > y) | np.isnan(xp[cells])  # strictly greater: first max stays
            np.copyto(y, xp[cells], where=better)
            np.copyto(arg, k, where=better)
        self.indices = self._plane_indices(arg, x.shape[3])
        self._x_shape, self._dtype = x.shape, x.dtype
        return (y, self.indices) if self.return_indices else y

    def _first_real_cell(self, H_out: int, W_out: int) -> np.ndarray:
        """(H_out, W_out): position i kw + j of each window's first unpadded cell, the argmax
        a window of -inf values reports (PyTorch's choice too)."""
        (_, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        i0 = np.maximum(ph - np.arange(H_out) * sh, 0)  # rows of padding above the window's data
        j0 = np.maximum(pw - np.arange(W_out) * sw, 0)
        return i0[:, None] * kw + j0

    def _plane_indices(self, arg: np.ndarray, W: int) -> np.ndarray:
        """Position inside each window -> flat index h * W + w in the unpadded input plane."""
        (_, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        H_out, W_out = arg.shape[2:]
        dh, dw = np.divmod(arg, kw)  # row and column inside the window
        h = (np.arange(H_out) * sh - ph)[:, None] + dh  # window's top row + offset
        w = np.arange(W_out) * sw - pw + dw  # window's left column + offset
        return (h * W + w).astype(np.int64, copy=False)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx[n, c, h, w] = sum of dout over the windows whose maximum sits at (h, w)."""
        shape = self._cached(self._x_shape)
        dout = self._check_dout(dout, self.indices.shape)
        N, C, H, W = shape
        plane_start = np.arange(N * C).reshape(N, C, 1, 1) * (H * W)  # offset of each (n, c)
        flat = (plane_start + self.indices).ravel()  # index into x.ravel()
        # bincount adds every weight that lands on the same index: the scatter-add
        # np.add.at(dx.ravel(), flat, dout.ravel()) would do, in one vectorised call
        dx = np.bincount(flat, weights=dout.ravel(), minlength=N * C * H * W)
        return dx.reshape(shape).astype(np.result_type(self._dtype, dout.dtype), copy=False)


class AvgPool2d(_Pool2d):
    """y[n, c, i, j] = (1 / (kh kw)) * sum of x[n, c] over the window at (i sh - ph, j sw - pw).

    Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out), H_out = floor((H + 2 pad - kh) / sh) + 1.
    Padding is zeros and counts in the divisor, which is always kh kw
    (PyTorch's default ``count_include_pad=True``). Backward (chapter 10): every
    cell of a window receives dout / (kh kw); overlapping windows add up.
    """

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None,
                 padding: IntPair = 0) -> None:
        super().__init__(kernel_size, stride, padding)
        self._dtype = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Window means. (N, C, H, W) -> (N, C, H_out, W_out)."""
        x = self._check_input(x)
        out_shape = self.output_shape(x.shape)
        xp = self._pad(x, 0.0)
        total = np.zeros(out_shape, dtype=x.dtype)
        for _, cells in self._offsets(*out_shape[2:]):  # add cell (i, j) of every window
            total += xp[cells]
        self._x_shape, self._dtype = x.shape, x.dtype
        return total / (self.kernel_size[0] * self.kernel_size[1])

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx[n, c, h, w] = sum over the windows covering (h, w) of dout / (kh kw)."""
        shape = self._cached(self._x_shape)
        N, C, H, W = shape
        dout = self._check_dout(dout, self.output_shape(shape))
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        share = dout / (kh * kw)  # what each cell of a window receives
        dtype = np.result_type(self._dtype, share.dtype)
        dx_padded = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dtype)
        for _, cells in self._offsets(*dout.shape[2:]):  # overlapping windows add up here
            dx_padded[cells] += share
        return np.ascontiguousarray(dx_padded[:, :, ph:ph + H, pw:pw + W])  # drop the padding
