"""PyTorch parity of pooling, Flatten and Transpose (chapter 10), on every available device.

Each test runs the same input (float64) through dlbook and through
``torch.nn.functional``, backpropagates the same random dout, and compares
the output, dx and, for max pooling, the argmax indices (``return_indices``).
Max-pool inputs are a scaled random permutation (no ties) except in the tie
tests, which pin down that both libraries send the gradient to the first
maximum, while ``torch.amax`` splits it among tied maxima.
"""

import itertools

import numpy as np
import pytest

from dlbook.layers.pool import AvgPool2d, MaxPool2d
from dlbook.layers.pool1d import GlobalMaxPool1d, MaxPool1d, Transpose
from dlbook.layers.reshape import Flatten

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402
from dlbook.twins import as_tensor, to_numpy  # noqa: E402  (imports torch)

from parity import assert_close  # noqa: E402

GAP = 0.1  # spacing of the tie-free inputs
GRID = list(itertools.product([2, 3, (2, 3)], [1, 2, 3], [0, 1]))  # kernel, stride, padding
GRID_IDS = [f"k{k}-s{s}-p{p}" for k, s, p in GRID]
SHAPES = [(2, 3, 7, 6), (1, 2, 5, 8)]


def distinct(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))) - np.prod(shape) / 2).reshape(shape) * GAP


def torch_run(fn, x, dout, device):
    """y = fn(x) in torch, then backpropagate dout; returns (y, dx, extra outputs)."""
    xt = as_tensor(x, device, requires_grad=True)
    out = fn(xt)
    yt, extra = (out[0], out[1:]) if isinstance(out, tuple) else (out, ())
    yt.backward(as_tensor(dout, yt.device))
    return yt, xt.grad, extra


def check_layer_vs_torch(layer, fn, x, device, seed=1):
    y = layer(x)
    dout = np.random.default_rng(seed).normal(size=y.shape)
    yt, dxt, extra = torch_run(fn, x, dout, device)
    assert_close(y, yt, "y")
    assert_close(layer.backward(dout), dxt, "dx")
    return extra


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kernel, stride, padding", GRID, ids=GRID_IDS)
def test_max_pool2d(kernel, stride, padding, shape, device):
    pool = MaxPool2d(kernel, stride, padding)
    (indices,) = check_layer_vs_torch(
        pool, lambda t: TF.max_pool2d(t, kernel, stride, padding, return_indices=True),
        distinct(shape), device)
    np.testing.assert_array_equal(pool.indices, to_numpy(indices))


@pytest.mark.parametrize("kernel, stride, padding", [(3, 1, 1), (2, 2, 1), (3, 2, 1)])
def test_max_pool2d_minus_inf_and_nan(kernel, stride, padding, device):
    """A window of -inf values reports its first unpadded cell and a NaN wins, as in torch."""
    x = np.full((1, 2, 5, 5), -np.inf)
    x[0, 0, 1, 3], x[0, 1, 4, 4] = np.nan, 2.0
    pool = MaxPool2d(kernel, stride, padding)
    y = pool(x)
    yt, indices = TF.max_pool2d(as_tensor(x, device), kernel, stride, padding, return_indices=True)
    np.testing.assert_array_equal(y, to_numpy(yt))  # NaN == NaN and -inf == -inf here
    np.testing.assert_array_equal(pool.indices, to_numpy(indices))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kernel, stride, padding", GRID, ids=GRID_IDS)
def test_avg_pool2d(kernel, stride, padding, shape, device):
    x = np.random.default_rng(2).normal(size=shape)
    check_layer_vs_torch(AvgPool2d(kernel, stride, padding),
                         lambda t: TF.avg_pool2d(t, kernel, stride, padding), x, device)


@pytest.mark.parametrize("kernel, stride, padding", [(k, s, p) for k, s, p in GRID
                                                     if isinstance(k, int)] + [(4, 3, 2)])
