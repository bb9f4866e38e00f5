"""Splitting, batching and scaling a dataset (chapters 2-4 and every chapter after).

The rule the book repeats: statistics (mean, std, min, max) are fitted on the
training split only and then applied unchanged to validation and test data.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from .toy import RngLike, as_generator

__all__ = [
    "DataSplits",
    "Standardization",
    "MinMaxScaling",
    "train_val_test_split",
    "iterate_minibatches",
    "standardize",
    "min_max_scale",
]

# A feature whose spread is below this is constant: divide by 1 instead of ~0.
MIN_SCALE = 1e-12


class DataSplits(NamedTuple):
    """The six arrays of a train/validation/test split (unpacks like a tuple)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


class Standardization(NamedTuple):
    """Per-feature mean and std fitted on the training split: x' = (x - mean) / std."""

    mean: np.ndarray
    std: np.ndarray

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Standardize ``X`` with the stored statistics."""
        X = np.asarray(X)
        return ((X - self.mean) / self.std).astype(_float_dtype(X))

    def invert(self, Z: np.ndarray) -> np.ndarray:
        """Map standardized values back to the original units."""
        Z = np.asarray(Z)
        return (Z * self.std + self.mean).astype(_float_dtype(Z))


class MinMaxScaling(NamedTuple):
    """Per-feature minimum and range fitted on the training split: x' = (x - min) / range."""

    minimum: np.ndarray
    scale: np.ndarray

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Scale ``X`` so the training data lies in [0, 1]."""
        X = np.asarray(X)
        return ((X - self.minimum) / self.scale).astype(_float_dtype(X))

    def invert(self, Z: np.ndarray) -> np.ndarray:
        """Map scaled values back to the original units."""
        Z = np.asarray(Z)
        return (Z * self.scale + self.minimum).astype(_float_dtype(Z))


def _float_dtype(X: np.ndarray) -> np.dtype:
    """float64 stays float64; everything else (ints, float16/32) becomes float32."""
    return np.result_type(X.dtype, np.float32)


def _check_xy(X, y, where: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim < 1 or y.ndim < 1:
        raise ValueError(f"{where}: expected X and y with a leading sample axis, got "
                         f"X.shape={X.shape}, y.shape={y.shape}")
    if len(X) != len(y):
        raise ValueError(f"{where}: expected X and y to have the same length, got "
                         f"len(X)={len(X)} and len(y)={len(y)}")
    return X, y


def _check_fraction(value: object, name: str, where: str) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not (0.0 <= value < 1.0):
        raise ValueError(f"{where}: expected {name} in [0, 1), got {value!r}")
    return float(value)


def _count(fraction: float, n: int) -> int:
    """Round half up: the number of the n samples a fraction takes."""
    return int(np.floor(fraction * n + 0.5))


def _split_indices(n: int, val_f: float, test_f: float, gen: np.random.Generator):
    perm = gen.permutation(n)
    n_test, n_val = _count(test_f, n), _count(val_f, n)
    return perm[n_test + n_val:], perm[n_test:n_test + n_val], perm[:n_test]


def _stratified_indices(y: np.ndarray, val_f: float, test_f: float, gen):
    parts: list[list[np.ndarray]] = [[], [], []]
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        for part, idx in zip(parts, _split_indices(len(members), val_f, test_f, gen)):
            part.append(members[idx])
    # Shuffle within each split so classes are interleaved, not in blocks.
    return tuple(gen.permutation(np.concatenate(part)) for part in parts)


def train_val_test_split(
    X: np.ndarray,
    y: np.ndarray,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    rng: RngLike = None,
    stratify: bool = False,
) -> DataSplits:
    """Shuffle and split (X, y) into train, validation and test sets (chapter 2).

    Each split's size is its fraction of N rounded half up; the rest is the
    training set. With ``stratify=True`` every class (``y`` must be 1-D
    labels) is split with the same fractions. Deterministic for a fixed seed.

    Shapes:
        X: (N, ...), y: (N, ...) -> DataSplits of (N_train, ...), (N_val, ...), (N_test, ...)
    """
    where = "train_val_test_split"
    X, y = _check_xy(X, y, where)
    val_f = _check_fraction(val_fraction, "val_fraction", where)
    test_f = _check_fraction(test_fraction, "test_fraction", where)
    if val_f + test_f >= 1.0:
        raise ValueError(f"{where}: expected val_fraction + test_fraction < 1, "
                         f"got {val_f} + {test_f} = {val_f + test_f}")
    gen = as_generator(rng, where)
    if stratify:
        if y.ndim != 1:
            raise ValueError(f"{where}: stratify=True expects 1-D class labels y, got shape {y.shape}")
        train, val, test = _stratified_indices(y, val_f, test_f, gen)
    else:
        train, val, test = _split_indices(len(X), val_f, test_f, gen)
    if len(train) == 0:
        raise ValueError(f"{where}: the fractions leave no training samples out of N={len(X)}")
    return DataSplits(X[train], y[train], X[val], y[val], X[test], y[test])


def _batches(X, y, batch_size, order, drop_last) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    n = len(order)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def iterate_minibatches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    rng: RngLike = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (xb, yb) minibatches covering one epoch (chapter 4).

    Arguments are checked when called, not at the first ``next``. With
    ``shuffle`` the order is a fresh permutation from ``rng``; with
    ``drop_last`` a final batch smaller than ``batch_size`` is skipped.

    Shapes:
        X: (N, ...), y: (N, ...) -> xb: (B, ...), yb: (B, ...), B <= batch_size
    """
    where = "iterate_minibatches"
    X, y = _check_xy(X, y, where)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"{where}: expected batch_size to be an int >= 1, got {batch_size!r}")
    order = as_generator(rng, where).permutation(len(X)) if shuffle else np.arange(len(X))
    return _batches(X, y, int(batch_size), order, drop_last)


