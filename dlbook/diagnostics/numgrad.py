"""Numerical differentiation and gradient checking (chapter 4; used by every later test).

The central difference (f(x+h) - f(x-h)) / 2h has error O(h^2); the forward
difference (f(x+h) - f(x)) / h only O(h). Too small an h loses to rounding,
so the best h balances the two errors (chapter 4 plots this trade-off).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlbook._checks import as_float_array

DEFAULT_H = 1e-5
"""Step for central differences in float64: error ~ h^2 * f''' vs rounding ~ eps / h."""

TINY = 1e-12
"""Floor on the denominator of :func:`relative_error` so two zeros compare as equal."""


def forward_difference(f: Callable[[float], float], x: float, h: float = DEFAULT_H) -> float:
    """(f(x + h) - f(x)) / h, a first-order estimate of f'(x)."""
    return (f(x + h) - f(x)) / h


def central_difference(f: Callable[[float], float], x: float, h: float = DEFAULT_H) -> float:
    """(f(x + h) - f(x - h)) / 2h, a second-order estimate of f'(x)."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       h: float = DEFAULT_H) -> np.ndarray:
    """Central-difference gradient of a scalar function of an array.

    Shapes: x (...) -> grad (...), float64.
    ``x`` is perturbed *in place*, one entry at a time, and restored, so ``f``
    may close over it (e.g. a network's weight matrix). Costs 2 * x.size calls of f.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"numerical_gradient expected x to be a float numpy array (it is perturbed in place); "
            f"got {type(x).__name__} {getattr(x, 'dtype', '')}"
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_jacobian_vector(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                              dout: np.ndarray, h: float = DEFAULT_H) -> np.ndarray:
    """Numerical gradient of sum(f(x) * dout): the vector-Jacobian product J^T dout.

    Shapes: x (...), f(x) and dout (...) -> (x.shape). Checking a backward pass
    against this with a random ``dout`` tests every entry of the Jacobian at once.
    """
    dout = as_float_array(dout, "numerical_jacobian_vector", "dout")
    return numerical_gradient(lambda z: float(np.sum(f(z) * dout)), x, h)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, TINY), elementwise then the maximum.

    In float64 a correct analytic gradient usually gives < 1e-7; a bug gives > 1e-2.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error expected equal shapes; got {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), TINY)))


def check_derivative(f: Callable[[np.ndarray], np.ndarray], df: Callable[[np.ndarray], np.ndarray],
                     x: np.ndarray, h: float = DEFAULT_H) -> float:
    """Relative error between an elementwise function's derivative ``df`` and finite differences.

    Shapes: x (...) float64. ``f`` acts elementwise, so the central difference
    of the whole array at once gives every derivative.
    """
    x = as_float_array(x, "check_derivative").astype(np.float64)
    numeric = (f(x + h) - f(x - h)) / (2 * h)
    return relative_error(df(x), numeric)
