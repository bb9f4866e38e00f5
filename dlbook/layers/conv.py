"""The 2-D convolution layer, forward and backward as GEMMs over im2col patches (chapter 9).

Deep-learning "convolution" is cross-correlation: filter f slides over the
padded input without being flipped,

    y[n, f, r, q] = b[f] + sum_{c, i, j} W[f, c, i, j] xp[n, c, r s_h + i d_h, q s_w + j d_w],

with H_out = floor((H + 2 p_h - d_h (kh - 1) - 1) / s_h) + 1 (the floor drops
windows that would stick out; the same for W_out). With the patches as the
rows of ``col`` (M, K), M = N H_out W_out and K = kh kw C
(:func:`dlbook.layers.im2col.im2col`) and the filters as the columns of
``W_col`` (K, F), the forward pass is one GEMM, ``col @ W_col``. The backward
pass is three more products (chapter 9 derives them):

    dW_col = col^T dout,   db = sum of dout over n, r, q,   dcol = dout W_col^T,

and dx = col2im(dcol), which adds every patch gradient back onto its pixels.

Speed (``benchmarks/bench_conv.py`` times it against PyTorch). The numbers
live channels-last (N, H, W, C) inside the layer, so a patch row is
contiguous and the GEMM directly yields (N, H_out, W_out, F) memory; that is
returned as a transposed *view* with the NCHW shape (N, F, H_out, W_out), like
a ``torch.channels_last`` tensor: no copy, and a following Conv2d reads it
back without one. The patches live in a buffer reused across calls, with one
extra column of 1s, so the bias is just one more row of ``W_col``: the forward
GEMM adds it and the dW GEMM returns db, which saves two passes over the
output. A grey or RGB input (at most ``FEW_CHANNELS`` channels) is the
exception to channels-last: runs of C numbers would be too short, so its
padded copy stays planar and the patch matrix is stored column by column, each
column a shifted copy of one plane; BLAS reads such a column-major matrix
without a copy. A first layer (``input_grad=False``) sums dW image by image:
N small GEMMs beat one whose inner dimension is all M pixels. An NCHW-ordered
dout is transposed once, or not at all for such a first layer. dcol comes out
of kh kw GEMMs, one contiguous block per kernel offset, which col2im adds with
strided slices. float32 (the default) halves the memory traffic of float64.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.init import kaiming_normal
from dlbook.layers.base import Layer
from dlbook.layers.im2col import (FEW_CHANNELS, IntOrPair, Pair, as_pair, col2im,
                                  conv_output_size, im2col, pad_channels_last)


class ConvCache(NamedTuple):
    """What the backward pass needs: the patches and the geometry of the forward call."""

    patches: np.ndarray  # (N, H_out, W_out, K [+ 1]): one patch per pixel, then a 1 if biased
    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    stride: Pair
    padding: Pair
    dilation: Pair


def check_conv_input(x, W: np.ndarray, padding: Pair, dilation: Pair, where: str) -> np.ndarray:
    """x as a float array of shape (N, C, H, W) that the kernel of W (F, C, kh, kw) fits.

    Shapes: x (N, C, H, W), W (F, C, kh, kw). Raises ``ValueError`` naming
    ``where`` for a wrong rank, a channel mismatch or a kernel larger than the
    padded input (chapter 9).
    """
    x = as_float_array(x, where)
    C, kh, kw = W.shape[1:]
    if x.ndim != 4:
        raise ValueError(f"{where} expected x of shape (N, C, H, W) with C = {C}; "
                         f"got shape {x.shape}")
    if x.shape[1] != C:
        raise ValueError(f"{where} expected x with C = {C} channels (in_channels); "
                         f"got {x.shape[1]} channels in x of shape {x.shape}")
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    padded = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(f"{where}: the kernel spans {span[0]} x {span[1]} pixels but the padded "
                         f"input is only {padded[0]} x {padded[1]} (H + 2 padding, "
                         f"W + 2 padding); got x of shape {x.shape}")
    return x


def _patch_buffer(old: np.ndarray | None, shape: tuple[int, ...], dtype, planar: bool
                  ) -> np.ndarray:
    """``old`` if it fits, else a new buffer of ones (its last column is the bias input 1).

    Shapes: (N, H_out, W_out, K1). ``planar`` buffers keep each of the K1
    patch columns contiguous (memory (K1, N, H_out, W_out), a transposed
    view); the others keep each patch row contiguous.
    """
    if (old is not None and old.shape == shape and old.dtype == dtype
            and old.flags.c_contiguous != planar):
        return old  # im2col never writes the last column, so it is still 1
    if planar:
        return np.ones((shape[-1], *shape[:-1]), dtype=dtype).transpose(1, 2, 3, 0)
    return np.ones(shape, dtype=dtype)


def conv2d_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray | None = None,
                   stride: Pair = (1, 1), padding: Pair = (0, 0), dilation: Pair = (1, 1),
                   buffer: np.ndarray | None = None) -> tuple[np.ndarray, ConvCache]:
    """y = [col, 1] [W_col; b]: the bias rides along in the GEMM as the weight of a constant 1.

    Shapes: x (N, C, H, W), W (F, C, kh, kw), b (F,) or None ->
    y (N, F, H_out, W_out), an NCHW view of channels-last memory, and the
    cache for :func:`conv2d_backward`. x must already be checked
    (:func:`check_conv_input`). ``buffer`` (a previous cache's ``patches``) is
    reused when its shape and dtype fit.
    """
    N, _, H, Wd = x.shape
    F, C, kh, kw = W.shape
    K, dtype = kh * kw * C, np.result_type(x, W)  # patch length; compute in the wider dtype
    H_out = conv_output_size(H, kh, stride[0], padding[0], dilation[0])
    W_out = conv_output_size(Wd, kw, stride[1], padding[1], dilation[1])
    planar = C <= FEW_CHANNELS  # grey or RGB input: patch columns contiguous, like its planes
    patches = _patch_buffer(buffer, (N, H_out, W_out, K + (b is not None)), dtype, planar)
    xp = pad_channels_last(x.astype(dtype, copy=False), padding)  # (N, Hp, Wp, C), planar too
    col = patches[..., :K].reshape(N, H_out, W_out, kh, kw, C)  # a view: splits the last axis
    im2col(xp, (kh, kw), stride, dilation, out=col)  # fills patches[..., :K]
    W_col = np.empty((patches.shape[-1], F), dtype=dtype)  # (K [+ 1], F)
    W_col[:K] = W.transpose(2, 3, 1, 0).reshape(K, F)  # rows ordered (i, j, c) like a patch
    if b is not None:
        W_col[K] = b  # multiplies the patches' constant 1
    y = patches.reshape(-1, len(W_col)) @ W_col  # (M, K [+ 1]) @ (K [+ 1], F) -> (M, F);
    # BLAS reads a planar (column-major) patch matrix as it is, without a copy
    y = y.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)  # (N, F, H_out, W_out), a view
    return y, ConvCache(patches, x.shape, stride, padding, dilation)


def conv2d_backward(dout: np.ndarray, cache: ConvCache, W: np.ndarray, input_grad: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """(dx, dW, db) = (col2im(dout W_col^T), col^T dout, sum of dout): GEMMs and col2im.

    Shapes: dout (N, F, H_out, W_out), W (F, C, kh, kw) -> dx (N, C, H, W)
    (an NCHW view of channels-last memory; None when ``input_grad`` is False),
    dW (F, C, kh, kw), db (F,) (None without a bias). ``dout`` is only read;
    any memory layout works, and the channels-last one of the forward output
    (which elementwise layers such as ReLU keep) needs no copy.
    """
    F, C, kh, kw = W.shape
    K, patches = kh * kw * C, cache.patches
    N, K1 = len(dout), patches.shape[-1]  # K1 = K + 1 with a bias, else K
    P, d2 = dout.shape[2] * dout.shape[3], None
    if not input_grad:  # a first layer: N small (K1, P) @ (P, F) GEMMs, faster than one long one
        patches3 = patches.reshape(N, P, K1)
        if dout.flags.c_contiguous:  # NCHW memory: per image (F, P) @ (P, K1), transposed
            grad = np.matmul(dout.reshape(N, F, P), patches3).sum(axis=0).T
        else:  # channels-last memory (or another layout, copied once)
            d3 = dout.transpose(0, 2, 3, 1).reshape(N, P, F)
            grad = np.matmul(patches3.transpose(0, 2, 1), d3).sum(axis=0)
    else:  # one GEMM over all N P pixels, on channels-last dout (transposed once if need be)
        d2 = dout.transpose(0, 2, 3, 1).reshape(-1, F)  # (M, F); a copy unless channels-last
        grad = patches.reshape(-1, K1).T @ d2  # (K1, M) @ (M, F) -> (K1, F), shaped like W_col
    dW = grad[:K].reshape(kh, kw, C, F).transpose(3, 2, 0, 1)  # (K, F) -> (F, C, kh, kw)
    db = grad[K] if K1 > K else None  # the row of the patches' 1s: the sum of dout
    dx = _input_gradient(d2, cache, W) if input_grad else None
    return dx, dW, db


def _input_gradient(d2: np.ndarray, cache: ConvCache, W: np.ndarray) -> np.ndarray:
    """dx = col2im(dout W_col^T), with dcol computed one kernel offset at a time.

    Shapes: d2 (M, F) channels-last dout, W (F, C, kh, kw) -> dx (N, C, H, W).
    """
    F, C, kh, kw = W.shape
    N, _, H, Wd = cache.x_shape
    (ph, pw), (_, H_out, W_out) = cache.padding, cache.patches.shape[:3]
    W_taps = np.ascontiguousarray(W.transpose(2, 3, 0, 1))  # (kh, kw, F, C): (F, C) per offset
    dcol = np.matmul(d2, W_taps)  # (M, F) @ (kh, kw, F, C) -> (kh, kw, M, C): kh kw GEMMs
    dcol = dcol.reshape(kh, kw, N, H_out, W_out, C)  # one contiguous block per offset
    dxp = col2im(dcol, (H + 2 * ph, Wd + 2 * pw), cache.stride, cache.dilation)  # (N, Hp, Wp, C)
    return dxp[:, ph:ph + H, pw:pw + Wd, :].transpose(0, 3, 1, 2)  # (N, C, H, W), a view


class Conv2d(Layer):
    """y[n, f] = b[f] + sum_c corr(xp[n, c], W[f, c]): cross-correlation with stride s, dilation d.

    Shapes: x (N, C, H, W) -> y (N, F, H_out, W_out) with
    H_out = floor((H + 2 p_h - d_h (kh - 1) - 1) / s_h) + 1 (the floor drops
    windows that do not fit; W_out likewise). Parameters: ``W`` (F, C, kh, kw),
    the layout of ``torch.nn.Conv2d.weight``, drawn from N(0, 2 / (C kh kw))
    (He initialisation, chapter 8) with the explicit ``rng``; ``b`` (F,) = 0.
    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` take an int or
    an (h, w) pair, as in PyTorch. Chapter 9 derives the forward and backward
    passes; :mod:`dlbook.layers.conv_naive` is the loop version they are tested against.

    ``input_grad=False`` skips dx (backward returns None), for a first layer
    whose input is data. The output and dx are NCHW views of channels-last
    memory (``np.ascontiguousarray`` makes an NCHW copy if one is needed).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrPair,
                 stride: IntOrPair = 1, padding: IntOrPair = 0, dilation: IntOrPair = 1,
                 bias: bool = True, rng: int | np.random.Generator | None = None,
                 dtype=np.float32, input_grad: bool = True):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "Conv2d", "in_channels")
        self.out_channels = check_positive_int(out_channels, "Conv2d", "out_channels")
        self.kernel_size = as_pair(kernel_size, "Conv2d", "kernel_size", 1)
        self.stride = as_pair(stride, "Conv2d", "stride", 1)
        self.padding = as_pair(padding, "Conv2d", "padding", 0)
        self.dilation = as_pair(dilation, "Conv2d", "dilation", 1)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.add_param("W", kaiming_normal(shape, rng=rng, dtype=dtype))  # std sqrt(2 / fan_in)
        if bias:
            self.add_param("b", np.zeros(self.out_channels, dtype=dtype))
        self.input_grad = bool(input_grad)
        self._cache: ConvCache | None = None
        self._out_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = im2col(x) W_col + b. Shapes: (N, C, H, W) -> (N, F, H_out, W_out)."""
        W = self.params["W"]
        x = check_conv_input(x, W, self.padding, self.dilation, "Conv2d.forward")
        buffer = None if self._cache is None else self._cache.patches  # reused across calls
        y, self._cache = conv2d_forward(x, W, self.params.get("b"), self.stride, self.padding,
                                        self.dilation, buffer)
        self._out_shape = y.shape
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Adds dW and db to grads; returns dx. Shapes: (N, F, H_out, W_out) -> (N, C, H, W)."""
        cache = self._cached(self._cache)
        dout = self._check_dout(dout, self._out_shape)
        dx, dW, db = conv2d_backward(dout, cache, self.params["W"], self.input_grad)
        self.grads["W"] += dW
        if "b" in self.grads:
            self.grads["b"] += db
        return dx

    def __repr__(self) -> str:
        return (f"Conv2d({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, bias={'b' in self.params})")
