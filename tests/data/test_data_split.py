"""Splits, minibatches and train-fitted scaling of dlbook.data.split."""

import numpy as np
import pytest

from dlbook.data import (
    DataSplits,
    iterate_minibatches,
    min_max_scale,
    standardize,
    train_val_test_split,
)

N = 100


@pytest.fixture
def data():
    X = np.arange(N * 3, dtype=np.float32).reshape(N, 3)
    y = np.arange(N) % 4
    return X, y


# ---- train_val_test_split --------------------------------------------------

def test_split_sizes_and_partition(data):
    X, y = data
    parts = train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.1, rng=0)
    assert isinstance(parts, DataSplits)
    assert [len(a) for a in parts] == [70, 70, 20, 20, 10, 10]
    rows = np.concatenate([parts.X_train[:, 0], parts.X_val[:, 0], parts.X_test[:, 0]])
    np.testing.assert_array_equal(np.sort(rows), X[:, 0])  # disjoint and complete
    for Xs, ys in [(parts.X_train, parts.y_train), (parts.X_val, parts.y_val)]:
        np.testing.assert_array_equal(ys, y[(Xs[:, 0] // 3).astype(int)])  # rows stay paired


def test_split_deterministic(data):
    X, y = data
    a = train_val_test_split(X, y, 0.2, 0.2, rng=42)
    b = train_val_test_split(X, y, 0.2, 0.2, rng=np.random.default_rng(42))
    c = train_val_test_split(X, y, 0.2, 0.2, rng=43)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.X_train, c.X_train)


def test_split_stratified_keeps_class_proportions(data):
    X, y = data  # 25 per class
    parts = train_val_test_split(X, y, 0.2, 0.2, rng=0, stratify=True)
    for ys in (parts.y_val, parts.y_test):
        np.testing.assert_array_equal(np.bincount(ys, minlength=4), [5, 5, 5, 5])
    np.testing.assert_array_equal(np.bincount(parts.y_train), [15, 15, 15, 15])
    assert not np.all(np.diff(parts.y_train) >= 0)  # shuffled, not in class blocks


def test_split_zero_val(data):
    X, y = data
    parts = train_val_test_split(X, y, val_fraction=0.0, test_fraction=0.25, rng=0)
    assert parts.X_val.shape == (0, 3) and len(parts.y_test) == 25


@pytest.mark.parametrize("kwargs, message", [
    (dict(val_fraction=-0.1), r"train_val_test_split: expected val_fraction in \[0, 1\), got -0.1"),
    (dict(test_fraction=1.0), r"expected test_fraction in \[0, 1\), got 1.0"),
    (dict(val_fraction=0.6, test_fraction=0.4), r"expected val_fraction \+ test_fraction < 1"),
    (dict(val_fraction="0.1"), r"expected val_fraction in \[0, 1\), got '0.1'"),
])
def test_split_bad_fractions(data, kwargs, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        train_val_test_split(X, y, rng=0, **kwargs)


def test_split_mismatched_lengths(data):
    X, y = data
    with pytest.raises(ValueError, match=r"same length, got len\(X\)=100 and len\(y\)=99"):
        train_val_test_split(X, y[:-1], rng=0)


def test_split_too_small_for_fractions():
    with pytest.raises(ValueError, match="no training samples"):
        train_val_test_split(np.zeros((2, 1)), np.zeros(2), 0.4, 0.4, rng=0)


# ---- iterate_minibatches ---------------------------------------------------

def test_minibatches_cover_epoch_in_order(data):
    X, y = data
    batches = list(iterate_minibatches(X, y, batch_size=32, shuffle=False))
    assert [len(xb) for xb, _ in batches] == [32, 32, 32, 4]
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), X)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)


def test_minibatches_shuffled_and_deterministic(data):
    X, y = data
    run = lambda seed: list(iterate_minibatches(X, y, 16, shuffle=True, rng=seed))  # noqa: E731
    first, again = run(0), run(0)
    seen = np.concatenate([xb[:, 0] for xb, _ in first])
    np.testing.assert_array_equal(np.sort(seen), X[:, 0])
    assert not np.array_equal(seen, X[:, 0])
    for (xa, ya), (xb, yb) in zip(first, again):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(ya, y[(xa[:, 0] // 3).astype(int)])


def test_minibatches_drop_last(data):
    X, y = data
    sizes = [len(xb) for xb, _ in iterate_minibatches(X, y, 32, rng=0, drop_last=True)]
    assert sizes == [32, 32, 32]


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_minibatches_bad_batch_size_raises_at_call(data, batch_size):
    X, y = data
    with pytest.raises(ValueError, match=f"iterate_minibatches: expected batch_size to be an int >= 1, got {batch_size!r}"):
        iterate_minibatches(X, y, batch_size)  # no next() needed


def test_minibatches_mismatched_lengths(data):
    X, y = data
    with pytest.raises(ValueError, match="iterate_minibatches: expected X and y to have the same length"):
        iterate_minibatches(X[:10], y, 4)


# ---- scaling ---------------------------------------------------------------

def test_standardize_fits_on_train_only():
    rng = np.random.default_rng(0)
    X_tr = rng.normal(5.0, 2.0, size=(200, 3)).astype(np.float32)
    X_te = rng.normal(5.0, 2.0, size=(50, 3)).astype(np.float32)
    (Z_tr, Z_te), stats = standardize(X_tr, X_te)
    assert Z_tr.dtype == np.float32 and Z_te.dtype == np.float32
    np.testing.assert_allclose(Z_tr.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Z_tr.std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(stats.mean, X_tr.mean(axis=0, dtype=np.float64), rtol=1e-6)
    np.testing.assert_allclose(Z_te, (X_te - stats.mean) / stats.std, rtol=1e-5)
    np.testing.assert_allclose(stats.invert(Z_te), X_te, rtol=1e-5)


def test_standardize_constant_feature_and_global_axis():
    X = np.array([[1.0, 7.0], [3.0, 7.0]])
    (Z,), stats = standardize(X)
    np.testing.assert_array_equal(Z[:, 1], [0.0, 0.0])  # not NaN
    assert Z.dtype == np.float64 and stats.std[1] == 1.0
    (G,), gstats = standardize(X, axis=None)
    assert np.ndim(gstats.mean) == 0 and G.shape == X.shape


def test_min_max_scale():
    X_tr = np.array([[0, 10], [5, 20], [10, 30]], dtype=np.uint8)
    X_te = np.array([[20, 10]], dtype=np.uint8)
    (S_tr, S_te), stats = min_max_scale(X_tr, X_te)
    assert S_tr.dtype == np.float32
    np.testing.assert_allclose(S_tr, [[0, 0], [0.5, 0.5], [1, 1]])
    np.testing.assert_allclose(S_te, [[2.0, 0.0]])  # outside [0, 1]: fitted on train only
    np.testing.assert_allclose(stats.minimum, [0, 10])
    np.testing.assert_allclose(stats.apply(X_te), S_te)


def test_scaling_bad_arguments():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"standardize: expected others\[0\] to have feature shape \(3,\) .* got \(2,\)"):
        standardize(X, np.ones((4, 2)))
    with pytest.raises(ValueError, match="min_max_scale: expected axis to be 0 .* got 1"):
        min_max_scale(X, axis=1)
    with pytest.raises(ValueError, match=r"standardize: expected a non-empty training array, got shape \(0, 3\)"):
        standardize(np.ones((0, 3)))
