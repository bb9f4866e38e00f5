"""The residual block of He et al. (2016): y = relu(F(x) + shortcut(x)) (chapter 10).

The residual branch is two 3x3 convolutions, each followed by batch
normalisation, with a ReLU between them:

    F(x) = BN2(conv2(relu(BN1(conv1(x)))))

The shortcut is the identity when the block keeps the shape of its input;
when it changes the number of channels or the stride, a 1x1 convolution with
the same stride and a BatchNorm ("projection shortcut", option B of the
paper) maps x to F's shape. The ReLU comes *after* the sum. Backward follows
the two paths of the sum: the gradient at the sum goes into the branch *and*,
unchanged, into the shortcut, and the two input gradients add up:

    ds = dout * [s > 0],   dx = dF^T ds + dshortcut^T ds   (= dF^T ds + ds for the identity).

``residual=False`` builds the same block without the shortcut, the *plain*
block the paper compares against: y = relu(F(x)).
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.layers.activation import ReLU
from dlbook.layers.base import Layer
from dlbook.layers.container import Sequential
from dlbook.layers.conv import Conv2d
from dlbook.layers.norm import BatchNorm2d
from dlbook.utils import make_rng


class ResidualBlock(Layer):
    """y = relu(BN(conv(relu(BN(conv(x))))) + shortcut(x)), the basic block of ResNet (chapter 10).

    Shapes: x (N, C_in, H, W) -> y (N, C_out, H_out, W_out) with
    H_out = ceil(H / stride) (3x3 convolutions padded by 1, the first one
    strided). Sublayers ``conv1``, ``bn1``, ``relu1``, ``conv2``, ``bn2``,
    ``relu2`` and, when ``in_channels != out_channels`` or ``stride != 1``,
    ``shortcut`` = Sequential(Conv2d 1x1 with the stride, BatchNorm2d).
    The convolutions have no bias (the BatchNorm after each one has a shift).
    ``residual=False``: no shortcut at all, y = relu(F(x)) (a plain block).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 residual: bool = True, rng: int | np.random.Generator | None = None,
                 dtype=np.float32):
        super().__init__()
        C_in = check_positive_int(in_channels, "ResidualBlock", "in_channels")
        C_out = check_positive_int(out_channels, "ResidualBlock", "out_channels")
        self.stride = check_positive_int(stride, "ResidualBlock", "stride")
        if not isinstance(residual, (bool, np.bool_)):
            raise TypeError(f"ResidualBlock expected residual to be a bool; "
                            f"got {type(residual).__name__}")
        self.in_channels, self.out_channels, self.residual = C_in, C_out, bool(residual)
        rng = make_rng(rng, "ResidualBlock")
        self.conv1 = Conv2d(C_in, C_out, 3, stride=self.stride, padding=1, bias=False, rng=rng,
                            dtype=dtype)
        self.bn1 = BatchNorm2d(C_out, dtype=dtype)
        self.relu1 = ReLU()
        self.conv2 = Conv2d(C_out, C_out, 3, padding=1, bias=False, rng=rng, dtype=dtype)
        self.bn2 = BatchNorm2d(C_out, dtype=dtype)
        self.relu2 = ReLU()
        self.shortcut: Sequential | None = None
        if self.residual and (C_in != C_out or self.stride != 1):  # projection: 1x1 conv + BN
            self.shortcut = Sequential(
                Conv2d(C_in, C_out, 1, stride=self.stride, bias=False, rng=rng, dtype=dtype),
                BatchNorm2d(C_out, dtype=dtype))
        self._out_shape: tuple[int, ...] | None = None

    def branch(self, x: np.ndarray) -> np.ndarray:
        """F(x) = BN2(conv2(relu(BN1(conv1(x))))). Shapes: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
        return self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = relu(F(x) + shortcut(x)). Shapes: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
        x = as_float_array(x, "ResidualBlock.forward")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ResidualBlock.forward expected x of shape (N, {self.in_channels}, "
                             f"H, W); got shape {x.shape}")
        s = self.branch(x)
        if self.residual:
            s = s + (x if self.shortcut is None else self.shortcut(x))  # the sum, before the ReLU
        self._out_shape = s.shape
        return self.relu2(s)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Both paths of the sum: dx = dF^T ds + dshortcut^T ds. Shapes: like y -> like x."""
        dout = self._check_dout(dout, self._cached(self._out_shape))
        ds = self.relu2.backward(dout)  # the gradient at the sum, (N, C_out, H_out, W_out)
        dx = self.conv1.backward(self.bn1.backward(self.relu1.backward(
            self.conv2.backward(self.bn2.backward(ds)))))
        if not self.residual:
            return dx
        return dx + (ds if self.shortcut is None else self.shortcut.backward(ds))

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, stride={self.stride}, "
                f"residual={self.residual}")
