"""Pooling, Flatten and Transpose (chapter 10): gradient checks, naive loops, ties, errors.

The vectorised layers are checked three ways without PyTorch: against float64
central differences (dlbook.diagnostics.gradcheck) over a grid of kernel / stride /
padding / odd and non-square sizes, against plain Python loops written from
the definition (CS231n's "naive vs fast"), and on hand-made inputs whose
answer is known (ties, overlapping windows, padding). Max-pool inputs for the
gradient checks are a scaled random permutation: no ties, and every gap
(0.1) is far wider than the difference step, so no argmax flips.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer
from dlbook.layers import Linear, ReLU, Sequential
from dlbook.layers.pool import AvgPool2d, MaxPool2d, pool_output_size
from dlbook.layers.pool1d import GlobalMaxPool1d, MaxPool1d, Transpose
from dlbook.layers.reshape import Flatten

GAP = 0.1
"""Distance between neighbouring values of a tie-free input (>> the gradcheck step)."""

SHAPES = [(2, 3, 7, 6), (1, 2, 5, 8)]  # odd and non-square planes
GRID = list(itertools.product([2, 3, (2, 3)], [1, 2, 3], [0, 1]))  # kernel, stride, padding
GRID_IDS = [f"k{k}-s{s}-p{p}" for k, s, p in GRID]


def distinct(shape, seed=0):
    """Values GAP apart in random order, none of them 0 (a ReLU kink): no two entries tie."""
    size = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(size) + 0.5 - size // 2).reshape(shape) * GAP


def naive_pool(x, kernel, stride, padding, kind):
    """Pooling written from its definition with Python loops: returns (y, backward(dout))."""
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    (kh, kw), (sh, sw), (ph, pw) = pair(kernel), pair(stride), pair(padding)
    N, C, H, W = x.shape
    fill = -np.inf if kind == "max" else 0.0
    xp = np.full((N, C, H + 2 * ph, W + 2 * pw), fill)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    H_out, W_out = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    y = np.empty((N, C, H_out, W_out))
    routes = {}  # (n, c, i, j) -> list of (padded row, col, weight)
    for n, c, i, j in itertools.product(range(N), range(C), range(H_out), range(W_out)):
        cells = [(i * sh + a, j * sw + b) for a in range(kh) for b in range(kw)]
        if kind == "max":
            best = max(cells, key=lambda cell: xp[n, c][cell])  # the first maximum wins
            y[n, c, i, j] = xp[n, c][best]
            routes[n, c, i, j] = [(*best, 1.0)]
        else:
            y[n, c, i, j] = sum(xp[n, c][cell] for cell in cells) / (kh * kw)
            routes[n, c, i, j] = [(*cell, 1.0 / (kh * kw)) for cell in cells]

    def backward(dout):
        dxp = np.zeros(xp.shape)
        for (n, c, i, j), cells in routes.items():
            for r, s, weight in cells:
                dxp[n, c, r, s] += weight * dout[n, c, i, j]
        return dxp[:, :, ph:ph + H, pw:pw + W]

    return y, backward


LAYERS_2D = {"max": MaxPool2d, "avg": AvgPool2d}


# -- gradient checks over the grid -------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kernel, stride, padding", GRID, ids=GRID_IDS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_gradients(kind, kernel, stride, padding, shape):
    x = distinct(shape) if kind == "max" else np.random.default_rng(1).normal(size=shape)
    errors = check_layer(LAYERS_2D[kind](kernel, stride, padding), x)
    assert errors["x"] < GRADCHECK_TOL, errors


@pytest.mark.parametrize("kernel, stride, padding", [(2, 1, 0), (3, 2, 1), (3, 1, 1), (4, 3, 2)])
def test_maxpool1d_gradients(kernel, stride, padding):
    assert check_layer(MaxPool1d(kernel, stride, padding), distinct((2, 3, 9)))["x"] < GRADCHECK_TOL


@pytest.mark.parametrize("layer, shape", [
    (GlobalMaxPool1d(), (3, 4, 7)), (Flatten(), (2, 3, 4, 5)), (Flatten(0, 2), (2, 3, 4)),
    (Flatten(-2, -1), (2, 3, 4)), (Transpose(1, 2), (2, 5, 3)), (Transpose(0, -1), (2, 3, 4)),
], ids=repr)
def test_other_gradients(layer, shape):
    assert check_layer(layer, distinct(shape))["x"] < GRADCHECK_TOL


def test_text_cnn_stack_gradients():
    """Embeddings (N, L, E) -> Transpose -> pool over time -> Linear: the chapter's text model."""
    net = Sequential(Transpose(1, 2), MaxPool1d(2, 1), ReLU(), GlobalMaxPool1d(),
                     Linear(4, 3, rng=0, dtype=np.float64))
    errors = check_layer(net, distinct((2, 6, 4)))
    assert max(errors.values()) < GRADCHECK_TOL, errors


