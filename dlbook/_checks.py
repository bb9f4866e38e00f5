"""Argument checks shared by the package: clear errors instead of numpy tracebacks.

Every public function validates its inputs with these helpers, so a wrong
shape or dtype is reported by name ("softmax expected ...; got ...") rather
than as a broadcasting error deep inside numpy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def as_float_array(x, where: str, name: str = "x") -> np.ndarray:
    """Return ``x`` as a floating numpy array (float dtypes kept, ints -> float64).

    Raises ``TypeError`` for non-numeric input such as strings or objects.
    """
    arr = np.asarray(x)
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float64)
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{where} expected {name} to be a real-valued array; got dtype {arr.dtype}")
    return arr


def as_label_array(y, where: str, name: str = "targets") -> np.ndarray:
    """Return integer class labels as an int64 array; reject floats with a fraction part."""
    arr = np.asarray(y)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise TypeError(f"{where} expected {name} to hold integer class labels; got dtype {arr.dtype}")


def check_ndim(arr: np.ndarray, ndim: int, where: str, name: str, shape_hint: str) -> None:
    """Raise ``ValueError`` unless ``arr.ndim == ndim``; ``shape_hint`` reads like ``(N, C)``."""
    if arr.ndim != ndim:
        raise ValueError(f"{where} expected {name} of shape {shape_hint}; got shape {arr.shape}")


def check_same_shape(a: np.ndarray, b: np.ndarray, where: str, names: tuple[str, str]) -> None:
    """Raise ``ValueError`` unless the two arrays have identical shapes."""
    if a.shape != b.shape:
        raise ValueError(
            f"{where} expected {names[0]} and {names[1]} to have the same shape; "
            f"got {a.shape} and {b.shape}"
        )


def check_axis(arr: np.ndarray, axis: int, where: str) -> None:
    """Raise ``ValueError`` when ``axis`` does not exist in ``arr`` (or it is 0-d)."""
    if arr.ndim == 0 or not -arr.ndim <= axis < arr.ndim:
        raise ValueError(
            f"{where} expected an array with axis {axis}; got shape {arr.shape}"
        )


def check_positive_int(value, where: str, name: str) -> int:
    """Return ``value`` as int if it is a positive integer, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where} expected {name} to be an int; got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{where} expected {name} >= 1; got {value}")
    return int(value)


def check_non_negative_int(value, where: str, name: str) -> int:
    """Return ``value`` as int if it is an integer >= 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where} expected {name} to be an int; got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{where} expected {name} >= 0; got {value}")
    return int(value)


def check_hyper(value: Any, where: str, name: str, low: float = 0.0,
                high: float | None = None) -> float:
    """Return ``value`` as a Python float in ``[low, high)`` (``high=None``: no upper end).

    Raises ``TypeError`` for a non-number (or bool) and ``ValueError`` out of range
    or for NaN. A plain float (not a numpy scalar) keeps numpy from promoting
    float32 parameters to float64 in the update arithmetic.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where} expected {name} to be a real number; got {type(value).__name__}")
    value = float(value)
    if math.isnan(value) or value < low or (high is not None and value >= high):
        interval = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"{where} expected {name} {interval}; got {value}")
    return value
