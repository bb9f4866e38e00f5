"""Toy datasets generated with numpy: logic gates, blobs, moons, spirals, lines.

Every generator takes an explicit ``rng`` (a ``numpy.random.Generator``, an
int seed, or ``None`` for fresh entropy) and returns ``float32`` features and
``int64`` class labels (``float32`` targets for regression). Chapters 1-4 use
them: the perceptron on logic gates, logistic regression on blobs, the MLP on
moons and spirals, gradient descent on a noisy line.
"""

from __future__ import annotations

import numbers

import numpy as np

from dlbook.utils import make_rng

__all__ = [
    "as_generator",
    "logic_gate",
    "make_blobs",
    "make_moons",
    "make_spirals",
    "make_linear_regression",
    "LOGIC_GATES",
]

RngLike = np.random.Generator | int | None

# Truth tables, rows in the order of GATE_INPUTS: (0,0), (0,1), (1,0), (1,1).
GATE_INPUTS = ((0, 0), (0, 1), (1, 0), (1, 1))
LOGIC_GATES: dict[str, tuple[int, int, int, int]] = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
}

BLOB_CENTER_BOX = 5.0  # random blob centers are drawn uniformly in [-5, 5]^D
MOON_OFFSET_X = 1.0  # the inner moon is shifted right by 1 ...
MOON_OFFSET_Y = 0.5  # ... and up by 0.5 (after flipping), as in scikit-learn
SPIRAL_SWEEP_RADIANS = 4.0  # angle each spiral arm sweeps from centre to rim (CS231n)
REGRESSION_X_LOW, REGRESSION_X_HIGH = -1.0, 1.0  # inputs drawn uniformly here


def as_generator(rng: RngLike, where: str = "as_generator") -> np.random.Generator:
    """Turn ``rng`` into a ``numpy.random.Generator`` (see :func:`dlbook.utils.make_rng`)."""
    return make_rng(rng, where)