# -- the vectorised layers equal plain loops ----------------------------------------------

@pytest.mark.parametrize("kernel, stride, padding", GRID, ids=GRID_IDS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_equals_naive_loops(kind, kernel, stride, padding):
    rng = np.random.default_rng(2)
    x = rng.integers(-3, 4, size=(2, 2, 7, 6)).astype(float)  # many ties: first max must win
    y_ref, backward_ref = naive_pool(x, kernel, stride, padding, kind)
    layer = LAYERS_2D[kind](kernel, stride, padding)
    y = layer(x)
    assert y.shape == layer.output_shape(x.shape) == y_ref.shape
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    dout = rng.normal(size=y.shape)
    np.testing.assert_allclose(layer.backward(dout), backward_ref(dout), rtol=1e-12, atol=1e-12)


# -- known answers: output size, ties, overlap, padding, indices ---------------------------

@pytest.mark.parametrize("size, kernel, stride, padding, expected", [
    (7, 2, 2, 0, 3),  # floor(5 / 2) + 1: the last row is dropped
    (8, 2, 2, 0, 4), (7, 3, 2, 1, 4), (5, 3, 3, 0, 1), (6, 3, 1, 1, 6), (3, 3, 1, 0, 1),
])
def test_output_size_uses_floor(size, kernel, stride, padding, expected):
    assert pool_output_size(size, kernel, stride, padding) == expected
    y = MaxPool2d(kernel, stride, padding)(np.zeros((1, 1, size, size)))
    assert y.shape == (1, 1, expected, expected)


def test_ties_send_the_gradient_to_the_first_maximum():
    """All four cells tie: only the top-left one (row-major first) gets dout, as in PyTorch."""
    pool = MaxPool2d(2)
    assert pool(np.full((1, 1, 2, 2), 3.0)).item() == 3.0
    assert pool.indices.tolist() == [[[[0]]]]
    np.testing.assert_array_equal(pool.backward(np.full((1, 1, 1, 1), 5.0)), [[[[5, 0], [0, 0]]]])
    x = np.array([[[[1.0, 7.0], [7.0, 7.0]]]])  # three tied maxima: the first in row order wins
    pool(x)
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1))), [[[[0, 1.0], [0, 0]]]])


