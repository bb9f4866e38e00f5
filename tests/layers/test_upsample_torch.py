"""PyTorch parity of the chapter 19 layers: outputs and gradients, on every device, in float64.

* Upsample vs ``torch.nn.functional.interpolate`` (nearest; bilinear with
  align_corners False and True), non-square and odd sizes, factors 1-3.
* MaxUnpool2d vs ``max_unpool2d``, with indices from torch's
  ``max_pool2d(return_indices=True)`` and from dlbook's MaxPool2d (whose
  ``.indices`` are already in torch's format: tested equal).
* ConvTranspose2d vs ``conv_transpose2d`` (W has torch's (C_in, C_out, kh, kw)
  layout, so it crosses unchanged) over strides, paddings, output paddings,
  dilations and rectangular kernels.
"""

import numpy as np
import pytest

from dlbook.layers import MaxPool2d
from dlbook.layers.conv_transpose import ConvTranspose2d
from dlbook.layers.unpool import MaxUnpool2d
from dlbook.layers.upsample import Upsample

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

from dlbook.twins import as_tensor, to_numpy  # noqa: E402  (imports torch)

from parity import assert_close  # noqa: E402

F64 = np.float64

UPSAMPLE_GRID = [  # (x shape, scale factor)
    ((2, 3, 4, 5), 2), ((1, 2, 7, 3), 3), ((2, 1, 5, 5), (2, 3)), ((1, 2, 1, 6), 2),
    ((2, 2, 6, 1), (3, 2)), ((1, 1, 3, 4), 1),
]
MODES = [("nearest", False), ("bilinear", False), ("bilinear", True)]
POOL_GRID = [  # (x shape, kernel, stride, padding)
    ((2, 3, 8, 6), 2, 2, 0), ((2, 2, 7, 9), 2, 2, 0), ((1, 3, 7, 6), 3, 2, 1),
    ((2, 2, 9, 5), (2, 3), (2, 3), (1, 0)), ((1, 2, 6, 7), 2, 1, 0), ((2, 1, 10, 8), 3, 3, 1),
]
CONVT_GRID = [  # (x shape, C_out, kernel, stride, padding, output_padding, dilation, bias)
    ((2, 3, 4, 5), 4, 3, 1, 0, 0, 1, True),
    ((2, 3, 4, 3), 2, 3, 2, 1, 1, 1, True),
    ((1, 2, 5, 6), 3, 2, 2, 0, 0, 1, False),
    ((2, 2, 3, 4), 3, 4, 2, 1, 0, 1, True),
    ((2, 2, 3, 3), 3, (3, 2), (2, 3), (1, 0), (1, 2), 1, True),
    ((1, 3, 4, 4), 2, 3, 2, 2, 1, 2, True),
    ((2, 1, 1, 1), 2, 5, 3, 1, 2, 1, True),
    ((1, 2, 6, 5), 2, 5, 3, 2, 0, 1, True),
]


@pytest.mark.parametrize("mode, align_corners", MODES, ids=["nearest", "bilinear", "corners"])
@pytest.mark.parametrize("shape, scale", UPSAMPLE_GRID, ids=str)
def test_upsample_matches_interpolate(shape, scale, mode, align_corners, device):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    layer = Upsample(scale, mode, align_corners)
    y = layer(x)
    dout = rng.normal(size=y.shape)
    xt = as_tensor(x, device, requires_grad=True)
    extra = {} if mode == "nearest" else {"align_corners": align_corners}
    yt = TF.interpolate(xt, scale_factor=scale, mode=mode, **extra)
    yt.backward(as_tensor(dout, device))
    assert_close(y, yt, "y")
    assert_close(layer.backward(dout), xt.grad, "dx")


