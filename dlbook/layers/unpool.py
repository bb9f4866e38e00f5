"""Max-unpooling: put every value back where its pooling window found the maximum (chapter 19).

Max-pooling keeps one number per window and forgets where in the window it
was. If the pooling layer records *where* (its ``indices``), an unpooling
layer can undo the placement: it builds a larger map of zeros and writes
each value at the recorded position,

    y[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j],    every other entry 0.

The map is sparse: the positions of the maxima are restored, the other
values of each window are not (they are lost for good). The backward pass
gathers dout at the same positions, dx[n, c, i, j] = dout[n, c].flat[indices[n, c, i, j]].

**Index format.** ``indices[n, c, i, j]`` is the flat position h * W_out + w
inside the (H_out, W_out) plane of *one* channel of the unpooled output,
which is the format of ``torch.nn.functional.max_pool2d(...,
return_indices=True)``. :class:`dlbook.layers.pool.MaxPool2d` already stores
``.indices`` in exactly this format (flat positions in the unpadded input
plane, per sample and channel), so its indices need no conversion:
``MaxUnpool2d(k, s, p)(pool(x), pool.indices, output_size=x.shape)`` works
as is, and :func:`check_pool_indices` validates a set of indices. Give
``output_size`` whenever the pooled input had rows or columns that no window
reached (floor in the output size), since the flat positions refer to the
original width W and the default output size would be smaller.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from dlbook._checks import as_float_array
from dlbook.layers.base import Layer
from dlbook.layers.im2col import IntOrPair, Pair, as_pair


def unpool_output_size(in_size: int, kernel: int, stride: int, padding: int) -> int:
    """(in_size - 1) stride - 2 padding + kernel: the largest input a pooling could come from.

    Shapes: one axis (ints in, int out); the inverse of the pooling size
    formula without its floor (chapter 19).
    """
    return (in_size - 1) * stride - 2 * padding + kernel


def check_pool_indices(indices, x_shape: tuple[int, ...], plane_size: int,
                       where: str = "check_pool_indices") -> np.ndarray:
    """indices as an int64 array of shape ``x_shape`` with every entry in [0, plane_size).

    Shapes: indices (N, C, H_in, W_in) -> the same, int64. Raises ``TypeError``
    for non-integer indices and ``ValueError`` for a wrong shape or an index
    outside the output plane (H_out W_out = ``plane_size`` entries), naming ``where``
    (chapter 19).
    """
    idx = np.asarray(indices)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{where} expected integer indices (the pooling layer's .indices); "
                        f"got dtype {idx.dtype}")
    if idx.shape != tuple(x_shape):
        raise ValueError(f"{where} expected indices of the shape of x, {tuple(x_shape)}; "
                         f"got shape {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= plane_size):
        raise ValueError(f"{where} expected indices in [0, {plane_size}) (positions in an output "
                         f"plane of {plane_size} entries); got values from {idx.min()} to "
                         f"{idx.max()}; pass output_size when the pooled input was larger")
    return idx.astype(np.int64, copy=False)


class MaxUnpool2d(Layer):
    """y[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j], zeros elsewhere: undo MaxPool2d's placement.

    Shapes: x (N, C, H_in, W_in), indices (N, C, H_in, W_in) int ->
    y (N, C, H_out, W_out) with H_out = (H_in - 1) s_h - 2 p_h + k_h by default
    (W_out likewise), or ``output_size`` = (H_out, W_out) or (N, C, H_out, W_out),
    which must lie strictly within one stride of that default, as in PyTorch.
    ``kernel_size``, ``stride`` (default: the kernel) and ``padding`` describe
    the pooling that produced ``indices``. No parameters.

    If two entries share an index (overlapping pooling windows can pick the
    same cell), the forward pass writes the later one, and the backward pass
    gathers dout for both, like PyTorch; with distinct indices both passes are
    exact. Chapter 19 explains it.
    """

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                 padding: IntOrPair = 0) -> None:
        super().__init__()
        self.kernel_size = as_pair(kernel_size, "MaxUnpool2d", "kernel_size", 1)
        self.stride = (self.kernel_size if stride is None
                       else as_pair(stride, "MaxUnpool2d", "stride", 1))
        self.padding = as_pair(padding, "MaxUnpool2d", "padding", 0)
        self._cache: tuple[np.ndarray, tuple[int, ...], tuple[int, ...]] | None = None
        self._dtype = None

    def output_hw(self, in_hw: Pair, output_size: Sequence[int] | None = None) -> Pair:
        """(H_out, W_out) for an input of size ``in_hw``: the default, or ``output_size`` checked."""
        default = tuple(unpool_output_size(n, k, s, p) for n, k, s, p in
                        zip(in_hw, self.kernel_size, self.stride, self.padding))
        if output_size is None:
            return default
        size = tuple(output_size)
        size = size[2:] if len(size) == 4 else size
        if len(size) != 2 or not all(isinstance(v, (int, np.integer)) for v in size):
            raise ValueError(f"MaxUnpool2d.forward expected output_size (H_out, W_out) or "
                             f"(N, C, H_out, W_out) of ints; got {output_size!r}")
        for n, d, s in zip(size, default, self.stride):
            if not d - s < n < d + s:
                raise ValueError(f"MaxUnpool2d.forward expected output_size within one stride "
                                 f"of the default {default} (exclusive, stride "
                                 f"{self.stride}); got {tuple(size)}")
        return int(size[0]), int(size[1])

    def forward(self, x: np.ndarray, indices: np.ndarray,
                output_size: Sequence[int] | None = None) -> np.ndarray:
        """Scatter x to the recorded positions. (N, C, H_in, W_in) -> (N, C, H_out, W_out)."""
        x = as_float_array(x, "MaxUnpool2d.forward")
        if x.ndim != 4:
            raise ValueError(f"MaxUnpool2d.forward expected x of shape (N, C, H, W); "
                             f"got shape {x.shape}")
        N, C = x.shape[:2]
        H_out, W_out = self.output_hw(x.shape[2:], output_size)
        idx = check_pool_indices(indices, x.shape, H_out * W_out, "MaxUnpool2d.forward")
        planes = np.arange(N * C)[:, None]  # (N C, 1): one row per (sample, channel) plane
        flat = idx.reshape(N * C, -1)  # (N C, H_in W_in) positions within each plane
        y = np.zeros((N * C, H_out * W_out), dtype=x.dtype)
        y[planes, flat] = x.reshape(N * C, -1)  # with repeated positions the last write stays
        self._cache, self._dtype = (flat, x.shape, (N, C, H_out, W_out)), x.dtype
        return y.reshape(N, C, H_out, W_out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = dout gathered at the recorded positions. (N, C, H_out, W_out) -> (N, C, H_in, W_in)."""
        flat, x_shape, y_shape = self._cached(self._cache)
        dout = self._check_dout(dout, y_shape)
        planes = np.arange(len(flat))[:, None]
        dx = dout.reshape(len(flat), -1)[planes, flat]  # (N C, H_in W_in), a new array
        return dx.reshape(x_shape).astype(np.result_type(self._dtype, dout.dtype), copy=False)

    def __repr__(self) -> str:
        return (f"MaxUnpool2d(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding})")