def test_overlapping_windows_accumulate():
    """A unique maximum in the middle of 5x5 is the max of all nine 3x3 windows around it."""
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    pool = MaxPool2d(3, stride=1, padding=1)
    dout = np.random.default_rng(3).normal(size=pool(x).shape)
    assert np.isclose(pool.backward(dout)[0, 0, 2, 2], dout[0, 0, 1:4, 1:4].sum())  # 9 windows
    avg = AvgPool2d(2, stride=1)
    avg(np.ones((1, 1, 3, 3)))
    np.testing.assert_allclose(avg.backward(np.ones((1, 1, 2, 2))),
                               [[[[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]]])


def test_padding_never_wins_max_and_counts_in_the_average():
    x = np.full((1, 1, 3, 3), -5.0)  # padding is -inf for max pooling, not 0:
    assert np.all(MaxPool2d(2, stride=2, padding=1)(x) == -5.0)
    y = AvgPool2d(2, stride=2, padding=1)(np.ones((1, 1, 3, 3)))
    np.testing.assert_allclose(y, [[[[0.25, 0.5], [0.5, 1.0]]]])  # zeros count: divisor is 4


@pytest.mark.parametrize("kernel, stride, padding", GRID, ids=GRID_IDS)
def test_indices_point_at_the_maxima_in_the_unpadded_plane(kernel, stride, padding):
    x = distinct((2, 3, 7, 6), seed=4)
    pool = MaxPool2d(kernel, stride, padding)
    y = pool(x)
    assert pool.indices.dtype == np.int64 and pool.indices.shape == y.shape
    assert pool.indices.min() >= 0 and pool.indices.max() < 7 * 6
    gathered = np.take_along_axis(x.reshape(2, 3, -1), pool.indices.reshape(2, 3, -1), axis=2)
    np.testing.assert_array_equal(gathered.reshape(y.shape), y)


def test_maxpool1d_is_maxpool2d_on_a_single_row():
    x = distinct((2, 3, 9), seed=5)
    p1, p2 = MaxPool1d(3, 2, 1), MaxPool2d((1, 3), (1, 2), (0, 1))
    y = p1(x)
    np.testing.assert_array_equal(y, p2(x[:, :, None, :])[:, :, 0, :])
    np.testing.assert_array_equal(p1.indices, p2.indices[:, :, 0, :])
    dout = np.random.default_rng(5).normal(size=y.shape)
    np.testing.assert_array_equal(p1.backward(dout), p2.backward(dout[:, :, None, :])[:, :, 0])
    assert MaxPool1d(4).stride == 4


def test_global_max_pool_is_max_pool_with_a_full_window_including_ties():
    x = np.random.default_rng(6).integers(0, 3, size=(3, 4, 6)).astype(float)  # ties
    gmp, full = GlobalMaxPool1d(), MaxPool1d(6)
    y = gmp(x)
    np.testing.assert_array_equal(y, x.max(axis=2))
    np.testing.assert_array_equal(y, full(x)[..., 0])
    np.testing.assert_array_equal(gmp.indices, full.indices[..., 0])
    dout = np.random.default_rng(6).normal(size=y.shape)
    dx = gmp.backward(dout)
    np.testing.assert_array_equal(dx, full.backward(dout[..., None]))
    assert np.count_nonzero(dx) == np.count_nonzero(dout)  # one cell per (n, c), even with ties
    assert gmp(np.ones((2, 5, 1))).shape == (2, 5)  # any length L >= 1


# -- Flatten and Transpose -----------------------------------------------------------------

def test_flatten_round_trip_and_order():
    x = distinct((2, 3, 4, 5))
    flat = Flatten()
    assert (y := flat(x)).shape == (2, 60)
    np.testing.assert_array_equal(y[1], x[1].ravel())  # C order: c, then h, then w
    np.testing.assert_array_equal(flat.backward(y), x)
    assert Flatten(0, 2)(x).shape == (24, 5) and Flatten(-3, -2)(x).shape == (2, 12, 5)
    assert Flatten(1, 1)(x).shape == x.shape


def test_transpose_round_trip_and_text_layout():
    x = distinct((2, 7, 4))  # (N, L, E): embeddings of 7 tokens
    t = Transpose(1, 2)
    assert (y := t(x)).shape == (2, 4, 7) and y.flags.c_contiguous
    assert y[1, 3, 5] == x[1, 5, 3]  # channel e at time l = embedding number e of token l
    np.testing.assert_array_equal(t.backward(y), x)
    assert Transpose(-1, -2)(x).shape == (2, 4, 7)


# -- the protocol: dout untouched, no parameters, train/eval, dtype ------------------------

ALL_LAYERS = [  # factories: every test gets a fresh layer
    (lambda: MaxPool2d(2), (2, 3, 4, 5)), (lambda: AvgPool2d(3, 1, 1), (2, 3, 4, 5)),
    (lambda: MaxPool1d(2), (2, 3, 6)), (GlobalMaxPool1d, (2, 3, 6)), (Flatten, (2, 3, 4)),
    (lambda: Transpose(1, 2), (2, 3, 4)),
]
LAYER_IDS = ["MaxPool2d", "AvgPool2d", "MaxPool1d", "GlobalMaxPool1d", "Flatten", "Transpose"]


@pytest.mark.parametrize("make, shape", ALL_LAYERS, ids=LAYER_IDS)
def test_protocol(make, shape):
    layer, x = make(), distinct(shape)
    assert layer.params == {} and layer.grads == {} and list(layer.parameters()) == []
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.zeros(x.shape))
    assert layer.eval() is layer and layer.training is False
    y_eval = layer(x).copy()
    assert layer.train() is layer and layer.training is True
    y = layer(x)
    np.testing.assert_array_equal(y, y_eval)  # train and eval are the same computation
    dout = np.random.default_rng(7).normal(size=y.shape)
    dout_before = dout.copy()
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dout, dout_before)
    np.testing.assert_array_equal(layer.backward(dout), dx)  # backward only reads the cache
    assert dx.shape == x.shape
    layer.zero_grad()
    with pytest.raises(ValueError, match=r"backward expected dout of shape"):
        layer.backward(np.zeros(y.shape + (1,)))


