"""Transposed convolution: the adjoint of a convolution, used to upsample with learned weights (chapter 19).

A convolution with weights W (F, C, kh, kw), stride s and padding p is a
linear map x -> y = K x from (C, H, W) images to (F, H', W') maps; K is a big,
sparse matrix. Its *transpose* K^T maps (F, H', W') back to (C, H, W): every
input pixel of the transposed convolution spreads a kh x kw stamp of W into
the output, stamps placed s pixels apart and overlapping where s < k,

    y[n, c, r s - p + i, q s - p + j] += sum_f x[n, f, r, q] W[f, c, i, j].

That is exactly what the convolution's backward pass does to dout to get dx
(chapter 9): dx = K^T dout. So a transposed convolution is "the gradient of a
convolution with respect to its input", and it is computed by the same two
steps, here reused from :mod:`dlbook.layers.im2col`: one GEMM, x W_col^T,
gives every stamp, and :func:`~dlbook.layers.im2col.col2im` adds the stamps
into the output. Its own backward pass is then the forward convolution:
dx = K dout = conv2d(dout, W), and dW is the convolution's weight gradient
with the roles of input and upstream gradient swapped (see
:class:`ConvTranspose2d`). The output size inverts the convolution's formula,

    H_out = (H - 1) s - 2 p + d (k - 1) + 1 + output_padding,

where ``output_padding`` (< s) picks one of the s sizes that a stride-s
convolution maps to the same H; the extra rows only receive the bias.
"""

from __future__ import annotations

import math

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.init import normal_
from dlbook.layers.base import Layer
from dlbook.layers.conv import conv2d_backward, conv2d_forward
from dlbook.layers.im2col import IntOrPair, Pair, as_pair, col2im
from dlbook.utils import make_rng


def conv_transpose_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """(size - 1) stride - 2 padding + dilation (kernel_size - 1) + 1 + output_padding.

    Shapes: one axis (ints in, int out). A convolution with the same settings
    maps this size back to ``size`` (chapter 19).
    """
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + 1 + output_padding


def conv_transpose2d(x: np.ndarray, W: np.ndarray, b: np.ndarray | None = None,
                     stride: Pair = (1, 1), padding: Pair = (0, 0), output_padding: Pair = (0, 0),
                     dilation: Pair = (1, 1)) -> np.ndarray:
    """y = col2im(x W_col^T) + b: the input gradient of conv2d(., W), applied to x.

    Shapes: x (N, C_in, H, W), W (C_in, C_out, kh, kw) (the convolution's
    (F, C, kh, kw) with F = C_in), b (C_out,) or None -> y (N, C_out, H_out, W_out)
    with H_out from :func:`conv_transpose_output_size`. x must already be checked.
    """
    N, C_in, H, Wd = x.shape
    _, C_out, kh, kw = W.shape
    dtype = np.result_type(x, W)
    H_out, W_out = (conv_transpose_output_size(n, k, s, p, o, d) for n, k, s, p, o, d in
                    zip((H, Wd), (kh, kw), stride, padding, output_padding, dilation))
    (ph, pw) = padding
    x2 = x.transpose(0, 2, 3, 1).reshape(-1, C_in).astype(dtype, copy=False)  # (M, C_in), M = N H W
    W_taps = np.ascontiguousarray(W.transpose(2, 3, 0, 1), dtype=dtype)  # (kh, kw, C_in, C_out)
    stamps = np.matmul(x2, W_taps)  # (M, C_in) @ (kh, kw, C_in, C_out) -> (kh, kw, M, C_out)
    stamps = stamps.reshape(kh, kw, N, H, Wd, C_out)  # one block per kernel offset (i, j)
    yp = col2im(stamps, (H_out + 2 * ph, W_out + 2 * pw), stride, dilation)  # (N, Hp, Wp, C_out)
    y = yp[:, ph:ph + H_out, pw:pw + W_out, :]  # crop the padding: (N, H_out, W_out, C_out)
    if b is not None:
        y = y + b  # broadcasts over the last (channel) axis
    return y.transpose(0, 3, 1, 2)  # (N, C_out, H_out, W_out), a view of channels-last memory


