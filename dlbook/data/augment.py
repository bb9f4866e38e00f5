"""Data augmentation for image batches: shifts, padded random crops, horizontal flips (chapter 10).

Augmentation trains on label-preserving transformations of the training
images, drawn afresh every epoch: a digit moved by a pixel or two is still the
same digit, a mirrored cat is still a cat. Every function takes a batch whose
last two axes are height and width, (N, C, H, W) or (N, H, W), returns a new
array of the same shape and dtype, and never modifies its input. Randomness
comes from an explicit ``numpy.random.Generator`` (or an int seed).

* :func:`shift` moves every image by given integer offsets, filling the
  uncovered border (the building block, also used to *measure* how a network
  reacts to translation);
* :func:`random_shift` draws the offsets uniformly in [-max_shift, max_shift]
  (digits: a shift of 1-2 pixels);
* :func:`random_crop` pads by ``padding`` and crops a random H x W window,
  which is the same distribution of images as ``random_shift(x, padding)``
  (CIFAR-10's standard pad-4 crop, ``torchvision.transforms.RandomCrop``);
* :func:`random_hflip` mirrors each image left-right with probability ``p``
  (for natural images, never for digits: a mirrored 2 is not a 2).
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_non_negative_int
from dlbook.utils import make_rng

Seed = int | np.random.Generator | None


def _check_images(x, where: str) -> np.ndarray:
    """A float array with at least (N, H, W) axes."""
    x = as_float_array(x, where)
    if x.ndim < 3:
        raise ValueError(f"{where} expected a batch of shape (N, C, H, W) or (N, H, W); "
                         f"got shape {x.shape}")
    return x


def _offsets(value, n: int, where: str, name: str) -> np.ndarray:
    """An int or an (N,) integer array -> an (N,) int64 array of per-image offsets."""
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{where} expected {name} to be an int or an integer array of shape "
                        f"({n},); got {value!r}")
    if arr.ndim == 0:
        return np.full(n, int(arr), dtype=np.int64)
    if arr.shape != (n,):
        raise ValueError(f"{where} expected {name} of shape ({n},) (one per image); "
                         f"got shape {arr.shape}")
    return arr.astype(np.int64)


def shift(x: np.ndarray, dy, dx, fill: float = 0.0) -> np.ndarray:
    """y[n, ..., i, j] = x[n, ..., i - dy[n], j - dx[n]], and ``fill`` where that is outside.

    Shapes: x (N, C, H, W) or (N, H, W) -> the same shape; ``dy``, ``dx`` ints or
    (N,) integer arrays (one offset per image). Positive dy moves the content
    down, positive dx moves it right; content pushed past the border is lost.
    """
    x = _check_images(x, "shift")
    N, H, W = x.shape[0], x.shape[-2], x.shape[-1]
    dy, dx = _offsets(dy, N, "shift", "dy"), _offsets(dx, N, "shift", "dx")
    pad_h = int(min(np.abs(dy).max(initial=0), H))  # wider shifts lose everything anyway
    pad_w = int(min(np.abs(dx).max(initial=0), W))
    width = [(0, 0)] * (x.ndim - 2) + [(pad_h, pad_h), (pad_w, pad_w)]
    xp = np.pad(x, width, constant_values=fill)  # (N, ..., H + 2 pad_h, W + 2 pad_w)
    top = pad_h - np.clip(dy, -pad_h, pad_h)  # row of xp that becomes output row 0
    left = pad_w - np.clip(dx, -pad_w, pad_w)
    rows = top[:, None] + np.arange(H)  # (N, H)
    cols = left[:, None] + np.arange(W)  # (N, W)
    moved = np.moveaxis(xp, (-2, -1), (1, 2))  # (N, Hp, Wp, ...): the indexed axes first
    out = moved[np.arange(N)[:, None, None], rows[:, :, None], cols[:, None, :]]  # (N, H, W, ...)
    return np.ascontiguousarray(np.moveaxis(out, (1, 2), (-2, -1)))


def random_shift(x: np.ndarray, max_shift: int, rng: Seed = None, fill: float = 0.0) -> np.ndarray:
    """Shift each image by its own (dy, dx), each uniform in {-max_shift, ..., max_shift}.

    Shapes: x (N, C, H, W) or (N, H, W) -> the same shape. The border is ``fill``
    (0, the background of MNIST digits). ``max_shift=0`` returns a copy.
    """
    x = _check_images(x, "random_shift")
    max_shift = check_non_negative_int(max_shift, "random_shift", "max_shift")
    rng = make_rng(rng, "random_shift")
    dy, dx = rng.integers(-max_shift, max_shift + 1, size=(2, x.shape[0]))
    return shift(x, dy, dx, fill)


def random_crop(x: np.ndarray, padding: int, rng: Seed = None, fill: float = 0.0) -> np.ndarray:
    """Pad H and W by ``padding`` on every side with ``fill``, then crop a random H x W window.

    Shapes: x (N, C, H, W) or (N, H, W) -> the same shape. A window whose top-left
    corner is (oy, ox), with oy, ox uniform in {0, ..., 2 padding}, shows the image
    shifted by (padding - oy, padding - ox); so this is :func:`random_shift` with
    ``max_shift=padding``, and the crop is what ``RandomCrop(32, padding=4)`` does
    to CIFAR-10 images in torchvision.
    """
    x = _check_images(x, "random_crop")
    padding = check_non_negative_int(padding, "random_crop", "padding")
    rng = make_rng(rng, "random_crop")
    oy, ox = rng.integers(0, 2 * padding + 1, size=(2, x.shape[0]))  # corners in the padded image
    return shift(x, padding - oy, padding - ox, fill)


def random_hflip(x: np.ndarray, rng: Seed = None, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right (reverse the W axis) with probability ``p``.

    Shapes: x (N, C, H, W) or (N, H, W) -> the same shape.
    """
    x = _check_images(x, "random_hflip")
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"random_hflip expected p, a probability in [0, 1]; got {p!r}")
    rng = make_rng(rng, "random_hflip")
    flip = rng.random(x.shape[0]) < p  # (N,) which images to mirror
    out = x.copy()
    out[flip] = x[flip][..., ::-1]
    return out
