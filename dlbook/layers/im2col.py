"""im2col and col2im: a convolution as one matrix product, on channels-last images (chapter 9).

A convolution takes, for every output pixel, the dot product of one kh x kw x C
patch of the (padded) input with every filter. **im2col** copies each patch
into one row of a matrix ``col``; the whole convolution is then a single GEMM,
``col @ W_col``, which BLAS runs near the machine's peak. **col2im** is its
adjoint, used by the backward pass: it adds every row of a gradient
``dcol`` back onto the pixels its patch came from; overlapping patches add up.

Both work on *channels-last* images (N, H, W, C), with C innermost in memory.
Then the kw x C values of one patch row sit next to each other, so im2col
copies contiguous runs (kw C numbers at a time) instead of single numbers,
whatever the stride; channels-first (N, C, H, W) memory would give runs of one
number for a strided convolution. The windows themselves come for free:
``numpy.lib.stride_tricks.sliding_window_view`` returns all of them as a view
(no copy), and one ``np.copyto`` into a reusable buffer materialises ``col``.

col2im never loops over output pixels. For each of the kh kw offsets (i, j)
inside a kernel, the input pixels that offset touches form one strided slice
of the padded image, ``xp[:, i d::s, j d::s]`` cut to H_out x W_out, so
col2im is kh kw whole-array additions of contiguous gradient blocks.

The output size along an axis of length n needs a floor, because a window
that would stick out past the padded input is simply not used:

    n_out = floor((n + 2 padding - dilation (k - 1) - 1) / stride) + 1.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Pair = tuple[int, int]
IntOrPair = int | tuple[int, int]
FEW_CHANNELS = 4
"""Up to this many channels (grey or RGB(A) images), padded inputs and patches stay planar."""


def as_pair(value: IntOrPair, where: str, name: str, minimum: int) -> Pair:
    """An int or a pair of ints -> (height, width), each at least ``minimum``.

    Shapes: none. ``TypeError`` for non-integers, ``ValueError`` for values
    below ``minimum`` or sequences that are not pairs (chapter 9).
    """
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2:
        raise ValueError(f"{where} expected {name} to be an int or a pair of ints; got {value!r}")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"{where} expected {name} to be an int or a pair of ints; "
                            f"got {value!r}")
    if min(items) < minimum:
        raise ValueError(f"{where} expected {name} >= {minimum}; got {value!r}")
    return int(items[0]), int(items[1])


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    """floor((size + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1.

    Shapes: one axis (ints in, int out). The number of window positions that
    fit in the padded input; below 1 means the kernel does not fit (chapter 9).
    """
    span = dilation * (kernel_size - 1) + 1  # pixels one (dilated) kernel covers
    return (size + 2 * padding - span) // stride + 1


def pad_channels_last(x: np.ndarray, padding: Pair) -> np.ndarray:
    """Zero-pad H and W and index the result channels last: one copy.

    Shapes: x (N, C, H, W) -> xp (N, H + 2 ph, W + 2 pw, C). The memory is
    channels-last, except for inputs of at most ``FEW_CHANNELS`` channels
    (grey or RGB images), whose padded copy keeps NCHW memory: xp is then a
    transposed view, and im2col reads each plane in rows of W numbers instead
    of runs of C. Without padding an input that is already channels-last in
    memory comes back as a view.
    """
    N, C, H, W = x.shape
    ph, pw = padding
    x_nhwc = x.transpose(0, 2, 3, 1)  # (N, H, W, C), a view
    if ph == pw == 0 and x_nhwc.flags.c_contiguous:
        return x_nhwc
    if C <= FEW_CHANNELS:  # planar (N, C, Hp, Wp) memory, indexed (N, Hp, Wp, C)
        xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
        xp[:, :, ph:ph + H, pw:pw + W] = x
        return xp.transpose(0, 2, 3, 1)
    xp = np.zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=x.dtype)
    xp[:, ph:ph + H, pw:pw + W, :] = x_nhwc
    return xp


def im2col(xp: np.ndarray, kernel_size: Pair, stride: Pair = (1, 1), dilation: Pair = (1, 1),
           out: np.ndarray | None = None) -> np.ndarray:
    """col[n, y, x, i, j, c] = xp[n, y s_h + i d_h, x s_w + j d_w, c]: every patch, copied once.

    Shapes: xp (N, Hp, Wp, C) padded channels-last image -> col (N, H_out,
    W_out, kh, kw, C); ``col.reshape(N H_out W_out, kh kw C)`` has one patch
    per row. ``out`` (that shape and dtype) is filled and returned if given.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)  # window extent with dilation
    windows = sliding_window_view(xp, span, axis=(1, 2))  # (N, Hp-span+1, Wp-span+1, C, *span)
    windows = windows[:, ::sh, ::sw, :, ::dh, ::dw]  # (N, H_out, W_out, C, kh, kw), still a view
    windows = windows.transpose(0, 1, 2, 4, 5, 3)  # (N, H_out, W_out, kh, kw, C): C innermost
    col = np.empty(windows.shape, dtype=xp.dtype) if out is None else out
    np.copyto(col, windows)  # the one copy: runs of kw C contiguous numbers when d_w = 1
    return col


def col2im(dcol: np.ndarray, padded_hw: Pair, stride: Pair = (1, 1), dilation: Pair = (1, 1),
           out: np.ndarray | None = None) -> np.ndarray:
    """dxp[n, y s_h + i d_h, x s_w + j d_w, c] += dcol[i, j, n, y, x, c]: the adjoint of im2col.

    Shapes: dcol (kh, kw, N, H_out, W_out, C), one gradient block per kernel
    offset (i, j) -> dxp (N, Hp, Wp, C), padded and channels-last: a new
    array, or ``out`` with the sums *added* to it. Offset (i, j) touches the
    strided slice ``dxp[:, i d_h::s_h, j d_w::s_w]`` (H_out x W_out pixels), so
    this is kh kw slice additions of contiguous blocks; pixels under several
    windows collect every contribution.
    """
    kh, kw, N, H_out, W_out, C = dcol.shape
    (sh, sw), (dh, dw) = stride, dilation
    dxp = np.zeros((N, *padded_hw, C), dtype=dcol.dtype) if out is None else out
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (H_out - 1) + 1, sh)  # H_out rows, s_h apart
        for j in range(kw):
            cols = slice(j * dw, j * dw + sw * (W_out - 1) + 1, sw)  # W_out columns
            dxp[:, rows, cols, :] += dcol[i, j]
    return dxp