class ConvTranspose2d(Layer):
    """y = K^T x + b, K the matrix of conv2d(., W, stride, padding): a learned upsampling.

    Shapes: x (N, C_in, H, W) -> y (N, C_out, H_out, W_out) with
    H_out = (H - 1) s_h - 2 p_h + d_h (kh - 1) + 1 + output_padding_h (W_out
    likewise). Parameters: ``W`` (C_in, C_out, kh, kw), the layout of
    ``torch.nn.ConvTranspose2d.weight``, and ``b`` (C_out,) = 0. ``W`` is drawn
    from N(0, 2 / fan) with fan = C_in kh kw / (s_h s_w), the average number of
    products summed into one output pixel (He initialisation, chapter 8).
    ``output_padding`` must be smaller than ``stride`` (PyTorch also allows
    values below ``dilation``; this layer does not).

    Backward (chapter 19): with the convolution y_c = conv2d(dout, W) of dout,
    dx = y_c, dW[f, c, i, j] = sum_{n, r, q} x[n, f, r, q] doutp[n, c, r s + i d, q s + j d]
    (the convolution's weight gradient with x as its upstream gradient) and
    db = the sum of dout over n and the pixels.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrPair,
                 stride: IntOrPair = 1, padding: IntOrPair = 0, output_padding: IntOrPair = 0,
                 bias: bool = True, dilation: IntOrPair = 1,
                 rng: int | np.random.Generator | None = None, dtype=np.float32) -> None:
        super().__init__()
        where = "ConvTranspose2d"
        self.in_channels = check_positive_int(in_channels, where, "in_channels")
        self.out_channels = check_positive_int(out_channels, where, "out_channels")
        self.kernel_size = as_pair(kernel_size, where, "kernel_size", 1)
        self.stride = as_pair(stride, where, "stride", 1)
        self.padding = as_pair(padding, where, "padding", 0)
        self.output_padding = as_pair(output_padding, where, "output_padding", 0)
        self.dilation = as_pair(dilation, where, "dilation", 1)
        if any(o >= s for o, s in zip(self.output_padding, self.stride)):
            raise ValueError(f"{where} expected output_padding smaller than stride {self.stride}; "
                             f"got output_padding={self.output_padding}")
        kh, kw = self.kernel_size
        fan = self.in_channels * kh * kw / (self.stride[0] * self.stride[1])
        shape = (self.in_channels, self.out_channels, kh, kw)
        self.add_param("W", normal_(shape, std=math.sqrt(2.0 / fan), rng=make_rng(rng, where),
                                    dtype=dtype))
        if bias:
            self.add_param("b", np.zeros(self.out_channels, dtype=dtype))
        self._x: np.ndarray | None = None
        self._out_shape: tuple[int, ...] | None = None

    def output_shape(self, x_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """(N, C_in, H, W) -> (N, C_out, H_out, W_out) by the size formula of the docstring."""
        N, _, H, W = x_shape
        size = [conv_transpose_output_size(n, k, s, p, o, d) for n, k, s, p, o, d in
                zip((H, W), self.kernel_size, self.stride, self.padding, self.output_padding,
                    self.dilation)]
        return N, self.out_channels, size[0], size[1]

    def _check_input(self, x) -> np.ndarray:
        where = "ConvTranspose2d.forward"
        x = as_float_array(x, where)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{where} expected x of shape (N, {self.in_channels}, H, W) "
                             f"(in_channels = {self.in_channels}); got shape {x.shape}")
        out = self.output_shape(x.shape)
        if out[2] < 1 or out[3] < 1:
            raise ValueError(f"{where}: padding {self.padding} leaves no output for x of shape "
                             f"{x.shape} (output size {out[2]} x {out[3]})")
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = col2im(x W_col^T) + b. Shapes: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
        x = self._check_input(x)
        y = conv_transpose2d(x, self.params["W"], self.params.get("b"), self.stride,
                             self.padding, self.output_padding, self.dilation)
        self._x, self._out_shape = x, y.shape
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = conv2d(dout, W); adds dW and db to grads. (N, C_out, H_out, W_out) -> (N, C_in, H, W)."""
        x = self._cached(self._x)
        dout = self._check_dout(dout, self._out_shape)
        W = self.params["W"]
        # the convolution whose input gradient the forward pass computed, run forward on dout
        dx, cache = conv2d_forward(dout, W, None, self.stride, self.padding, self.dilation)
        # its weight gradient, with x in the role of the convolution's upstream gradient
        _, dW, _ = conv2d_backward(x, cache, W, input_grad=False)
        self.grads["W"] += dW
        if "b" in self.grads:
            self.grads["b"] += dout.sum(axis=(0, 2, 3))
        return dx

    def __repr__(self) -> str:
        return (f"ConvTranspose2d({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"output_padding={self.output_padding}, bias={'b' in self.params})")