@pytest.mark.parametrize("make, shape", ALL_LAYERS, ids=LAYER_IDS)
def test_float32_stays_float32(make, shape):
    layer = make()
    y = layer(distinct(shape).astype(np.float32))
    assert y.dtype == np.float32
    assert layer.backward(np.ones(y.shape, dtype=np.float32)).dtype == np.float32


# -- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, match", [
    (lambda: MaxPool2d(0), ValueError, r"MaxPool2d expected kernel_size >= 1"),
    (lambda: AvgPool2d(2, stride=0), ValueError, r"AvgPool2d expected stride >= 1"),
    (lambda: MaxPool2d(2, padding=-1), ValueError, r"padding >= 0"),
    (lambda: MaxPool2d(2.0), TypeError, r"kernel_size to be an int or a pair"),
    (lambda: MaxPool2d((2, 2, 2)), ValueError, r"an int or a pair of ints; got \(2, 2, 2\)"),
    (lambda: MaxPool2d(3, padding=2), ValueError, r"padding at most half of kernel_size"),
    (lambda: AvgPool2d((2, 4), padding=(1, 3)), ValueError, r"at most half"),
    (lambda: MaxPool1d(3, padding=2), ValueError, r"MaxPool1d expected padding at most half"),
    (lambda: MaxPool1d(0), ValueError, r"MaxPool1d expected kernel_size >= 1"),
    (lambda: MaxPool1d(2, stride=1.5), TypeError, r"MaxPool1d expected stride to be an int"),
    (lambda: Flatten(1.0), TypeError, r"Flatten expected start_dim to be an int"),
    (lambda: Transpose(1, "2"), TypeError, r"Transpose expected dim1 to be an int"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer, x, match", [
    (MaxPool2d(2), np.zeros((3, 4, 5)), r"MaxPool2d.forward expected x of shape \(N, C, H, W\); "
                                        r"got shape \(3, 4, 5\)"),
    (AvgPool2d(2), np.zeros((1, 1, 1, 2, 2)), r"AvgPool2d.forward expected x of shape"),
    (MaxPool2d(3), np.zeros((1, 1, 2, 5)), r"at least kernel_size \(3, 3\); got \(2, 5\)"),
    (AvgPool2d(4, padding=1), np.zeros((1, 1, 1, 9)), r"got \(3, 11\)"),
    (MaxPool1d(2), np.zeros((4, 5)), r"MaxPool1d.forward expected x of shape \(N, C, L\)"),
    (MaxPool1d(5, padding=1), np.zeros((1, 1, 2)), r"L \+ 2 padding >= kernel_size 5"),
    (GlobalMaxPool1d(), np.zeros((2, 3)), r"GlobalMaxPool1d.forward expected x of shape"),
    (GlobalMaxPool1d(), np.zeros((2, 3, 0)), r"at least one time step"),
    (Flatten(), np.zeros(4), r"Flatten.forward expected x with axes start_dim=1"),
    (Flatten(2, 1), np.zeros((2, 3, 4)), r"start first"),
    (Transpose(1, 3), np.zeros((2, 3, 4)), r"Transpose.forward expected x with axes 1 and 3"),
    (MaxPool2d(2), np.array([["a"]]), r"real-valued"),
])
def test_bad_inputs(layer, x, match):
    with pytest.raises((ValueError, TypeError), match=match):
        layer(x)

