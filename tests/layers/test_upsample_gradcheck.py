"""Gradient checks and unit tests of the chapter 19 layers: Upsample, MaxUnpool2d, ConvTranspose2d.

One generic checker (dlbook.diagnostics.gradcheck.check_layer) runs over a REGISTRY of
float64 cases; each case also checks that dout is left untouched and that
parameter gradients accumulate until zero_grad. MaxUnpool2d takes the
pooling indices as a second argument, so its cases bind a fixed set of
distinct indices (:class:`BoundUnpool`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from dlbook.layers import Conv2d, MaxPool2d
from dlbook.layers.conv_transpose import (ConvTranspose2d, conv_transpose2d,
                                          conv_transpose_output_size)
from dlbook.layers.unpool import MaxUnpool2d, check_pool_indices, unpool_output_size
from dlbook.layers.upsample import Upsample, interpolation_matrix
from layer_protocol import (assert_accumulates_until_zero_grad, assert_dout_unchanged,
                            assert_gradients_match_numerical, random_case)

F64 = np.float64


class BoundUnpool(MaxUnpool2d):
    """MaxUnpool2d with its indices fixed: the one-argument forward the checker calls."""

    def __init__(self, kernel_size, stride, padding, x_shape, output_size, rng):
        super().__init__(kernel_size, stride, padding)
        pool = MaxPool2d(kernel_size, stride, padding)
        pool(rng.normal(size=output_size))  # distinct maxima positions when windows do not overlap
        assert pool.indices.shape == x_shape
        self.bound_indices, self.bound_size = pool.indices, output_size

    def forward(self, x, indices=None, output_size=None):
        return super().forward(x, self.bound_indices, self.bound_size)


@dataclass(frozen=True)
class Case:
    name: str
    factory: Callable[[np.random.Generator], object]  # rng -> layer with float64 parameters
    shape: tuple[int, ...]  # input shape


def convT(*args, **kwargs):
    return lambda rng: ConvTranspose2d(*args, rng=rng, dtype=F64, **kwargs)


REGISTRY = [
    Case("Upsample-nearest-2", lambda rng: Upsample(2), (2, 3, 4, 5)),
    Case("Upsample-nearest-(3,2)", lambda rng: Upsample((3, 2)), (2, 2, 3, 4)),
    Case("Upsample-bilinear-2", lambda rng: Upsample(2, "bilinear"), (2, 3, 4, 5)),
    Case("Upsample-bilinear-3-odd", lambda rng: Upsample(3, "bilinear"), (1, 2, 5, 3)),
    Case("Upsample-bilinear-corners", lambda rng: Upsample((2, 3), "bilinear", True), (2, 2, 4, 3)),
    Case("MaxUnpool2d-2", lambda rng: BoundUnpool(2, 2, 0, (2, 3, 3, 4), (2, 3, 6, 8), rng),
         (2, 3, 3, 4)),
    Case("MaxUnpool2d-odd-size", lambda rng: BoundUnpool(2, 2, 0, (2, 2, 3, 2), (2, 2, 7, 5), rng),
         (2, 2, 3, 2)),
    Case("MaxUnpool2d-padded", lambda rng: BoundUnpool(3, 3, 1, (1, 2, 3, 3), (1, 2, 8, 9), rng),
         (1, 2, 3, 3)),
    Case("ConvTranspose2d", convT(3, 4, 3), (2, 3, 4, 5)),
    Case("ConvTranspose2d-stride2-pad1-outpad1", convT(3, 2, 3, stride=2, padding=1,
                                                       output_padding=1), (2, 3, 4, 3)),
    Case("ConvTranspose2d-k2-s2", convT(2, 3, 2, stride=2), (2, 2, 3, 4)),
    Case("ConvTranspose2d-rect-no-bias", convT(2, 3, (3, 2), stride=(2, 3), padding=(1, 0),
                                               output_padding=(0, 2), bias=False), (2, 2, 3, 3)),
    Case("ConvTranspose2d-dilated", convT(2, 2, 3, stride=2, padding=2, dilation=2), (1, 2, 4, 4)),
]


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.name)
def test_gradients_and_the_layer_protocol(case):
    """Numerical gradients, dout untouched, gradients accumulate until zero_grad (a fresh layer each)."""
    assert_gradients_match_numerical(*random_case(case.factory, case.shape), case.name)
    assert_dout_unchanged(*random_case(case.factory, case.shape))
    assert_accumulates_until_zero_grad(*random_case(case.factory, case.shape))


def test_conv_transpose_is_the_adjoint_and_the_input_gradient_of_conv2d():
    rng = np.random.default_rng(3)
    conv = Conv2d(3, 4, 3, stride=2, padding=1, bias=False, rng=0, dtype=F64)
    x = rng.normal(size=(2, 3, 7, 8))
    y = conv(x)
    v = rng.normal(size=y.shape)
    up = conv_transpose2d(v, conv.params["W"], None, (2, 2), (1, 1), (0, 1))
    assert up.shape == x.shape  # output_padding (0, 1) recovers the even width 8
    assert abs(np.sum(y * v) - np.sum(x * up)) < 1e-10 * np.abs(y * v).sum()  # <Kx, v> = <x, K^T v>
    np.testing.assert_allclose(conv.backward(v), up, atol=1e-12)  # dx of conv = K^T dout


def test_output_size_formulas():
    assert conv_transpose_output_size(7, 3, 2, 1, 1) == 14
    assert conv_transpose_output_size(4, 4, 2, 1) == 8
    assert conv_transpose_output_size(3, 3, 1, 0, 0, 2) == 7
    assert unpool_output_size(4, 2, 2, 0) == 8 and unpool_output_size(4, 3, 2, 1) == 7
    layer = ConvTranspose2d(2, 5, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2))
    assert layer.output_shape((4, 2, 6, 5)) == (4, 5, 12, 16)
    assert layer(np.zeros((4, 2, 6, 5), dtype=np.float32)).dtype == np.float32


def test_interpolation_matrices():
    A = interpolation_matrix(3, 2)
    np.testing.assert_array_equal(A.argmax(axis=1), [0, 0, 1, 1, 2, 2])
    for corners in (False, True):
        B = interpolation_matrix(4, 3, "bilinear", corners)
        assert B.shape == (12, 4) and np.allclose(B.sum(axis=1), 1.0) and (B >= 0).all()
    np.testing.assert_allclose(interpolation_matrix(2, 2, "bilinear")[:, 0], [1, 0.75, 0.25, 0])
    np.testing.assert_allclose(interpolation_matrix(3, 2, "bilinear", True)[:, 0],
                               [1, 0.6, 0.2, 0, 0, 0])
    assert interpolation_matrix(1, 3, "bilinear", True).tolist() == [[1.0]] * 3


def test_upsample_nearest_repeats_pixels_and_keeps_dtype():
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)
    y = Upsample((2, 3))(x)
    assert y.shape == (1, 1, 4, 9) and y.dtype == np.float32
    np.testing.assert_array_equal(y[0, 0, 1], [0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert Upsample(2, "bilinear")(x).dtype == np.float32
    assert "bilinear" in repr(Upsample(2, "bilinear")) and "align" not in repr(Upsample(2))


def test_unpool_undoes_the_placement_of_max_pooling():
    x = np.abs(np.random.default_rng(4).normal(size=(2, 3, 6, 6))) + 0.1  # maxima above the zeros
    pool, unpool = MaxPool2d(2), MaxUnpool2d(2)
    y = unpool(pool(x), pool.indices)
    kept = y != 0
    np.testing.assert_array_equal(y[kept], x[kept])  # maxima back in place
    assert kept.sum() == x.size // 4  # one per window
    np.testing.assert_array_equal(MaxPool2d(2)(y), pool(x))  # pooling again gives the same
    assert check_pool_indices(pool.indices, (2, 3, 3, 3), 36).dtype == np.int64
    assert repr(unpool) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"


def test_bad_inputs_are_rejected_with_clear_messages():
    x = np.zeros((1, 1, 2, 2))
    with pytest.raises(ValueError, match="Upsample expected mode"):
        Upsample(2, "bicubic")
    with pytest.raises(ValueError, match="align_corners=True only"):
        Upsample(2, align_corners=True)
    with pytest.raises(TypeError, match="align_corners to be a bool"):
        Upsample(2, "bilinear", align_corners=1)
    with pytest.raises(TypeError, match="scale_factor"):
        Upsample(1.5)
    with pytest.raises(ValueError, match="scale_factor >= 1"):
        Upsample(0)
    with pytest.raises(ValueError, match=r"Upsample.forward expected x of shape \(N, C, H, W\)"):
        Upsample(2)(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="interpolation_matrix expected size"):
        interpolation_matrix(0, 2)
    up = Upsample(2)
    with pytest.raises(RuntimeError, match="before forward"):
        up.backward(np.zeros((1, 1, 4, 4)))
    up(x)
    with pytest.raises(ValueError, match=r"dout of shape \(1, 1, 4, 4\)"):
        up.backward(np.zeros((1, 1, 2, 2)))
    unpool, idx = MaxUnpool2d(2), np.zeros((1, 1, 2, 2), dtype=np.int64)
    with pytest.raises(TypeError, match="integer indices"):
        unpool(x, idx.astype(float))
    with pytest.raises(ValueError, match="indices of the shape of x"):
        unpool(x, idx[..., :1])
    with pytest.raises(ValueError, match=r"indices in \[0, 16\)"):
        unpool(x, idx + 16)
    with pytest.raises(ValueError, match="within one stride"):
        unpool(x, idx, output_size=(6, 4))
    with pytest.raises(ValueError, match="output_size"):
        unpool(x, idx, output_size=(4,))
    with pytest.raises(ValueError, match=r"MaxUnpool2d.forward expected x of shape"):
        unpool(np.zeros((2, 2)), idx)
    with pytest.raises(ValueError, match="output_padding smaller than stride"):
        ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="in_channels"):
        ConvTranspose2d(0, 1, 3)
    with pytest.raises(ValueError, match=r"expected x of shape \(N, 3, H, W\)"):
        ConvTranspose2d(3, 1, 3)(x)
    with pytest.raises(ValueError, match="leaves no output"):
        ConvTranspose2d(1, 1, 1, padding=1)(np.zeros((1, 1, 1, 1)))
    with pytest.raises(TypeError, match="rng"):
        ConvTranspose2d(1, 1, 3, rng="seed")
