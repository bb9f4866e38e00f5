"""Convolution the way the definition reads: a loop over output positions (chapter 9).

The teaching version. For every output pixel (r, q) it cuts the window
``xp[:, :, r s_h : r s_h + kh, q s_w : q s_w + kw]`` out of the padded input and
takes its dot product with every filter, for the whole batch at once. The
backward pass walks the same windows: each output pixel's gradient adds
``window * dout`` into dW and ``W * dout`` back into the window of dx, so
pixels shared by overlapping windows collect several contributions.

It runs H_out W_out small products instead of one big GEMM, so it is slow;
:mod:`dlbook.layers.conv` computes the same numbers with im2col, and the
tests check that the two agree to rounding error.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array
from dlbook.layers.conv import check_conv_input
from dlbook.layers.im2col import IntOrPair, as_pair, conv_output_size


def _setup(x, W, stride, padding, where: str):
    """Checked x and W, the (stride, padding) pairs and the zero-padded input (N, C, Hp, Wp)."""
    W = as_float_array(W, where, "W")
    if W.ndim != 4:
        raise ValueError(f"{where} expected W of shape (F, C, kh, kw); got shape {W.shape}")
    stride, padding = as_pair(stride, where, "stride", 1), as_pair(padding, where, "padding", 0)
    x = check_conv_input(x, W, padding, (1, 1), where)
    ph, pw = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (N, C, H + 2 ph, W + 2 pw)
    return x, W, stride, padding, xp


def _windows(x_shape, W_shape, stride, padding):
    """Yield (r, q, rows, cols): each output pixel and the slices of its input window."""
    _, _, H, Wd = x_shape
    _, _, kh, kw = W_shape
    H_out = conv_output_size(H, kh, stride[0], padding[0])
    W_out = conv_output_size(Wd, kw, stride[1], padding[1])
    for r in range(H_out):
        for q in range(W_out):
            top, left = r * stride[0], q * stride[1]
            yield r, q, slice(top, top + kh), slice(left, left + kw)


def conv2d_naive(x: np.ndarray, W: np.ndarray, b: np.ndarray | None = None,
                 stride: IntOrPair = 1, padding: IntOrPair = 0) -> np.ndarray:
    """y[n, f, r, q] = b[f] + sum_{c, i, j} W[f, c, i, j] xp[n, c, r s_h + i, q s_w + j].

    Shapes: x (N, C, H, W), W (F, C, kh, kw), b (F,) or None ->
    y (N, F, H_out, W_out), H_out = floor((H + 2 p_h - kh) / s_h) + 1, W_out alike.
    """
    x, W, stride, padding, xp = _setup(x, W, stride, padding, "conv2d_naive")
    N, F = x.shape[0], W.shape[0]
    H_out = conv_output_size(x.shape[2], W.shape[2], stride[0], padding[0])
    W_out = conv_output_size(x.shape[3], W.shape[3], stride[1], padding[1])
    W_flat = W.reshape(F, -1)  # (F, C kh kw): one filter per row
    y = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, W))
    for r, q, rows, cols in _windows(x.shape, W.shape, stride, padding):
        window = xp[:, :, rows, cols].reshape(N, -1)  # (N, C, kh, kw) -> (N, C kh kw)
        y[:, :, r, q] = window @ W_flat.T  # (N, F): every filter on this window
    if b is not None:
        y += as_float_array(b, "conv2d_naive", "b").reshape(1, F, 1, 1)
    return y


def conv2d_naive_backward(dout: np.ndarray, x: np.ndarray, W: np.ndarray,
                          stride: IntOrPair = 1, padding: IntOrPair = 0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dW, db): each window adds W dout[., ., r, q] to dx and window^T dout to dW.

    Shapes: dout (N, F, H_out, W_out), x (N, C, H, W), W (F, C, kh, kw) ->
    dx (N, C, H, W), dW (F, C, kh, kw), db (F,) = dout summed over n, r, q.
    """
    x, W, stride, padding, xp = _setup(x, W, stride, padding, "conv2d_naive_backward")
    dout = as_float_array(dout, "conv2d_naive_backward", "dout")
    N, F = x.shape[0], W.shape[0]
    expected = (N, F, conv_output_size(x.shape[2], W.shape[2], stride[0], padding[0]),
                conv_output_size(x.shape[3], W.shape[3], stride[1], padding[1]))
    if dout.shape != expected:
        raise ValueError(f"conv2d_naive_backward expected dout of shape {expected} (the output "
                         f"shape); got shape {dout.shape}")
    W_flat = W.reshape(F, -1)  # (F, C kh kw)
    dxp = np.zeros_like(xp, dtype=np.result_type(xp, W, dout))  # (N, C, Hp, Wp)
    dW_flat = np.zeros(W_flat.shape, dtype=dxp.dtype)
    for r, q, rows, cols in _windows(x.shape, W.shape, stride, padding):
        g = dout[:, :, r, q]  # (N, F): the gradient of this output pixel
        window = xp[:, :, rows, cols].reshape(N, -1)  # (N, C kh kw)
        dW_flat += g.T @ window  # (F, N) @ (N, C kh kw)
        dxp[:, :, rows, cols] += (g @ W_flat).reshape(N, *W.shape[1:])  # (N, C, kh, kw)
    ph, pw = padding
    dx = dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]  # drop the padding's gradient
    return dx, dW_flat.reshape(W.shape), dout.sum(axis=(0, 2, 3))
