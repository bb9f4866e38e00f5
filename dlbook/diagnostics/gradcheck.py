"""One generic gradient checker for every layer and loss (chapter 5; used by the tests).

A backward pass must return the vector-Jacobian product J^T dout. Central
differences of the scalar

    f(x, params) = sum(forward(x) * dout)

give exactly that for a *random* upstream gradient ``dout``, so one check
tests every entry of the Jacobian at once (a ``dout`` of ones would miss
errors that cancel in a sum). Everything runs in float64, where a correct
backward gives relative errors below ``GRADCHECK_TOL`` and a bug gives errors
of 1e-2 or more.

The error of a whole gradient is measured with norms, ||a - b|| / (||a|| + ||b||)
(:func:`norm_relative_error`). The entrywise maximum of
:func:`dlbook.diagnostics.numgrad.relative_error` is dominated by any entry that happens
to be nearly 0, where only rounding noise (~1e-16 |f| / h) is left, so it
flags correct layers now and then.

Each numerical evaluation runs on a fresh copy of the layer as it was
*before* the check, so a stochastic layer (Dropout) draws the very same mask
every time, and BatchNorm's running statistics are left alone.
"""

from __future__ import annotations

import copy

import numpy as np

from dlbook._checks import as_float_array
from dlbook.diagnostics.numgrad import TINY, numerical_gradient
from dlbook.utils import make_rng

GRADCHECK_STEP = 1e-6
"""Central-difference step h: truncation error ~h^2, rounding error ~1e-16 |f| / h."""

GRADCHECK_TOL = 1e-7
"""Relative error below which a float64 gradient counts as correct (a bug gives ~1e-2 or more)."""


def norm_relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / max(||a|| + ||b||, TINY) with Euclidean norms over all entries.

    Shapes: a (...), b (...) of the same shape -> float in [0, 1].
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"norm_relative_error expected equal shapes; got {a.shape} and {b.shape}")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), TINY))


def check_layer(layer, x: np.ndarray, dout: np.ndarray | None = None,
                rng: int | np.random.Generator | None = 0,
                h: float = GRADCHECK_STEP) -> dict[str, float]:
    """Relative error of ``layer.backward`` against central differences, per input.

    Shapes: x (as the layer expects), dout (shape of forward(x); default
    standard normal from ``rng``) -> {"x": err, name: err for every parameter}.
    The layer must hold float64 parameters. Its ``grads`` are zeroed and then
    hold the analytic gradients. Raises ``AssertionError`` if forward modifies
    ``x`` or backward modifies ``dout`` in place (the protocol forbids both).
    """
    name = type(layer).__name__
    _require_float64(layer, "check_layer")
    x = np.array(as_float_array(x, "check_layer"), dtype=np.float64)  # our own copy
    pristine = copy.deepcopy(layer)  # before any forward: its copies replay the same randomness

    layer.zero_grad()
    x_before = x.copy()
    y = layer.forward(x)
    if dout is None:
        dout = make_rng(rng, "check_layer").standard_normal(y.shape)
    dout = np.array(as_float_array(dout, "check_layer", "dout"), dtype=np.float64)
    if dout.shape != y.shape:
        raise ValueError(f"check_layer expected dout of shape {y.shape} (the output of {name}); "
                         f"got shape {dout.shape}")
    dout_before = dout.copy()
    dx = layer.backward(dout)
    _assert_unchanged(x, x_before, f"{name}.forward modified its input x in place")
    _assert_unchanged(dout, dout_before, f"{name}.backward modified dout in place")

    def objective(inputs: np.ndarray) -> float:
        return float(np.sum(copy.deepcopy(pristine).forward(inputs) * dout))

    errors = {"x": norm_relative_error(dx, numerical_gradient(objective, x.copy(), h))}
    for key, param in pristine.params.items():  # perturbed in place, then copied by objective
        numeric = numerical_gradient(lambda _: objective(x), param, h)
        errors[key] = norm_relative_error(layer.grads[key], numeric)
    return errors


def check_loss(loss, logits: np.ndarray, targets: np.ndarray,
               rng: int | np.random.Generator | None = 0,
               h: float = GRADCHECK_STEP) -> dict[str, float]:
    """Relative error of ``loss.backward(dout)`` against central differences of dout * loss.

    Shapes: logits (N, C) or (...), targets as the loss expects -> {"logits": err}.
    ``dout`` is a random scalar from ``rng``, so a backward that ignores it fails.
    """
    name = type(loss).__name__
    logits = np.array(as_float_array(logits, "check_loss", "logits"), dtype=np.float64)
    targets = np.array(targets)
    logits_before, targets_before = logits.copy(), targets.copy()
    dout = float(make_rng(rng, "check_loss").uniform(0.5, 2.0))
    loss.forward(logits, targets)
    dlogits = loss.backward(dout)
    _assert_unchanged(logits, logits_before, f"{name}.forward modified its logits in place")
    _assert_unchanged(targets, targets_before, f"{name}.forward modified its targets in place")
    numeric = numerical_gradient(lambda z: dout * loss.forward(z, targets), logits.copy(), h)
    return {"logits": norm_relative_error(dlogits, numeric)}


def _require_float64(layer, where: str) -> None:
    """Numerical gradients in float32 are too coarse to check anything; insist on float64."""
    for key, param in layer.params.items():
        if param.dtype != np.float64:
            raise TypeError(f"{where} expected float64 parameters (build {type(layer).__name__} "
                            f"with dtype=np.float64); got params[{key!r}] of dtype {param.dtype}")


def _assert_unchanged(after: np.ndarray, before: np.ndarray, message: str) -> None:
    if not np.array_equal(after, before, equal_nan=True):
        raise AssertionError(message)
