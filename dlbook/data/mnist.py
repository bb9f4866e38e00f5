"""Full MNIST and Fashion-MNIST: download once, verify, parse the IDX files (used from chapter 4 on).

The chapters run offline on ``load_mnist_sample`` by default; these loaders
are for the full-scale runs. Files are fetched with ``dlbook.data.download``
(SHA-256 verified, atomic writes, mirrors) into ``<cache>/mnist`` and
``<cache>/fashion-mnist`` and parsed with ``dlbook.data.idx.read_idx``.

References: LeCun, Bottou, Bengio and Haffner (1998) for MNIST; Xiao, Rasul
and Vollgraf (2017) for Fashion-MNIST.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .download import Opener, fetch
from .idx import read_idx

__all__ = [
    "load_mnist",
    "load_fashion_mnist",
    "MNIST_SHA256",
    "FASHION_MNIST_SHA256",
    "MNIST_MIRRORS",
    "FASHION_MNIST_MIRRORS",
    "FASHION_MNIST_CLASSES",
]

IMAGE_SIDE = 28
N_CLASSES = 10
PIXEL_MAX = 255.0
SPLITS = ("train", "test")
SPLIT_FILES: dict[str, tuple[str, str]] = {  # split -> (images, labels)
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# Sizes: 9,912,422 / 28,881 / 1,648,877 / 4,542 bytes.
MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

FASHION_MNIST_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
# Sizes: 26,421,880 / 29,515 / 4,422,102 / 5,148 bytes.
FASHION_MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


@dataclass(frozen=True)
class _IdxDataset:
    """Where one MNIST-format dataset lives and how to check it."""

    name: str
    subdir: str
    mirrors: tuple[str, ...]


MNIST = _IdxDataset("load_mnist", "mnist", MNIST_MIRRORS)
FASHION_MNIST = _IdxDataset("load_fashion_mnist", "fashion-mnist", FASHION_MNIST_MIRRORS)


def _validate(images: np.ndarray, labels: np.ndarray, where: str) -> None:
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE) or images.dtype != np.uint8:
        raise ValueError(f"{where}: expected uint8 images of shape (N, 28, 28), "
                         f"got {images.dtype} {images.shape}")
    if labels.shape != (len(images),):
        raise ValueError(f"{where}: expected {len(images)} labels to match the images, "
                         f"got shape {labels.shape}")
    if labels.size and labels.max() >= N_CLASSES:
        raise ValueError(f"{where}: expected labels in 0..9, got a maximum of {labels.max()}")


def _load(dataset: _IdxDataset, checksums: dict[str, str], split: str, root, download: bool,
          normalize: bool, urlopen: Opener | None, progress: bool):
    if split not in SPLITS:
        raise ValueError(f"{dataset.name}: expected split in {SPLITS}, got {split!r}")
    paths = []
    for filename in SPLIT_FILES[split]:
        if filename not in checksums:
            raise ValueError(f"{dataset.name}: expected a sha256 for {filename!r} in the "
                             f"checksums, got keys {sorted(checksums)}")
        urls = [mirror + filename for mirror in dataset.mirrors]
        paths.append(fetch(urls, filename, checksums[filename], dataset.subdir, root=root,
                           download=download, urlopen=urlopen, progress=progress))
    images = read_idx(paths[0], expected_ndim=3)  # (N, 28, 28) uint8
    labels = read_idx(paths[1], expected_ndim=1)  # (N,) uint8
    _validate(images, labels, dataset.name)
    X = (images / np.float32(PIXEL_MAX)).astype(np.float32) if normalize else images
    return X, labels.astype(np.int64)


def load_mnist(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    normalize: bool = True,
    *,
    checksums: dict[str, str] | None = None,
    urlopen: Opener | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST handwritten digits, 60,000 train / 10,000 test (used from chapter 4 on).

    Files are cached in ``<root>/mnist`` (``root`` defaults to
    ``dlbook.data.download.cache_dir()``) and verified against
    ``MNIST_SHA256`` (or ``checksums``, for tests with fixture files).

    Shapes:
        X: (N, 28, 28) float32 in [0, 1], or uint8 0..255 with ``normalize=False``
        y: (N,) int64 in 0..9
    """
    sums = MNIST_SHA256 if checksums is None else checksums
    return _load(MNIST, sums, split, root, download, normalize, urlopen, progress)


def load_fashion_mnist(
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = True,
    normalize: bool = True,
    *,
    checksums: dict[str, str] | None = None,
    urlopen: Opener | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST, Zalando's 28x28 clothing images, 60,000 / 10,000 (used from chapter 4 on).

    Same file names and format as MNIST, cached separately in
    ``<root>/fashion-mnist`` and verified against ``FASHION_MNIST_SHA256``.
    Class names are in ``FASHION_MNIST_CLASSES``.

    Shapes:
        X: (N, 28, 28) float32 in [0, 1], or uint8 0..255 with ``normalize=False``
        y: (N,) int64 in 0..9
    """
    sums = FASHION_MNIST_SHA256 if checksums is None else checksums
    return _load(FASHION_MNIST, sums, split, root, download, normalize, urlopen, progress)
