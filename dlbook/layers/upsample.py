"""Upsampling by an integer factor: nearest-neighbour and bilinear interpolation (chapter 19).

Both modes are *linear* maps of the input, applied to the height and the width
separately. Along one axis of length n, upsampling by an integer s gives
n_out = s n values, each a weighted sum of at most two input values:

    y[i] = sum_h A[i, h] x[h],      A (n_out, n): the interpolation matrix,

so a 2-D upsample is y = A_h x A_w^T for every (n, c) plane, and its backward
pass is the transposed map, dx = A_h^T dout A_w. Nothing is learned.

* **nearest**: output pixel i copies input pixel floor(i / s), so every pixel
  becomes an s x s block; dx sums dout over each block.
* **bilinear**: output pixel i sits at the input coordinate
  src = (i + 0.5) / s - 0.5 (pixel *centres* aligned, ``align_corners=False``,
  clamped at 0) or src = i (n - 1) / (n_out - 1) (the corner pixels aligned,
  ``align_corners=True``), and mixes its two neighbours floor(src) and
  floor(src) + 1 (the last pixel repeats at the border) with weights
  1 - (src - floor(src)) and src - floor(src).

These are the index and coordinate rules of ``torch.nn.functional.interpolate``
with an integer ``scale_factor``, so the two agree to rounding.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array
from dlbook.layers.base import Layer
from dlbook.layers.im2col import IntOrPair, as_pair

UPSAMPLE_MODES = ("nearest", "bilinear")
"""The interpolation modes :class:`Upsample` implements."""


def interpolation_matrix(size: int, scale: int, mode: str = "nearest",
                         align_corners: bool = False) -> np.ndarray:
    """A[i, h]: the weight of input pixel h in output pixel i when one axis is upsampled.

    Shapes: ints in -> A (scale * size, size) float64; every row sums to 1.
    ``mode`` is ``"nearest"`` (one 1 per row, at floor(i / scale)) or
    ``"bilinear"`` (two weights per row, the rules of the module docstring).
    Chapter 19 plots these matrices.
    """
    for name, value in (("size", size), ("scale", scale)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"interpolation_matrix expected {name} to be an int >= 1; "
                             f"got {value!r}")
    _check_mode(mode, align_corners, "interpolation_matrix")
    n_out = size * scale
    dst = np.arange(n_out, dtype=np.float64)
    A = np.zeros((n_out, size))
    if mode == "nearest":
        A[np.arange(n_out), np.arange(n_out) // scale] = 1.0
        return A
    if align_corners:
        step = (size - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = step * dst  # the first and last pixel centres line up exactly
    else:
        src = np.maximum((dst + 0.5) / scale - 0.5, 0.0)  # pixel centres line up; clamp at 0
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, size - 1)  # the last pixel is its own right neighbour
    frac = src - lo  # weight of the right neighbour
    rows = np.arange(n_out)
    np.add.at(A, (rows, lo), 1.0 - frac)  # add.at: lo == hi at the border, weights sum there
    np.add.at(A, (rows, hi), frac)
    return A


def _check_mode(mode: str, align_corners: bool, where: str) -> None:
    if mode not in UPSAMPLE_MODES:
        raise ValueError(f"{where} expected mode to be one of {UPSAMPLE_MODES}; got {mode!r}")
    if not isinstance(align_corners, (bool, np.bool_)):
        raise TypeError(f"{where} expected align_corners to be a bool; "
                        f"got {type(align_corners).__name__}")
    if align_corners and mode == "nearest":
        raise ValueError(f"{where}: align_corners=True only applies to mode='bilinear' "
                         f"(as in PyTorch); got mode='nearest'")


class Upsample(Layer):
    """y[n, c] = A_h x[n, c] A_w^T: every plane enlarged by integer factors (s_h, s_w).

    Shapes: x (N, C, H, W) -> y (N, C, s_h H, s_w W). ``scale_factor`` is an
    int or an (s_h, s_w) pair of ints >= 1; ``mode`` is ``"nearest"`` or
    ``"bilinear"``; ``align_corners`` (bilinear only) as in
    ``torch.nn.Upsample``. No parameters. Nearest runs as ``np.repeat`` forward
    and a block sum backward; bilinear as products with the interpolation
    matrices of :func:`interpolation_matrix` (cached per input size).
    Chapter 19 derives both and checks them against PyTorch.
    """

    def __init__(self, scale_factor: IntOrPair = 2, mode: str = "nearest",
                 align_corners: bool = False) -> None:
        super().__init__()
        self.scale_factor = as_pair(scale_factor, "Upsample", "scale_factor", 1)
        _check_mode(mode, align_corners, "Upsample")
        self.mode, self.align_corners = mode, bool(align_corners)
        self._matrices: dict[tuple[int, int, str], np.ndarray] = {}
        self._x_shape: tuple[int, ...] | None = None
        self._dtype = None

    def output_shape(self, x_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """(N, C, H, W) -> (N, C, s_h H, s_w W)."""
        N, C, H, W = x_shape
        return N, C, H * self.scale_factor[0], W * self.scale_factor[1]

    def _matrix(self, size: int, scale: int, dtype) -> np.ndarray:
        """The (scale * size, size) interpolation matrix in ``dtype``, built once per size."""
        key = (size, scale, np.dtype(dtype).str)
        if key not in self._matrices:
            A = interpolation_matrix(size, scale, self.mode, self.align_corners)
            self._matrices[key] = A.astype(dtype)
        return self._matrices[key]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Interpolate. (N, C, H, W) -> (N, C, s_h H, s_w W)."""
        x = as_float_array(x, "Upsample.forward")
        if x.ndim != 4:
            raise ValueError(f"Upsample.forward expected x of shape (N, C, H, W); "
                             f"got shape {x.shape}")
        self._x_shape, self._dtype = x.shape, x.dtype
        sh, sw = self.scale_factor
        if self.mode == "nearest":  # each pixel becomes an sh x sw block
            return x.repeat(sh, axis=2).repeat(sw, axis=3)
        A_h, A_w = self._matrix(x.shape[2], sh, x.dtype), self._matrix(x.shape[3], sw, x.dtype)
        return A_h @ x @ A_w.T  # (Ho, H) @ (N, C, H, W) @ (W, Wo) -> (N, C, Ho, Wo)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = A_h^T dout A_w (nearest: the sum over each block). (N, C, Ho, Wo) -> (N, C, H, W)."""
        shape = self._cached(self._x_shape)
        dout = self._check_dout(dout, self.output_shape(shape))
        N, C, H, W = shape
        sh, sw = self.scale_factor
        dtype = np.result_type(self._dtype, dout.dtype)
        if self.mode == "nearest":  # (N, C, H sh, W sw) -> (N, C, H, sh, W, sw), sum the blocks
            return dout.reshape(N, C, H, sh, W, sw).sum(axis=(3, 5)).astype(dtype, copy=False)
        A_h, A_w = self._matrix(H, sh, dtype), self._matrix(W, sw, dtype)
        return A_h.T @ dout @ A_w  # (H, Ho) @ (N, C, Ho, Wo) @ (Wo, W) -> (N, C, H, W)

    def __repr__(self) -> str:
        corners = f", align_corners={self.align_corners}" if self.mode == "bilinear" else ""
        return f"Upsample(scale_factor={self.scale_factor}, mode={self.mode!r}{corners})"
