"""Activation functions and their derivatives, written to be numerically stable.

Chapter 3 (neural networks) derives each of these; chapter 2 uses the sigmoid.
Every function maps an array of any shape to an array of the same shape
(``softmax`` and friends reduce or normalise along one ``axis``).
Float inputs keep their dtype; integer inputs are promoted to float64.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_axis


def step(x: np.ndarray) -> np.ndarray:
    """Heaviside step: 1 where x > 0, else 0 (chapter 1's perceptron activation).

    Shapes: x (...) -> (...). Its derivative is 0 almost everywhere, which is
    why gradient descent cannot train a network of step units.
    """
    x = as_float_array(x, "step")
    return (x > 0).astype(x.dtype)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + exp(-x)), stable for any finite x.

    Shapes: x (...) -> (...).
    Only exp(-|x|) is ever evaluated, so nothing overflows: for x >= 0 we use
    1 / (1 + e^{-x}); for x < 0 the equal form e^{x} / (1 + e^{x}).
    """
    x = as_float_array(x, "sigmoid")
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def sigmoid_grad(x: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid: s(x) * (1 - s(x)). Shapes: x (...) -> (...)."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent (stable in numpy already). Shapes: x (...) -> (...)."""
    return np.tanh(as_float_array(x, "tanh"))


def tanh_grad(x: np.ndarray) -> np.ndarray:
    """Derivative of tanh: 1 - tanh(x)^2. Shapes: x (...) -> (...)."""
    t = tanh(x)
    return 1.0 - t * t


def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit max(0, x). Shapes: x (...) -> (...)."""
    x = as_float_array(x, "relu")
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def relu_grad(x: np.ndarray) -> np.ndarray:
    """Derivative of ReLU: 1 where x > 0, else 0 (we pick 0 at the kink, as PyTorch does).

    Shapes: x (...) -> (...).
    """
    x = as_float_array(x, "relu_grad")
    return (x > 0).astype(x.dtype)


def softplus(x: np.ndarray) -> np.ndarray:
    """Softplus log(1 + exp(x)), computed as logaddexp(0, x) so it never overflows.

    Shapes: x (...) -> (...). Its derivative is the sigmoid.
    """
    x = as_float_array(x, "softplus")
    return np.logaddexp(np.zeros((), dtype=x.dtype), x)


def logsumexp(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(x))) along ``axis``, shifted by the maximum so it cannot overflow.

    Shapes: x (..., C, ...) -> x without ``axis`` (or with size 1 if keepdims).
    Identity used: log sum_j e^{x_j} = m + log sum_j e^{x_j - m} with m = max_j x_j.
    """
    x = as_float_array(x, "logsumexp")
    check_axis(x, axis, "logsumexp")
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # an all -inf row stays -inf, no NaN
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax e^{x_j} / sum_k e^{x_k} along ``axis``, stable for any finite x.

    Shapes: x (..., C) -> (..., C), each slice along ``axis`` sums to 1.
    Subtracting the row maximum first does not change the result (the factor
    e^{-m} cancels) but keeps every exponent <= 0.
    """
    x = as_float_array(x, "softmax")
    check_axis(x, axis, "softmax")
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(x)) = x - logsumexp(x), finite even where softmax underflows to 0.

    Shapes: x (..., C) -> (..., C).
    """
    x = as_float_array(x, "log_softmax")
    check_axis(x, axis, "log_softmax")
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax_jacobian(p: np.ndarray) -> np.ndarray:
    """Jacobian of the softmax given its output p: diag(p) - p p^T.

    Shapes: p (C,) -> (C, C). Chapter 3 uses it to derive dL/dz = p - onehot(y).
    """
    p = as_float_array(p, "softmax_jacobian", "p")
    if p.ndim != 1:
        raise ValueError(f"softmax_jacobian expected p of shape (C,); got shape {p.shape}")
    return np.diag(p) - np.outer(p, p)
