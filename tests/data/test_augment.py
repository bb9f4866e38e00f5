"""Data augmentation (chapter 10): shifts, padded random crops and flips against loop versions."""

import numpy as np
import pytest

from dlbook.data.augment import random_crop, random_hflip, random_shift, shift


def batch(shape=(4, 2, 5, 6), seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def shift_loop(x, dy, dx, fill=0.0):
    """The definition with Python loops: y[n, ..., i, j] = x[n, ..., i - dy, j - dx] or fill."""
    out = np.full_like(x, fill)
    H, W = x.shape[-2:]
    for n in range(len(x)):
        for i in range(H):
            for j in range(W):
                if 0 <= i - dy[n] < H and 0 <= j - dx[n] < W:
                    out[n, ..., i, j] = x[n, ..., i - dy[n], j - dx[n]]
    return out


def test_shift_matches_the_loop_definition_per_image():
    x = batch()
    dy, dx = np.array([0, 1, -2, 3]), np.array([2, -1, 0, -6])  # -6: the whole width
    out = shift(x, dy, dx, fill=-1.0)
    np.testing.assert_array_equal(out, shift_loop(x, dy, dx, fill=-1.0))
    assert out.shape == x.shape and out.dtype == x.dtype and out.flags.c_contiguous
    assert (out[3] == -1.0).all()


def test_shift_scalar_offsets_three_axis_batches_and_zero_shift():
    x = batch((3, 7, 7), dtype=np.float32)
    out = shift(x, 2, -1)
    np.testing.assert_array_equal(out, shift_loop(x, [2] * 3, [-1] * 3))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 2:, :-1], x[:, :-2, 1:])
    same = shift(x, 0, 0)
    np.testing.assert_array_equal(same, x)
    assert same is not x


def test_shift_larger_than_the_image_leaves_only_fill():
    x = batch((2, 1, 4, 4))
    out = shift(x, np.array([10, -10]), np.array([0, 0]), fill=0.5)
    assert (out == 0.5).all()


def test_random_shift_offsets_are_within_range_and_cover_it():
    x = np.zeros((400, 1, 9, 9))
    x[:, 0, 4, 4] = 1.0  # one bright pixel in the centre
    out = random_shift(x, 2, rng=0)
    positions = np.argwhere(out[:, 0] == 1.0)  # (n, i, j), one per image
    assert len(positions) == 400
    dy, dx = positions[:, 1] - 4, positions[:, 2] - 4
    assert set(dy) == set(dx) == set(range(-2, 3))
    np.testing.assert_array_equal(random_shift(x, 2, rng=0), out)  # seeded: reproducible
    np.testing.assert_array_equal(random_shift(x, 0, rng=1), x)


def test_random_crop_is_a_pad_then_crop():
    x = batch((5, 3, 6, 6))
    rng = np.random.default_rng(3)
    out = random_crop(x, 2, rng=3)
    oy, ox = rng.integers(0, 5, size=(2, 5))  # the corners random_crop draws
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for n in range(5):
        np.testing.assert_array_equal(out[n], padded[n, :, oy[n]:oy[n] + 6, ox[n]:ox[n] + 6])


def test_random_hflip_mirrors_about_half_and_keeps_the_rest():
    x = batch((200, 2, 3, 4))
    out = random_hflip(x, rng=0)
    flipped = np.array([np.array_equal(o, xi[..., ::-1]) for o, xi in zip(out, x)])
    kept = np.array([np.array_equal(o, xi) for o, xi in zip(out, x)])
    assert (flipped ^ kept).all() and 70 < flipped.sum() < 130
    np.testing.assert_array_equal(random_hflip(x, rng=0, p=0.0), x)
    np.testing.assert_array_equal(random_hflip(x, rng=0, p=1.0), x[..., ::-1])


def test_inputs_are_never_modified():
    x = batch()
    before = x.copy()
    shift(x, 1, 1)
    random_shift(x, 2, rng=0)
    random_crop(x, 2, rng=0)
    random_hflip(x, rng=0, p=1.0)
    np.testing.assert_array_equal(x, before)


IMAGES = np.zeros((2, 4, 4))


@pytest.mark.parametrize("call, error, message", [
    (lambda: shift(np.zeros((4, 4)), 1, 1), ValueError,
     r"shift expected a batch .*got shape \(4, 4\)"),
    (lambda: shift(np.zeros((2, 4, 4)), 0.5, 1), TypeError, "shift expected dy to be an int"),
    (lambda: shift(np.zeros((2, 4, 4)), np.array([1, 2, 3]), 1), ValueError,
     r"shift expected dy of shape \(2,\)"),
    (lambda: shift(np.array([["a"]]), 1, 1), TypeError, "shift expected x to be a real-valued"),
    (lambda: random_shift(np.zeros((2, 4, 4)), -1, rng=0), ValueError, "max_shift >= 0"),
    (lambda: random_shift(np.zeros((2, 4, 4)), 1.5, rng=0), TypeError, "max_shift to be an int"),
    (lambda: random_crop(np.zeros((2, 4, 4)), -2, rng=0), ValueError, "padding >= 0"),
    (lambda: random_crop(IMAGES, 1, rng="seed"), TypeError, "random_crop: expected rng"),
    (lambda: random_hflip(IMAGES, rng=0, p=1.5), ValueError, r"probability in \[0, 1\]"),
])
def test_bad_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()
