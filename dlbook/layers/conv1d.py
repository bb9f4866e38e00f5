"""1-D convolution over sequences, e.g. embedded text: whole-row kernels (chapter 9).

Embed a sentence of L tokens as an (L, E) matrix, one row per token. A text
filter of width k covers k *whole rows*: it is a 2-D kernel of shape (k, E)
that spans the embedding axis completely, so it can only slide along the
sentence, and it produces one number per position, a 1-D sequence of length

    L_out = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1.

That is exactly a 1-D convolution whose input channels are the E embedding
dimensions: x (N, E, L) = embedded.transpose(0, 2, 1), filters W (F, E, k).
Equivalently, a :class:`~dlbook.layers.conv.Conv2d` with one input channel and
kernel (k, E) over the (L, E) "image" gives the same numbers with an output
width of 1 (the tests check both views agree). This module runs the 1-D case
through the same im2col machinery as a 2-D convolution over a height-1 image.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.init import kaiming_normal
from dlbook.layers.base import Layer
from dlbook.layers.conv import ConvCache, conv2d_backward, conv2d_forward


def _int_at_least(value, name: str, minimum: int) -> int:
    """An int >= minimum, else ``TypeError`` / ``ValueError`` naming Conv1d."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Conv1d expected {name} to be an int; got {value!r}")
    if value < minimum:
        raise ValueError(f"Conv1d expected {name} >= {minimum}; got {value!r}")
    return int(value)


class Conv1d(Layer):
    """y[n, f, t] = b[f] + sum_{c, i} W[f, c, i] xp[n, c, t s + i d]: cross-correlation along L.

    Shapes: x (N, C, L) -> y (N, F, L_out), L_out = floor((L + 2 p - d (k - 1)
    - 1) / s) + 1. Parameters: ``W`` (F, C, k), the layout of
    ``torch.nn.Conv1d.weight``, drawn from N(0, 2 / (C k)) (He, chapter 8) with
    the explicit ``rng``; ``b`` (F,) = 0. For text, C is the embedding size E
    and each filter is a whole-row kernel of k tokens (chapter 9).
    ``input_grad=False`` skips dx, for a first layer whose input is data.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, dilation: int = 1, bias: bool = True,
                 rng: int | np.random.Generator | None = None, dtype=np.float32,
                 input_grad: bool = True):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "Conv1d", "in_channels")
        self.out_channels = check_positive_int(out_channels, "Conv1d", "out_channels")
        self.kernel_size = _int_at_least(kernel_size, "kernel_size", 1)
        self.stride = _int_at_least(stride, "stride", 1)
        self.padding = _int_at_least(padding, "padding", 0)
        self.dilation = _int_at_least(dilation, "dilation", 1)
        shape = (self.out_channels, self.in_channels, self.kernel_size)
        self.add_param("W", kaiming_normal(shape, rng=rng, dtype=dtype))  # std sqrt(2 / (C k))
        if bias:
            self.add_param("b", np.zeros(self.out_channels, dtype=dtype))
        self.input_grad = bool(input_grad)
        self._cache: ConvCache | None = None
        self._out_shape: tuple[int, ...] | None = None

    def _check_input(self, x) -> np.ndarray:
        x = as_float_array(x, "Conv1d.forward")
        C, k = self.in_channels, self.kernel_size
        if x.ndim != 3:
            raise ValueError(f"Conv1d.forward expected x of shape (N, C, L) with C = {C}; "
                             f"got shape {x.shape}")
        if x.shape[1] != C:
            raise ValueError(f"Conv1d.forward expected x with C = {C} channels (in_channels); "
                             f"got {x.shape[1]} channels in x of shape {x.shape}")
        span, padded = self.dilation * (k - 1) + 1, x.shape[2] + 2 * self.padding
        if span > padded:
            raise ValueError(f"Conv1d.forward: the kernel spans {span} positions but the padded "
                             f"input has only {padded} (L + 2 padding); got x of shape {x.shape}")
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = im2col(x) W_col + b on a height-1 image. Shapes: (N, C, L) -> (N, F, L_out)."""
        x = self._check_input(x)
        W4 = self.params["W"][:, :, None, :]  # (F, C, 1, k), a view
        buffer = None if self._cache is None else self._cache.patches
        y4, self._cache = conv2d_forward(x[:, :, None, :], W4, self.params.get("b"),
                                         (1, self.stride), (0, self.padding), (1, self.dilation),
                                         buffer)  # (N, F, 1, L_out)
        y = y4[:, :, 0, :]  # (N, F, L_out)
        self._out_shape = y.shape
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Adds dW and db to grads; returns dx. Shapes: (N, F, L_out) -> (N, C, L)."""
        cache = self._cached(self._cache)
        dout = self._check_dout(dout, self._out_shape)
        W4 = self.params["W"][:, :, None, :]  # (F, C, 1, k)
        dx4, dW4, db = conv2d_backward(dout[:, :, None, :], cache, W4, self.input_grad)
        self.grads["W"] += dW4[:, :, 0, :]  # (F, C, 1, k) -> (F, C, k)
        if "b" in self.grads:
            self.grads["b"] += db
        return None if dx4 is None else dx4[:, :, 0, :]  # (N, C, 1, L) -> (N, C, L)

    def __repr__(self) -> str:
        return (f"Conv1d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"bias={'b' in self.params})")
