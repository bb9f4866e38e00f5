"""The fully connected (affine) layer y = x W + b and its backward pass (chapter 5)."""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.layers.base import Layer
from dlbook.init import kaiming_normal
from dlbook.utils import make_rng

HE_GAIN = 2.0
"""W starts as N(0, HE_GAIN / D): He initialisation, right for ReLU networks (chapter 8)."""


class Linear(Layer):
    """Affine map y = x W + b, applied to the last axis of x.

    Shapes: x (N, D) -> y (N, H); also x (..., D) -> y (..., H).
    Parameters: ``W`` (D, H) drawn from N(0, 2 / D) with the explicit ``rng``
    (He initialisation; chapter 8 compares other choices) and ``b`` (H,) = 0.
    PyTorch stores the transpose: ``torch.nn.Linear.weight`` is (H, D) = W.T.
    Backward (chapter 5): dx = dout W^T, dW = x^T dout, db = sum of dout over the batch.

    ``input_grad=False`` skips dx (backward returns None): use it for a first
    layer whose input is data, where dx is never used. It saves a third of the
    layer's backward work; PyTorch skips the same product because data tensors
    do not require gradients.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: int | np.random.Generator | None = None, dtype=np.float32,
                 input_grad: bool = True):
        super().__init__()
        self.in_features = check_positive_int(in_features, "Linear", "in_features")
        self.out_features = check_positive_int(out_features, "Linear", "out_features")
        shape = (self.in_features, self.out_features)
        self.add_param("W", kaiming_normal(shape, rng=make_rng(rng, "Linear"), dtype=dtype))  # std sqrt(2 / D)
        if bias:
            self.add_param("b", np.zeros(self.out_features, dtype=dtype))
        self.input_grad = bool(input_grad)
        self._x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = x W + b. Shapes: (..., D) -> (..., H)."""
        x = as_float_array(x, "Linear.forward")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear.forward expected x of shape (..., {self.in_features}); "
                             f"got shape {x.shape}")
        self._x = x
        y = x @ self.params["W"]
        return y + self.params["b"] if "b" in self.params else y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = dout W^T; adds dW = x^T dout and db = sum(dout) to grads. (..., H) -> (..., D)."""
        x = self._cached(self._x)
        dout = self._check_dout(dout, x.shape[:-1] + (self.out_features,))
        x2 = x.reshape(-1, self.in_features)  # (..., D) -> (N, D), N = all leading axes
        dout2 = dout.reshape(-1, self.out_features)  # (..., H) -> (N, H)
        self.grads["W"] += x2.T @ dout2
        if "b" in self.grads:
            self.grads["b"] += dout2.sum(axis=0)
        return dout @ self.params["W"].T if self.input_grad else None

    def __repr__(self) -> str:
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={'b' in self.params})")
