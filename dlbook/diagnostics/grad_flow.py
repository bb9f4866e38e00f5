"""Measuring how far a gradient travels back in time through a recurrent layer (chapters 14-15).

For a loss that reads only the last state, L = sum(g * h_T), backpropagation
through time gives dL/dh_t for every earlier step. Its norm against t shows
whether the signal from step T reaches step t: in a vanilla RNN
dh_{t-1} = (dh_t * (1 - h_t^2)) W_h^T, a product of T - t Jacobians, so the
norm shrinks or grows roughly geometrically, at a rate set by W_h (its
spectral radius below or above 1) and by the tanh slopes. An LSTM's cell
state adds a path on which only the forget gate multiplies:
dc_{t-1} = dc_t * f_t + (terms through the gates).

The functions here run the layer's own one-step functions (``rnn_step``,
``lstm_step``, ``gru_step`` and their backward steps) with the layer's
parameters and record the gradient at every step.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_ndim
from dlbook.layers.gru import GRU, gru_step, gru_step_backward
from dlbook.layers.lstm import LSTM, lstm_step, lstm_step_backward
from dlbook.layers.rnn import RNN, rnn_step, rnn_step_backward


def spectral_radius(W: np.ndarray) -> float:
    """max |eigenvalue| of a square matrix. Shapes: (H, H) -> float."""
    W = as_float_array(W, "spectral_radius", "W")
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"spectral_radius expected a square matrix (H, H); got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def with_spectral_radius(W: np.ndarray, rho: float) -> np.ndarray:
    """W rescaled so that its spectral radius is ``rho`` (a new array). Shapes: (H, H) -> (H, H)."""
    current = spectral_radius(W)
    if current == 0:
        raise ValueError("with_spectral_radius expected a matrix with a nonzero eigenvalue")
    return (W * (rho / current)).astype(W.dtype)


def hidden_grad_norms(layer, x: np.ndarray, dh_T: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """||dL/dh_t|| for t = 0 .. T with L = sum(dh_T * h_T), averaged over the batch.

    Shapes: x (N, T, D), dh_T (N, H) (default: ones / sqrt(H), unit norm per
    example) -> {"h": (T + 1,)} and, for an LSTM, also {"c": (T + 1,)} with
    ||dL/dc_t||. Index t = 0 is the initial state; the run starts from zeros.
    Each entry is the mean over the batch of the per-example Euclidean norm.
    """
    if not isinstance(layer, (RNN, LSTM, GRU)):
        raise TypeError(f"hidden_grad_norms expected an RNN, LSTM or GRU layer; "
                        f"got {type(layer).__name__}")
    x = as_float_array(x, "hidden_grad_norms")
    check_ndim(x, 3, "hidden_grad_norms", "x", f"(N, T, {layer.input_size})")
    N, T, _ = x.shape
    H = layer.hidden_size
    dh = (np.ones((N, H)) / np.sqrt(H) if dh_T is None else as_float_array(dh_T, "hidden_grad_norms",
                                                                          "dh_T")).copy()
    if dh.shape != (N, H):
        raise ValueError(f"hidden_grad_norms expected dh_T of shape ({N}, {H}); got {dh.shape}")
    p = layer.params
    h = np.zeros((N, H), dtype=np.float64)
    c = np.zeros((N, H), dtype=np.float64)
    caches = []
    for t in range(T):  # forward with the one-step functions, keeping every cache
        if isinstance(layer, LSTM):
            h, c, cache = lstm_step(x[:, t], h, c, p["W_x"], p["W_h"], p.get("b"))
        elif isinstance(layer, GRU):
            h, cache = gru_step(x[:, t], h, p["W_x"], p["W_h"], p.get("b_x"), p.get("b_h"))
        else:
            h, cache = rnn_step(x[:, t], h, p["W_x"], p["W_h"], p.get("b"), layer.nonlinearity)
        caches.append(cache)
    norms_h = np.empty(T + 1)
    norms_c = np.empty(T + 1)
    dc = np.zeros((N, H))
    norms_h[T], norms_c[T] = _mean_norm(dh), _mean_norm(dc)
    for t in reversed(range(T)):  # backward: the gradient reaching h_{t} from step t + 1
        if isinstance(layer, LSTM):
            _, dh, dc, *_ = lstm_step_backward(dh, dc, caches[t])
        elif isinstance(layer, GRU):
            _, dh, *_ = gru_step_backward(dh, caches[t])
        else:
            _, dh, *_ = rnn_step_backward(dh, caches[t])
        norms_h[t], norms_c[t] = _mean_norm(dh), _mean_norm(dc)
    return {"h": norms_h, "c": norms_c} if isinstance(layer, LSTM) else {"h": norms_h}


def _mean_norm(d: np.ndarray) -> float:
    """Mean over the batch of the Euclidean norm of each row. Shapes: (N, H) -> float."""
    return float(np.mean(np.linalg.norm(d, axis=1)))
