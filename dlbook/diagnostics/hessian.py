"""Curvature of a loss: Hessian-vector products, extreme Hessian eigenvalues (chapter 7).

The Hessian :math:`H = \\nabla^2 L(\\theta)` of a loss with P parameters has P^2 entries,
too many to form for a network, but its product with a vector is cheap: it is the
directional derivative of the gradient,

.. math:: H v \\approx \\frac{\\nabla L(\\theta + h u) - \\nabla L(\\theta - h u)}{2h}\\,\\|v\\|,
   \\qquad u = v / \\|v\\| ,

two gradient evaluations, with an error of order h^2. Power iteration on that product
finds the largest magnitude of an eigenvalue; shifted by it, the largest and the
smallest eigenvalue. The
signs of the extreme eigenvalues classify a critical point: all positive, a minimum;
all negative, a maximum; both signs, a saddle point.

A *loss_and_grad* is a function ``theta (P,) -> (loss, grad (P,))`` of a flat float
parameter vector, e.g. ``lambda th: (f(th), grad_f(th))``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

LossAndGrad = Callable[[np.ndarray], "tuple[float, np.ndarray]"]
HVP = Callable[[np.ndarray], np.ndarray]

__all__ = ["hessian_vector_product", "hvp_function", "dense_hessian", "spectral_radius",
           "top_eigenvalue", "min_eigenvalue"]


def _flat_float(name: str, what: str, x) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{name} expected {what} as a 1-D float array; "
                         f"got shape {arr.shape}, dtype {arr.dtype}")
    return arr


def _grad(loss_and_grad: LossAndGrad, theta: np.ndarray) -> np.ndarray:
    out = loss_and_grad(theta)
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError("hessian_vector_product expected loss_and_grad to return "
                        f"(loss, grad); got {type(out).__name__}")
    grad = np.asarray(out[1], dtype=np.float64)
    if grad.shape != theta.shape:
        raise ValueError(f"hessian_vector_product expected a gradient of shape {theta.shape}; "
                         f"got {grad.shape}")
    return grad


def hessian_vector_product(loss_and_grad: LossAndGrad, params: np.ndarray, v: np.ndarray,
                           h: float = 1e-5) -> np.ndarray:
    """H v by central differences of the gradient along v (chapter 7).

    Shapes: params (P,), v (P,) -> (P,). The step h is taken along the unit vector
    v / |v| and the result scaled back by |v|, so h means the same thing for every v.
    Error O(h^2) from third derivatives plus O(eps / h) from rounding: h = 1e-5 suits
    float64. Exact (up to rounding) when the loss is quadratic.
    """
    theta = _flat_float("hessian_vector_product", "params", params).astype(np.float64)
    v = _flat_float("hessian_vector_product", "v", v).astype(np.float64)
    if v.shape != theta.shape:
        raise ValueError(f"hessian_vector_product expected v of shape {theta.shape}; "
                         f"got {v.shape}")
    if not h > 0:
        raise ValueError(f"hessian_vector_product expected a step h > 0; got {h}")
    norm = np.linalg.norm(v)
    if norm == 0:
        return np.zeros_like(theta)
    u = v / norm
    g_plus = _grad(loss_and_grad, theta + h * u)
    g_minus = _grad(loss_and_grad, theta - h * u)
    return (g_plus - g_minus) * (norm / (2 * h))


def hvp_function(loss_and_grad: LossAndGrad, params: np.ndarray, h: float = 1e-5) -> HVP:
    """The map v -> H v at the point params, for the eigenvalue routines (chapter 7).

    Shapes: params (P,); the returned function maps (P,) -> (P,).
    """
    theta = _flat_float("hvp_function", "params", params).astype(np.float64).copy()
    return lambda v: hessian_vector_product(loss_and_grad, theta, v, h)


def dense_hessian(loss_and_grad: LossAndGrad, params: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The full Hessian, one Hessian-vector product per column, symmetrised (chapter 7).

    Shapes: params (P,) -> (P, P). Costs 2P gradient evaluations: for small problems
    (and for checking the matrix-free routines against ``np.linalg.eigvalsh``).
    """
    theta = _flat_float("dense_hessian", "params", params).astype(np.float64)
    eye = np.eye(theta.size)
    H = np.stack([hessian_vector_product(loss_and_grad, theta, e, h) for e in eye], axis=1)
    return 0.5 * (H + H.T)