@pytest.mark.parametrize("length", [9, 10])
def test_max_pool1d(kernel, stride, padding, length, device):
    pool = MaxPool1d(kernel, stride, padding)
    (indices,) = check_layer_vs_torch(
        pool, lambda t: TF.max_pool1d(t, kernel, stride, padding, return_indices=True),
        distinct((2, 3, length)), device)
    np.testing.assert_array_equal(pool.indices, to_numpy(indices))


def test_global_max_pool_matches_amax_without_ties(device):
    check_layer_vs_torch(GlobalMaxPool1d(), lambda t: torch.amax(t, dim=2),
                         distinct((3, 5, 8)), device)


@pytest.mark.parametrize("kind", ["2d", "1d", "global"])
def test_ties_go_to_the_first_maximum_like_torch(kind, device):
    x = np.random.default_rng(3).integers(0, 3, size=(2, 3, 6, 6)).astype(float)  # many ties
    if kind == "2d":
        layer, fn = MaxPool2d(3, 1, 1), lambda t: TF.max_pool2d(t, 3, 1, 1, return_indices=True)
    elif kind == "1d":
        x = x[:, :, 0]
        layer, fn = MaxPool1d(3, 2, 1), lambda t: TF.max_pool1d(t, 3, 2, 1, return_indices=True)
    else:  # max over the whole time axis = max_pool1d with a window of length L
        x = x[:, :, 0]
        layer, fn = GlobalMaxPool1d(), lambda t: TF.max_pool1d(t, 6, return_indices=True)
    y = layer(x)
    dout = np.random.default_rng(4).normal(size=y.shape)
    yt, dxt, (indices,) = torch_run(fn, x, dout.reshape(y.shape + (1,) * (kind == "global")),
                                    device)
    assert_close(y, yt.reshape(y.shape), "y")
    assert_close(layer.backward(dout), dxt, "dx")
    np.testing.assert_array_equal(layer.indices, to_numpy(indices).reshape(y.shape))


def test_amax_splits_tied_gradients_but_global_max_pool_does_not(device):
    x = np.array([[[1.0, 4.0, 4.0, 2.0]]])
    _, dxt, _ = torch_run(lambda t: torch.amax(t, dim=2), x, np.ones((1, 1)), device)
    assert_close(dxt, [[[0.0, 0.5, 0.5, 0.0]]], "torch.amax")
    pool = GlobalMaxPool1d()
    pool(x)
    assert_close(pool.backward(np.ones((1, 1))), [[[0.0, 1.0, 0.0, 0.0]]], "GlobalMaxPool1d")


@pytest.mark.parametrize("start_dim, end_dim", [(1, -1), (0, -1), (1, 2), (-2, -1), (2, 2)])
def test_flatten(start_dim, end_dim, device):
    flatten = torch.nn.Flatten(start_dim, end_dim)
    check_layer_vs_torch(Flatten(start_dim, end_dim), flatten, distinct((2, 3, 4, 5)), device)


@pytest.mark.parametrize("dim0, dim1", [(1, 2), (0, 2), (-1, -2), (1, 1)])
def test_transpose(dim0, dim1, device):
    check_layer_vs_torch(Transpose(dim0, dim1), lambda t: t.transpose(dim0, dim1),
                         distinct((2, 5, 3)), device)


def test_text_pipeline(device):
    """(N, L, E) embeddings -> transpose -> max_pool1d -> max over time, as a torch model does."""
    x = distinct((2, 7, 4))
    layers = [Transpose(1, 2), MaxPool1d(2), GlobalMaxPool1d()]  # windows do not overlap

    def torch_model(t):
        return torch.amax(TF.max_pool1d(t.transpose(1, 2), 2), dim=2)  # no ties reach amax

    y = x
    for layer in layers:
        y = layer(y)
    dout = np.random.default_rng(5).normal(size=y.shape)
    yt, dxt, _ = torch_run(torch_model, x, dout, device)
    assert_close(y, yt, "y")
    for layer in reversed(layers):
        dout = layer.backward(dout)
    assert_close(dout, dxt, "dx")