def _check_count(value: object, name: str, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{where}: expected {name} to be an int >= {minimum}, got {value!r}")
    return int(value)


def _check_scale(value: object, name: str, where: str, allow_zero: bool = True) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{where}: expected {name} to be a finite float {bound}, got {value!r}")
    return float(value)


def _finish(X: np.ndarray, y: np.ndarray, shuffle: bool, gen: np.random.Generator):
    """Cast to (float32, int64) and optionally shuffle rows together."""
    if shuffle:
        order = gen.permutation(len(y))
        X, y = X[order], y[order]
    return X.astype(np.float32), y.astype(np.int64)


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four-row truth table of a two-input logic gate (chapter 1).

    ``name`` is one of "and", "or", "nand", "nor", "xor" (case-insensitive).

    Shapes:
        X: (4, 2) float32 of 0/1, rows (0,0), (0,1), (1,0), (1,1)
        y: (4,) int64 of 0/1
    """
    if not isinstance(name, str):
        raise TypeError(f"logic_gate: expected name to be a str, got {type(name).__name__}")
    key = name.lower()
    if key not in LOGIC_GATES:
        raise ValueError(
            f"logic_gate: expected name to be one of {sorted(LOGIC_GATES)}, got {name!r}"
        )
    X = np.array(GATE_INPUTS, dtype=np.float32)
    y = np.array(LOGIC_GATES[key], dtype=np.int64)
    return X, y


def _blob_centers(centers, n_features: int, gen: np.random.Generator) -> np.ndarray:
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        n_centers = _check_count(centers, "centers", "make_blobs")
        shape = (n_centers, n_features)
        return gen.uniform(-BLOB_CENTER_BOX, BLOB_CENTER_BOX, size=shape)
    arr = np.asarray(centers, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or not np.all(np.isfinite(arr)):
        raise ValueError(
            "make_blobs: expected centers to be an int or a finite (K, D) array, "
            f"got an array of shape {arr.shape}"
        )
    return arr


def make_blobs(
    n_samples: int = 200,
    centers: int | np.ndarray = 3,
    std: float = 1.0,
    n_features: int = 2,
    rng: RngLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs, one class per center (chapter 2).

    ``centers`` is a count K (centers drawn uniformly in [-5, 5]^D) or a
    (K, D) array. Classes are balanced: the first ``n_samples % K`` classes
    get one extra point.

    Shapes:
        X: (N, D) float32, y: (N,) int64 in [0, K)
    """
    where = "make_blobs"
    n_samples = _check_count(n_samples, "n_samples", where)
    n_features = _check_count(n_features, "n_features", where)
    std = _check_scale(std, "std", where, allow_zero=False)
    gen = as_generator(rng, where)
    mu = _blob_centers(centers, n_features, gen)  # (K, D)
    n_centers = mu.shape[0]
    if n_samples < n_centers:
        raise ValueError(
            f"{where}: expected n_samples >= number of centers ({n_centers}), got {n_samples}"
        )
    counts = np.full(n_centers, n_samples // n_centers)
    counts[: n_samples % n_centers] += 1
    y = np.repeat(np.arange(n_centers), counts)  # (N,)
    X = mu[y] + std * gen.standard_normal((n_samples, mu.shape[1]))
    return _finish(X, y, shuffle, gen)


def make_moons(
    n_samples: int = 200,
    noise: float = 0.1,
    rng: RngLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles plus Gaussian noise (chapter 3).

    Class 0 is the upper moon (``n_samples // 2`` points), class 1 the lower,
    shifted one (the rest), as in scikit-learn's ``make_moons``.

    Shapes:
        X: (N, 2) float32, y: (N,) int64 of 0/1
    """
    where = "make_moons"
    n_samples = _check_count(n_samples, "n_samples", where, minimum=2)
    noise = _check_scale(noise, "noise", where)
    gen = as_generator(rng, where)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)  # (n_outer, 2)
    inner = np.stack(
        [MOON_OFFSET_X - np.cos(t_inner), MOON_OFFSET_Y - np.sin(t_inner)], axis=1
    )  # (n_inner, 2)
    X = np.concatenate([outer, inner]) + noise * gen.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])
    return _finish(X, y, shuffle, gen)


def make_spirals(
    n_samples_per_class: int = 100,
    n_classes: int = 3,
    noise: float = 0.2,
    rng: RngLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (chapter 3; after CS231n).

    Arm k has radius r in [0, 1] and angle ``2*pi*k/K + 4*r``, with Gaussian
    noise of standard deviation ``noise`` added to the angle.

    Shapes:
        X: (K * n_samples_per_class, 2) float32, y: (K * n_samples_per_class,) int64
    """
    where = "make_spirals"
    n_per = _check_count(n_samples_per_class, "n_samples_per_class", where)
    n_classes = _check_count(n_classes, "n_classes", where, minimum=2)
    noise = _check_scale(noise, "noise", where)
    gen = as_generator(rng, where)
    radius = np.tile(np.linspace(0.0, 1.0, n_per), n_classes)  # (K*n,)
    y = np.repeat(np.arange(n_classes), n_per)  # (K*n,)
    angle = 2.0 * np.pi * y / n_classes + SPIRAL_SWEEP_RADIANS * radius
    angle = angle + noise * gen.standard_normal(angle.shape)
    X = radius[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)  # (K*n, 2)
    return _finish(X, y, shuffle, gen)


def make_linear_regression(
    n_samples: int = 100,
    w: float | np.ndarray = 2.0,
    b: float = 0.5,
    noise: float = 0.1,
    rng: RngLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy linear data ``y = X @ w + b + noise * eps`` (chapter 2).

    ``w`` is a scalar (D = 1) or a 1-D array of D weights; inputs are drawn
    uniformly in [-1, 1].

    Shapes:
        X: (N, D) float32, y: (N,) float32
    """
    where = "make_linear_regression"
    n_samples = _check_count(n_samples, "n_samples", where)
    noise = _check_scale(noise, "noise", where)
    weights = np.atleast_1d(np.asarray(w, dtype=np.float64))
    if weights.ndim != 1 or weights.size == 0 or not np.all(np.isfinite(weights)):
        raise ValueError(
            f"{where}: expected w to be a finite scalar or 1-D array, got shape {np.shape(w)}"
        )
    if not isinstance(b, numbers.Real) or not np.isfinite(b):
        raise ValueError(f"{where}: expected b to be a finite float, got {b!r}")
    gen = as_generator(rng, where)
    X = gen.uniform(REGRESSION_X_LOW, REGRESSION_X_HIGH, size=(n_samples, weights.size))
    y = X @ weights + float(b) + noise * gen.standard_normal(n_samples)  # (N,)
    return X.astype(np.float32), y.astype(np.float32)