def unpool_both(x, indices_np, indices_t, kernel, stride, padding, device):
    """Our MaxUnpool2d and torch's max_unpool2d on the pooled x, forward and backward."""
    rng = np.random.default_rng(1)
    pooled = MaxPool2d(kernel, stride, padding)(x)
    layer = MaxUnpool2d(kernel, stride, padding)
    y = layer(pooled, indices_np, output_size=x.shape)
    dout = rng.normal(size=y.shape)
    pt = as_tensor(pooled, device, requires_grad=True)
    yt = TF.max_unpool2d(pt, indices_t.to(device), kernel, stride, padding,
                         output_size=x.shape[2:])
    yt.backward(as_tensor(dout, device))
    assert_close(y, yt, "y")
    assert_close(layer.backward(dout), pt.grad, "dx")


@pytest.mark.parametrize("shape, kernel, stride, padding", POOL_GRID, ids=str)
def test_max_unpool_matches_torch_with_either_indices(shape, kernel, stride, padding, device):
    x = np.random.default_rng(2).normal(size=shape)
    pool = MaxPool2d(kernel, stride, padding)
    pool(x)
    _, torch_indices = TF.max_pool2d(as_tensor(x, device), kernel, stride, padding,
                                     return_indices=True)
    np.testing.assert_array_equal(pool.indices, to_numpy(torch_indices))  # the same format
    unpool_both(x, to_numpy(torch_indices), torch_indices, kernel, stride, padding, device)
    unpool_both(x, pool.indices, torch.as_tensor(pool.indices), kernel, stride, padding, device)


def test_max_unpool_default_output_size_matches_torch(device):
    x = np.random.default_rng(3).normal(size=(2, 3, 4, 6))
    pool = MaxPool2d(2)
    pooled = pool(x)
    yt = TF.max_unpool2d(as_tensor(pooled, device), torch.as_tensor(pool.indices).to(device), 2)
    assert_close(MaxUnpool2d(2)(pooled, pool.indices), yt, "y")


@pytest.mark.parametrize("shape, c_out, kernel, stride, padding, out_pad, dilation, bias",
                         CONVT_GRID, ids=str)
def test_conv_transpose_matches_torch(shape, c_out, kernel, stride, padding, out_pad, dilation,
                                      bias, device):
    rng = np.random.default_rng(4)
    layer = ConvTranspose2d(shape[1], c_out, kernel, stride, padding, out_pad, bias=bias,
                            dilation=dilation, rng=0, dtype=F64)
    for p in layer.params.values():
        p[...] = rng.normal(size=p.shape)
    x = rng.normal(size=shape)
    y = layer(x)
    dout = rng.normal(size=y.shape)
    dx = layer.backward(dout)
    xt = as_tensor(x, device, requires_grad=True)
    Wt = as_tensor(layer.params["W"], device, requires_grad=True)
    bt = as_tensor(layer.params["b"], device, requires_grad=True) if bias else None
    yt = TF.conv_transpose2d(xt, Wt, bt, stride, padding, out_pad, dilation=dilation)
    yt.backward(as_tensor(dout, device))
    assert_close(y, yt, "y")
    assert_close(dx, xt.grad, "dx")
    assert_close(layer.grads["W"], Wt.grad, "dW")
    if bias:
        assert_close(layer.grads["b"], bt.grad, "db")


def test_conv_transpose_module_weight_layout(device):
    ours = ConvTranspose2d(3, 5, (2, 3), stride=2, rng=0)
    theirs = torch.nn.ConvTranspose2d(3, 5, (2, 3), stride=2)
    assert tuple(theirs.weight.shape) == ours.params["W"].shape
    x = np.random.default_rng(5).normal(size=(2, 3, 4, 4)).astype(np.float32)
    with torch.no_grad():
        theirs.weight.copy_(torch.as_tensor(ours.params["W"]))
        theirs.bias.zero_()
        yt = theirs.to(device)(as_tensor(x, device, dtype=torch.float32))
    np.testing.assert_allclose(ours(x), to_numpy(yt), rtol=1e-5, atol=1e-5)