def _check_features(train: np.ndarray, others: tuple, where: str, axis) -> list[np.ndarray]:
    if axis not in (0, None):
        raise ValueError(f"{where}: expected axis to be 0 (per feature) or None (global), got {axis!r}")
    if train.ndim < 1 or train.shape[0] == 0:
        raise ValueError(f"{where}: expected a non-empty training array, got shape {train.shape}")
    arrays = [np.asarray(other) for other in others]
    for i, arr in enumerate(arrays):
        if axis == 0 and arr.shape[1:] != train.shape[1:]:
            raise ValueError(f"{where}: expected others[{i}] to have feature shape "
                             f"{train.shape[1:]} like the training array, got {arr.shape[1:]}")
    return arrays


def standardize(
    X_train: np.ndarray, *others: np.ndarray, axis: int | None = 0
) -> tuple[tuple[np.ndarray, ...], Standardization]:
    """Fit mean/std on ``X_train`` and standardize it and ``others`` (chapter 4).

    ``axis=0`` fits one statistic per feature, ``axis=None`` one for all
    values. Constant features get std 1 (they become 0, not NaN).

    Shapes:
        X_train: (N, ...), others: (M, ...) -> same shapes; mean, std: X_train.shape[1:] or ()

    Example:
        ``(X_tr, X_va), stats = standardize(X_tr, X_va)``
    """
    X_train = np.asarray(X_train)
    arrays = _check_features(X_train, others, "standardize", axis)
    mean = X_train.mean(axis=axis, dtype=np.float64)
    std = X_train.std(axis=axis, dtype=np.float64)
    std = np.where(std < MIN_SCALE, 1.0, std)
    stats = Standardization(mean, std)
    return tuple(stats.apply(a) for a in [X_train, *arrays]), stats


def min_max_scale(
    X_train: np.ndarray, *others: np.ndarray, axis: int | None = 0
) -> tuple[tuple[np.ndarray, ...], MinMaxScaling]:
    """Fit min/range on ``X_train`` so it lies in [0, 1]; apply to ``others`` too (chapter 4).

    Other splits may fall slightly outside [0, 1]: that is the honest result
    of not peeking at them. Constant features get range 1.

    Shapes:
        X_train: (N, ...), others: (M, ...) -> same shapes; minimum, scale: X_train.shape[1:] or ()
    """
    X_train = np.asarray(X_train)
    arrays = _check_features(X_train, others, "min_max_scale", axis)
    low = X_train.min(axis=axis).astype(np.float64)
    span = X_train.max(axis=axis).astype(np.float64) - low
    span = np.where(span < MIN_SCALE, 1.0, span)
    stats = MinMaxScaling(low, span)
    return tuple(stats.apply(a) for a in [X_train, *arrays]), stats
