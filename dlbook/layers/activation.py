"""Activation layers: elementwise nonlinearities and their local derivatives (chapter 5).

Each backward multiplies the upstream gradient by the derivative of its
function, evaluated at the cached forward values: dx = dout * f'(x).
"""

from __future__ import annotations

import numpy as np

from dlbook import functional as F
from dlbook._checks import as_float_array
from dlbook.layers.base import Layer


class ReLU(Layer):
    """y = max(0, x); dx = dout * [x > 0] (0 at the kink, as in PyTorch).

    Shapes: x (...) -> y (...).
    """

    def __init__(self) -> None:
        super().__init__()
        self._x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = as_float_array(x, "ReLU.forward")
        return F.relu(self._x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x = self._cached(self._x)
        return self._check_dout(dout, x.shape) * F.relu_grad(x)


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)); dx = dout * y (1 - y), computed from the cached output.

    Shapes: x (...) -> y (...).
    """

    def __init__(self) -> None:
        super().__init__()
        self._y = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = F.sigmoid(as_float_array(x, "Sigmoid.forward"))
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        y = self._cached(self._y)
        return self._check_dout(dout, y.shape) * y * (1 - y)


class Tanh(Layer):
    """y = tanh(x); dx = dout * (1 - y^2), computed from the cached output.

    Shapes: x (...) -> y (...).
    """

    def __init__(self) -> None:
        super().__init__()
        self._y = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = F.tanh(as_float_array(x, "Tanh.forward"))
        return self._y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        y = self._cached(self._y)
        return self._check_dout(dout, y.shape) * (1 - y * y)
