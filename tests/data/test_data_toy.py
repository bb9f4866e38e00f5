"""Toy generators of dlbook.data.toy: shapes, dtypes, determinism, balance, errors."""

import numpy as np
import pytest

from dlbook.data import (
    LOGIC_GATES,
    logic_gate,
    make_blobs,
    make_linear_regression,
    make_moons,
    make_spirals,
)
from dlbook.data.toy import as_generator

CLASSIFIERS = {
    "blobs": lambda rng: make_blobs(90, centers=3, std=0.5, rng=rng),
    "moons": lambda rng: make_moons(90, noise=0.1, rng=rng),
    "spirals": lambda rng: make_spirals(30, n_classes=3, noise=0.2, rng=rng),
}


# ---- logic gates -----------------------------------------------------------

@pytest.mark.parametrize("name", sorted(LOGIC_GATES))
def test_logic_gate_shapes_and_dtypes(name):
    X, y = logic_gate(name)
    assert X.shape == (4, 2) and X.dtype == np.float32
    assert y.shape == (4,) and y.dtype == np.int64
    assert set(np.unique(X)) <= {0.0, 1.0}


@pytest.mark.parametrize("name, op", [
    ("and", np.logical_and), ("or", np.logical_or), ("xor", np.logical_xor),
    ("nand", lambda a, b: ~np.logical_and(a, b)), ("nor", lambda a, b: ~np.logical_or(a, b)),
])
def test_logic_gate_truth_tables(name, op):
    X, y = logic_gate(name)
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    np.testing.assert_array_equal(y, op(a, b).astype(np.int64))


def test_xor_labels_exactly():
    X, y = logic_gate("XOR")  # case-insensitive
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_logic_gate_unknown_name():
    with pytest.raises(ValueError, match=r"logic_gate: expected name to be one of .*'xor'.*got 'xnor'"):
        logic_gate("xnor")
    with pytest.raises(TypeError, match="logic_gate: expected name to be a str, got int"):
        logic_gate(3)


# ---- classification sets ---------------------------------------------------

@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_shapes_dtypes(kind):
    X, y = CLASSIFIERS[kind](0)
    assert X.shape == (90, 2) and X.dtype == np.float32
    assert y.shape == (90,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_deterministic_under_seed(kind):
    X1, y1 = CLASSIFIERS[kind](123)
    X2, y2 = CLASSIFIERS[kind](np.random.default_rng(123))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = CLASSIFIERS[kind](124)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_class_balance(kind):
    _, y = CLASSIFIERS[kind](0)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 90


def test_generator_stream_advances():
    gen = np.random.default_rng(0)
    X1, _ = make_moons(20, noise=0.1, rng=gen)
    X2, _ = make_moons(20, noise=0.1, rng=gen)
    assert not np.array_equal(X1, X2)


def test_blobs_uneven_split_and_given_centers():
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]])
    X, y = make_blobs(7, centers=centers, std=0.01, rng=1, shuffle=False)
    np.testing.assert_array_equal(np.bincount(y), [4, 3])
    assert X.shape == (7, 3)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), centers[1], atol=0.05)


def test_moons_without_noise_lie_on_circles():
    X, y = make_moons(40, noise=0.0, rng=0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0, atol=1e-6)


def test_spirals_radius_range_and_classes():
    X, y = make_spirals(50, n_classes=4, noise=0.0, rng=0)
    assert X.shape == (200, 2)
    np.testing.assert_array_equal(np.bincount(y), [50] * 4)
    assert np.linalg.norm(X, axis=1).max() <= 1.0 + 1e-6


# ---- regression ------------------------------------------------------------

def test_linear_regression_1d():
    X, y = make_linear_regression(50, w=3.0, b=-1.0, noise=0.0, rng=0)
    assert X.shape == (50, 1) and X.dtype == np.float32
    assert y.shape == (50,) and y.dtype == np.float32
    np.testing.assert_allclose(y, 3.0 * X[:, 0] - 1.0, atol=1e-5)
    assert X.min() >= -1.0 and X.max() <= 1.0


def test_linear_regression_nd_recovers_weights():
    w = np.array([1.0, -2.0, 0.5])
    X, y = make_linear_regression(500, w=w, b=0.25, noise=0.01, rng=7)
    assert X.shape == (500, 3)
    A = np.hstack([X, np.ones((500, 1), np.float32)]).astype(np.float64)
    coef = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(coef, [1.0, -2.0, 0.5, 0.25], atol=0.01)
    X2, y2 = make_linear_regression(500, w=w, b=0.25, noise=0.01, rng=7)
    np.testing.assert_array_equal(y, y2)


# ---- bad arguments -----------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: make_blobs(0), r"make_blobs: expected n_samples to be an int >= 1, got 0"),
    (lambda: make_blobs(10.5), r"make_blobs: expected n_samples .* got 10.5"),
    (lambda: make_blobs(10, std=-1.0), r"make_blobs: expected std to be a finite float > 0, got -1.0"),
    (lambda: make_blobs(2, centers=3), r"make_blobs: expected n_samples >= number of centers \(3\), got 2"),
    (lambda: make_blobs(10, centers=np.zeros(3)), r"make_blobs: expected centers .* shape \(3,\)"),
    (lambda: make_moons(1), r"make_moons: expected n_samples to be an int >= 2, got 1"),
    (lambda: make_moons(10, noise=-0.1), r"make_moons: expected noise .* >= 0, got -0.1"),
    (lambda: make_moons(10, noise=float("nan")), r"make_moons: expected noise .* got nan"),
    (lambda: make_spirals(10, n_classes=1), r"make_spirals: expected n_classes to be an int >= 2, got 1"),
    (lambda: make_spirals(True), r"make_spirals: expected n_samples_per_class .* got True"),
    (lambda: make_linear_regression(10, w=np.ones((2, 2))),
     r"make_linear_regression: expected w .* got shape \(2, 2\)"),
    (lambda: make_linear_regression(10, noise=-1), r"make_linear_regression: expected noise"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_rng_raises_type_error():
    with pytest.raises(TypeError, match=r"make_moons: expected rng .* got float"):
        make_moons(10, rng=1.5)
    with pytest.raises(TypeError, match="got bool"):
        as_generator(True)


def test_as_generator_passthrough_and_seed():
    gen = np.random.default_rng(5)
    assert as_generator(gen) is gen
    assert as_generator(5).integers(1000) == np.random.default_rng(5).integers(1000)
    assert isinstance(as_generator(None), np.random.Generator)
