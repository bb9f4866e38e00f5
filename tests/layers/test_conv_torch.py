"""PyTorch parity of Conv2d and Conv1d (chapter 9): output, dx, dW and db, on every device.

Our ``W`` has the layout of ``torch.nn.Conv2d.weight`` (F, C, kh, kw) and of
``torch.nn.Conv1d.weight`` (F, C, k), so the parameters cross without a
transpose. float64 throughout; everything must agree to 1e-10.
"""

import itertools

import numpy as np
import pytest

from dlbook.layers.conv import Conv2d
from dlbook.layers.conv1d import Conv1d
from dlbook.layers.im2col import conv_output_size

torch = pytest.importorskip("torch")
from dlbook.twins import as_tensor  # noqa: E402  (imports torch)

from parity import assert_close  # noqa: E402

F64 = np.float64

# (N, C, F, (H, W), kernel, stride, padding, dilation, bias)
CONV2D_GRID = [
    (2, 3, 4, (5, 5), 3, 1, 0, 1, True),
    (2, 3, 4, (7, 5), 3, 1, 1, 1, True),
    (1, 2, 3, (8, 6), 3, 2, 1, 1, False),
    (3, 1, 2, (9, 7), 5, 2, 2, 1, True),
    (2, 4, 2, (6, 9), 1, 1, 0, 1, True),
    (2, 2, 3, (7, 8), 1, 2, 1, 1, True),
    (2, 3, 2, (11, 6), 5, 1, 2, 1, False),
    (2, 2, 2, (7, 7), (3, 2), (2, 1), (1, 2), 1, True),
    (1, 3, 5, (6, 7), 4, 3, 2, 1, True),
    (2, 2, 3, (9, 8), 3, 1, 2, 2, True),
    (2, 3, 2, (10, 9), (3, 2), 2, 1, (2, 3), True),
    # more than FEW_CHANNELS channels: channels-last patches instead of planar ones
    (2, 5, 4, (7, 6), 3, 1, 1, 1, True),
    (2, 6, 3, (9, 8), 3, 2, 1, 2, False),
    (1, 8, 4, (6, 7), (2, 3), (1, 2), (1, 0), 1, True),
]
# (N, C, F, L, kernel, stride, padding, dilation, bias)
CONV1D_GRID = [
    (2, 3, 4, 7, 3, 1, 0, 1, True),
    (2, 5, 3, 10, 3, 1, 1, 1, False),
    (3, 2, 2, 9, 5, 2, 2, 1, True),
    (1, 4, 3, 8, 2, 3, 1, 1, True),
    (2, 3, 2, 11, 3, 2, 0, 2, True),
]


def randomised(layer, rng):
    for p in layer.params.values():
        p[...] = rng.normal(size=p.shape)
    return layer


def run_both(layer, torch_fn, x, device, input_grad=True):
    """Forward and backward in dlbook and torch with the same parameters; compares everything."""
    rng = np.random.default_rng(1)
    Wt = as_tensor(layer.params["W"], device, requires_grad=True)
    bt = as_tensor(layer.params["b"], device, requires_grad=True) if "b" in layer.params else None
    xt = as_tensor(x, device, requires_grad=input_grad)
    yt = torch_fn(xt, Wt, bt)
    y = layer(x)
    dout = rng.normal(size=y.shape)
    yt.backward(as_tensor(dout, device))
    dx = layer.backward(dout)
    assert y.shape == tuple(yt.shape)
    assert_close(y, yt, "y")
    if input_grad:
        assert_close(dx, xt.grad, "dx")
    assert_close(layer.grads["W"], Wt.grad, "dW")
    if bt is not None:
        assert_close(layer.grads["b"], bt.grad, "db")


@pytest.mark.parametrize("case", CONV2D_GRID, ids=str)
def test_conv2d_matches_torch(case, device):
    N, C, F, hw, k, s, p, d, bias = case
    rng = np.random.default_rng(0)
    layer = randomised(Conv2d(C, F, k, stride=s, padding=p, dilation=d, bias=bias, rng=0,
                              dtype=F64), rng)
    run_both(layer, lambda x, W, b: torch.nn.functional.conv2d(x, W, b, s, p, d),
             rng.normal(size=(N, C, *hw)), device)


@pytest.mark.parametrize("case", CONV1D_GRID, ids=str)
def test_conv1d_matches_torch(case, device):
    N, C, F, L, k, s, p, d, bias = case
    rng = np.random.default_rng(0)
    layer = randomised(Conv1d(C, F, k, stride=s, padding=p, dilation=d, bias=bias, rng=0,
                              dtype=F64), rng)
    run_both(layer, lambda x, W, b: torch.nn.functional.conv1d(x, W, b, s, p, d),
             rng.normal(size=(N, C, L)), device)


@pytest.mark.parametrize("C", [3, 6])  # planar and channels-last patches
def test_first_layer_without_dx_matches_torch(device, C):
    """input_grad=False: torch's data tensor does not require grad; dW and db are unchanged."""
    rng = np.random.default_rng(2)
    layer = randomised(Conv2d(C, 4, 3, padding=1, rng=0, dtype=F64, input_grad=False), rng)
    run_both(layer, lambda x, W, b: torch.nn.functional.conv2d(x, W, b, padding=1),
             rng.normal(size=(2, C, 6, 5)), device, input_grad=False)


def test_weights_cross_into_torch_modules_without_a_transpose(device):
    rng = np.random.default_rng(3)
    ours = randomised(Conv2d(3, 5, (3, 2), stride=2, padding=1, rng=0, dtype=F64), rng)
    ref = torch.nn.Conv2d(3, 5, (3, 2), stride=2, padding=1, dtype=torch.float64, device=device)
    assert tuple(ref.weight.shape) == ours.params["W"].shape
    with torch.no_grad():
        ref.weight.copy_(as_tensor(ours.params["W"], device))
        ref.bias.copy_(as_tensor(ours.params["b"], device))
    x = rng.normal(size=(2, 3, 7, 6))
    assert_close(ours(x), ref(as_tensor(x, device)), "y")
    line = Conv1d(4, 3, 3, rng=0, dtype=F64)
    assert tuple(torch.nn.Conv1d(4, 3, 3).weight.shape) == line.params["W"].shape


def test_output_size_formula_matches_torch():
    sizes = range(3, 12)
    settings = itertools.product([1, 2, 3], [1, 2, 3], [0, 1, 2], [1, 2])  # k, s, p, d
    x_cache = {}
    for (k, s, p, d), size in itertools.product(settings, sizes):
        if d * (k - 1) + 1 > size + 2 * p:
            continue
        x = x_cache.setdefault(size, torch.zeros(1, 1, size, size, dtype=torch.float64))
        w = torch.zeros(1, 1, k, k, dtype=torch.float64)
        out = torch.nn.functional.conv2d(x, w, stride=s, padding=p, dilation=d).shape[-1]
        assert conv_output_size(size, k, s, p, d) == out, (size, k, s, p, d)