def _check_dims(name: str, dim, iters) -> None:
    if not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"{name} expected a dimension dim >= 1; got {dim!r}")
    if not isinstance(iters, (int, np.integer)) or iters < 1:
        raise ValueError(f"{name} expected iters >= 1; got {iters!r}")


def _apply(hvp: HVP, v: np.ndarray, name: str) -> np.ndarray:
    w = np.asarray(hvp(v), dtype=np.float64)
    if w.shape != v.shape:
        raise ValueError(f"{name} expected hvp to map {v.shape} to {v.shape}; got {w.shape}")
    return w


def spectral_radius(hvp: HVP, dim: int, iters: int = 500, rng=0, tol: float = 1e-10) -> float:
    """max |lambda| of the Hessian, by power iteration on |H v| (chapter 7).

    Shapes: hvp maps (dim,) -> (dim,). Repeats v <- H v / |H v| from a random unit vector
    (seeded by ``rng``); |H v| tends to max |lambda| even when lambda and -lambda are both
    eigenvalues (at a saddle), where the Rayleigh quotient would not settle.
    """
    _check_dims("spectral_radius", dim, iters)
    v = np.random.default_rng(rng).standard_normal(dim)
    v /= np.linalg.norm(v)
    estimate = 0.0
    for _ in range(iters):
        w = _apply(hvp, v, "spectral_radius")
        new = float(np.linalg.norm(w))
        if new == 0:
            return 0.0
        v = w / new
        done = abs(new - estimate) <= tol * new
        estimate = new
        if done:
            break
    return estimate


def _shifted_power_iteration(hvp: HVP, dim: int, iters: int, rng, shift: float, tol: float,
                             name: str) -> float:
    # power iteration on H + shift I, whose eigenvalues all have the sign of shift
    v = np.random.default_rng(rng).standard_normal(dim)
    v /= np.linalg.norm(v)
    estimate = None
    for _ in range(iters):
        w = _apply(hvp, v, name) + shift * v
        new = float(v @ w)                      # Rayleigh quotient of H + shift I
        norm = np.linalg.norm(w)
        if norm == 0:                           # H = -shift I on this vector
            return -shift
        v = w / norm
        done = estimate is not None and abs(new - estimate) <= tol * max(abs(new), 1e-300)
        estimate = new
        if done:
            break
    return estimate - shift


def top_eigenvalue(hvp: HVP, dim: int, iters: int = 500, rng=0, tol: float = 1e-10,
                   radius: float | None = None) -> float:
    """The largest Hessian eigenvalue lambda_max, by shifted power iteration (chapter 7).

    Shapes: hvp maps (dim,) -> (dim,). With s = max |lambda| (``radius``, computed by
    :func:`spectral_radius` when not given), every eigenvalue of H + s I lies in [0, 2s],
    so the largest of them is lambda_max + s: power iteration on H + s I, minus s.
    Near a minimum lambda_max caps a stable learning rate at 2 / lambda_max. Converges
    like ((lambda_2 + s) / (lambda_max + s))^t; stops early when the estimate changes by
    less than ``tol`` (relative).
    """
    _check_dims("top_eigenvalue", dim, iters)
    s = spectral_radius(hvp, dim, iters, rng, tol) if radius is None else abs(float(radius))
    return _shifted_power_iteration(hvp, dim, iters, rng, s, tol, "top_eigenvalue")


def min_eigenvalue(hvp: HVP, dim: int, iters: int = 500, rng=0, tol: float = 1e-10,
                   radius: float | None = None) -> float:
    """The smallest (most negative) Hessian eigenvalue, by shifted power iteration (chapter 7).

    Shapes: hvp maps (dim,) -> (dim,). With s = max |lambda| (``radius``, computed by
    :func:`spectral_radius` when not given), every eigenvalue of H - s I lies in [-2s, 0],
    so the one of largest magnitude is lambda_min - s: power iteration on H - s I, plus s.
    Negative at a saddle point, positive at a strict minimum. Converges slowly when
    lambda_min is close to the next eigenvalue relative to s.
    """
    _check_dims("min_eigenvalue", dim, iters)
    s = spectral_radius(hvp, dim, iters, rng, tol) if radius is None else abs(float(radius))
    return _shifted_power_iteration(hvp, dim, iters, rng, -s, tol, "min_eigenvalue")
