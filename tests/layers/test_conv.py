"""Convolution (chapter 9): gradient checks, naive vs fast, output sizes, errors, protocol.

Every Conv2d / Conv1d configuration is checked against float64 central
differences with one random upstream gradient; the loop version
(conv_naive) and the im2col version must agree to rounding error; the
output-size formula (with its floor) must match what the layer produces.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer
from dlbook.layers.conv import Conv2d
from dlbook.layers.conv1d import Conv1d
from dlbook.layers.conv_naive import conv2d_naive, conv2d_naive_backward
from dlbook.layers.im2col import col2im, conv_output_size, im2col, pad_channels_last

F64 = np.float64
EXACT = 1e-12
"""Two float64 computations of the same sums, in different orders, agree to this."""

# (C, F, kernel, stride, padding, dilation, bias, (H, W))
CONV2D_CASES = [
    (1, 1, 1, 1, 0, 1, True, (4, 5)),
    (3, 4, 3, 1, 0, 1, True, (5, 5)),
    (3, 4, 3, 1, 1, 1, False, (5, 7)),
    (2, 3, 3, 2, 1, 1, True, (7, 6)),
    (2, 3, 3, 2, 2, 1, True, (6, 5)),
    (2, 2, 5, 1, 2, 1, True, (6, 7)),
    (2, 3, 5, 2, 0, 1, False, (9, 7)),
    (2, 2, (3, 2), (2, 1), (1, 0), 1, True, (5, 6)),
    (2, 2, 3, 1, 1, 2, True, (6, 5)),
    (1, 2, 2, 3, 1, (2, 1), True, (7, 8)),
    # more than FEW_CHANNELS channels: channels-last patches instead of planar ones
    (5, 3, 3, 1, 1, 1, True, (5, 6)),
    (6, 2, 3, 2, 0, 2, False, (9, 8)),
    (8, 3, (2, 3), (1, 2), (1, 0), 1, True, (6, 7)),
]
# (C, F, kernel, stride, padding, dilation, bias, L)
CONV1D_CASES = [
    (3, 4, 3, 1, 0, 1, True, 7),
    (3, 2, 3, 2, 1, 1, False, 9),
    (2, 3, 5, 1, 2, 1, True, 6),
    (4, 2, 1, 1, 0, 1, True, 5),
    (2, 3, 3, 2, 2, 2, True, 8),
]


def conv2d_case(case, rng) -> tuple[Conv2d, np.ndarray]:
    C, F, k, s, p, d, bias, hw = case
    layer = Conv2d(C, F, k, stride=s, padding=p, dilation=d, bias=bias, rng=rng, dtype=F64)
    if bias:
        layer.params["b"][...] = rng.normal(size=F)  # 0 would hide a missing bias
    return layer, rng.normal(size=(2, C, *hw))


def conv1d_case(case, rng) -> tuple[Conv1d, np.ndarray]:
    C, F, k, s, p, d, bias, L = case
    layer = Conv1d(C, F, k, stride=s, padding=p, dilation=d, bias=bias, rng=rng, dtype=F64)
    if bias:
        layer.params["b"][...] = rng.normal(size=F)
    return layer, rng.normal(size=(2, C, L))


def both_cases():
    rng = np.random.default_rng(0)
    return ([pytest.param(conv2d_case(c, rng), id=f"Conv2d-{i}") for i, c in
             enumerate(CONV2D_CASES)]
            + [pytest.param(conv1d_case(c, rng), id=f"Conv1d-{i}") for i, c in
               enumerate(CONV1D_CASES)])


@pytest.mark.parametrize("layer_and_x", both_cases())
def test_gradients_match_numerical_gradients(layer_and_x):
    layer, x = layer_and_x
    errors = check_layer(layer, x, rng=1)  # also fails if x or dout is modified in place
    assert set(errors) == {"x", *layer.params}
    bad = {k: f"{e:.1e}" for k, e in errors.items() if not e < GRADCHECK_TOL}
    assert not bad, f"{layer}: relative errors above {GRADCHECK_TOL}: {bad}"


@pytest.mark.parametrize("layer_and_x", both_cases())
def test_backward_leaves_dout_unchanged_and_accumulates(layer_and_x):
    layer, x = layer_and_x
    grad_arrays = [g for _, g in layer.parameters()]
    y = layer(x)
    dout = np.random.default_rng(2).normal(size=y.shape)
    dout_before = dout.copy()
    dx_first = layer.backward(dout)
    np.testing.assert_array_equal(dout, dout_before)
    once = {k: g.copy() for k, g in layer.grads.items()}
    dx_second = layer.backward(dout)
    np.testing.assert_array_equal(dx_first, dx_second)
    for k, g in layer.grads.items():
        np.testing.assert_allclose(g, 2 * once[k], rtol=EXACT, err_msg=k)
    layer.zero_grad()
    assert all(not g.any() for g in layer.grads.values())
    assert all(a is b for a, b in zip(grad_arrays, (g for _, g in layer.parameters())))


@pytest.mark.parametrize("case", [c for c in CONV2D_CASES if c[5] == 1])  # naive: no dilation
def test_naive_and_im2col_versions_agree(case):
    rng = np.random.default_rng(3)
    layer, x = conv2d_case(case, rng)
    W, b, s, p = layer.params["W"], layer.params.get("b"), layer.stride, layer.padding
    y = layer(x)
    np.testing.assert_allclose(y, conv2d_naive(x, W, b, s, p), rtol=EXACT, atol=EXACT)
    dout = rng.normal(size=y.shape)
    dx = layer.backward(dout)
    dx_naive, dW_naive, db_naive = conv2d_naive_backward(dout, x, W, s, p)
    np.testing.assert_allclose(dx, dx_naive, rtol=EXACT, atol=EXACT)
    np.testing.assert_allclose(layer.grads["W"], dW_naive, rtol=EXACT, atol=EXACT)
    if b is not None:
        np.testing.assert_allclose(layer.grads["b"], db_naive, rtol=EXACT, atol=EXACT)


def count_windows(size: int, k: int, s: int, p: int, d: int) -> int:
    """Brute force: start positions r s whose dilated window ends inside the padded input."""
    return sum(1 for start in range(0, size + 2 * p, s) if start + d * (k - 1) < size + 2 * p)


def test_output_size_formula_has_a_floor_and_matches_the_layer():
    assert conv_output_size(6, 3, stride=2) == 2  # (6 - 3) / 2 + 1 = 2.5: the floor drops 0.5
    assert conv_output_size(32, 3, padding=1) == 32  # "same" padding for a 3x3 kernel
    rng = np.random.default_rng(4)
    for size in range(1, 10):
        for k, s, p, d in [(1, 1, 0, 1), (3, 1, 1, 1), (3, 2, 0, 1), (3, 2, 1, 1), (2, 3, 1, 1),
                           (5, 2, 2, 1), (3, 1, 2, 2), (4, 3, 0, 1), (3, 2, 1, 3)]:
            expected = count_windows(size, k, s, p, d)
            formula = math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1
            assert conv_output_size(size, k, s, p, d) == formula
            if expected == 0:
                assert formula < 1
                continue
            assert formula == expected, (size, k, s, p, d)
            layer = Conv2d(1, 2, (k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1), rng=0)
            assert layer(rng.normal(size=(1, 1, size, 3))).shape == (1, 2, expected, 3)
            line = Conv1d(1, 2, k, stride=s, padding=p, dilation=d, rng=0)
            assert line(rng.normal(size=(1, 1, size))).shape == (1, 2, expected)


def test_im2col_and_col2im_are_adjoint():
    """<im2col(x), g> = <x, col2im(g)>: col2im is exactly the transpose of im2col."""
    rng = np.random.default_rng(5)
    for k, s, d in [((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 3), (1, 1)), ((2, 3), (1, 2), (2, 1))]:
        xp = rng.normal(size=(2, 9, 8, 3))
        col = im2col(xp, k, s, d)  # (N, H_out, W_out, kh, kw, C)
        g = rng.normal(size=col.shape)
        back = col2im(g.transpose(3, 4, 0, 1, 2, 5), xp.shape[1:3], s, d)  # (kh, kw, N, ...)
        assert np.isclose(np.sum(col * g), np.sum(xp * back), rtol=EXACT)
        acc = np.ones(xp.shape)
        assert col2im(g.transpose(3, 4, 0, 1, 2, 5), xp.shape[1:3], s, d, out=acc) is acc
        np.testing.assert_allclose(acc, 1 + back, rtol=EXACT)  # out= adds into the array
    x = rng.normal(size=(2, 3, 4, 5))
    xp = pad_channels_last(x, (1, 2))
    assert xp.shape == (2, 6, 9, 3) and not xp[:, 0].any() and not xp[:, :, :2].any()
    np.testing.assert_array_equal(xp[:, 1:5, 2:7].transpose(0, 3, 1, 2), x)


def channels_last(a: np.ndarray) -> np.ndarray:
    """The same values as a (N, C, H, W) with channels-last memory, like the layer's outputs."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("C", [3, 6])  # planar and channels-last patches
def test_input_grad_false_skips_dx_only(C):
    rng = np.random.default_rng(6)
    x, dout = rng.normal(size=(2, C, 6, 5)), rng.normal(size=(2, 4, 3, 3))
    full = Conv2d(C, 4, 3, stride=2, padding=1, rng=0, dtype=F64)
    full(x)
    assert full.backward(dout) is not None
    for upstream in (dout, channels_last(dout)):  # both memory layouts of dout
        first = Conv2d(C, 4, 3, stride=2, padding=1, rng=0, dtype=F64, input_grad=False)
        first(x)
        assert first.backward(upstream) is None
        for k in full.grads:
            np.testing.assert_allclose(first.grads[k], full.grads[k], rtol=EXACT, atol=EXACT)
    line = Conv1d(C, 4, 3, rng=0, input_grad=False)
    line(x[:, :, 0])
    assert line.backward(rng.normal(size=(2, 4, 3))) is None


@pytest.mark.parametrize("C", [3, 6])  # planar and channels-last patches
def test_every_memory_layout_gives_the_same_gradients(C):
    """x and dout may arrive NCHW, channels-last or strided; the results must not change."""
    rng = np.random.default_rng(10)
    x, dout = rng.normal(size=(2, C, 6, 5)), rng.normal(size=(2, 4, 6, 5))
    ref = Conv2d(C, 4, 3, padding=1, rng=0, dtype=F64)
    y_ref, dx_ref = ref(x).copy(), ref.backward(dout).copy()
    layouts = [channels_last, lambda a: np.repeat(a, 2, axis=3)[..., ::2]]  # + a strided view
    for layout in layouts:
        layer = Conv2d(C, 4, 3, padding=1, rng=0, dtype=F64)
        np.testing.assert_allclose(layer(layout(x)), y_ref, rtol=EXACT, atol=EXACT)
        np.testing.assert_allclose(layer.backward(layout(dout)), dx_ref, rtol=EXACT, atol=EXACT)
        for k in ref.grads:
            np.testing.assert_allclose(layer.grads[k], ref.grads[k], rtol=EXACT, atol=EXACT)


def test_outputs_survive_the_next_call():
    """The patch buffer is reused, but y and dx are fresh arrays every call."""
    rng = np.random.default_rng(7)
    layer = Conv2d(2, 3, 3, padding=1, rng=0, dtype=F64)
    x1, x2 = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(2, 2, 5, 4))
    y1 = layer(x1)
    dx1 = layer.backward(np.ones(y1.shape))
    y1_copy, dx1_copy = y1.copy(), dx1.copy()
    y2 = layer(x2)
    layer.backward(2 * np.ones(y2.shape))
    np.testing.assert_array_equal(y1, y1_copy)
    np.testing.assert_array_equal(dx1, dx1_copy)
    assert layer(rng.normal(size=(3, 2, 6, 6))).shape == (3, 3, 6, 6)  # new shape, new buffer


def test_initialisation_dtype_and_determinism():
    layer = Conv2d(16, 64, 3, rng=0)
    W = layer.params["W"]
    assert W.shape == (64, 16, 3, 3) and W.dtype == np.float32
    assert layer.params["b"].shape == (64,) and not layer.params["b"].any()
    assert abs(W.std() / math.sqrt(2 / (16 * 9)) - 1) < 0.05  # He: std sqrt(2 / fan_in)
    np.testing.assert_array_equal(W, Conv2d(16, 64, 3, rng=0).params["W"])
    x32 = np.ones((1, 16, 4, 4), dtype=np.float32)
    assert layer(x32).dtype == np.float32
    assert layer(x32.astype(F64)).dtype == F64  # float64 input: computed in float64
    no_bias = Conv2d(16, 4, 3, bias=False, rng=0)
    assert no_bias(x32).dtype == np.float32
    assert no_bias.backward(np.ones((1, 4, 2, 2), np.float32)).dtype == np.float32
    assert Conv1d(8, 4, 3, rng=0).params["W"].shape == (4, 8, 3)
    assert "b" not in Conv2d(2, 2, 3, bias=False, rng=0).params
    assert "Conv2d(3, 8, kernel_size=(3, 3)" in repr(Conv2d(3, 8, 3, rng=0))


def test_conv1d_over_text_is_a_conv2d_with_whole_row_kernels():
    """Chapter 9: a width-k filter over embedded text spans k whole embedding rows."""
    rng = np.random.default_rng(8)
    N, L, E, F, k = 2, 7, 5, 3, 3
    embedded = rng.normal(size=(N, L, E))  # one row of E numbers per token
    conv1d = Conv1d(E, F, k, padding=1, rng=0, dtype=F64)
    conv1d.params["b"][...] = rng.normal(size=F)
    conv2d = Conv2d(1, F, (k, E), padding=(1, 0), rng=0, dtype=F64)
    conv2d.params["W"][...] = conv1d.params["W"].transpose(0, 2, 1)[:, None]  # (F, 1, k, E)
    conv2d.params["b"][...] = conv1d.params["b"]
    y1 = conv1d(embedded.transpose(0, 2, 1))  # channels = embedding dims: (N, E, L)
    y2 = conv2d(embedded[:, None])  # one-channel "image" (N, 1, L, E)
    assert y2.shape == (N, F, L, 1)  # the kernel cannot slide sideways: width 1
    np.testing.assert_allclose(y1, y2[..., 0], rtol=EXACT, atol=EXACT)
    dout = rng.normal(size=y1.shape)
    dx1, dx2 = conv1d.backward(dout), conv2d.backward(dout[..., None])
    np.testing.assert_allclose(dx1.transpose(0, 2, 1), dx2[:, 0], rtol=EXACT, atol=EXACT)
    np.testing.assert_allclose(conv1d.grads["W"].transpose(0, 2, 1), conv2d.grads["W"][:, 0],
                               rtol=EXACT, atol=EXACT)


@pytest.mark.parametrize("layer, x_shape, match", [
    (Conv2d, (3, 5, 5), r"Conv2d.forward expected x of shape \(N, C, H, W\) with C = 3; got"),
    (Conv2d, (2, 4, 5, 5), r"expected x with C = 3 channels \(in_channels\); got 4 channels"),
    (Conv2d, (2, 3, 2, 9), r"kernel spans 5 x 5 pixels but the padded input is only 4 x 11"),
    (Conv1d, (3, 5), r"Conv1d.forward expected x of shape \(N, C, L\) with C = 3; got shape"),
    (Conv1d, (2, 4, 5), r"expected x with C = 3 channels \(in_channels\); got 4 channels"),
    (Conv1d, (2, 3, 2), r"kernel spans 5 positions but the padded input has only 4"),
])
def test_bad_inputs(layer, x_shape, match):
    with pytest.raises(ValueError, match=match):
        layer(3, 2, 5, padding=1, rng=0)(np.zeros(x_shape))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"stride": 0}, ValueError, "stride >= 1"),
    ({"stride": -2}, ValueError, "stride >= 1"),
    ({"stride": 1.5}, TypeError, "stride to be an int"),
    ({"padding": -1}, ValueError, "padding >= 0"),
    ({"dilation": 0}, ValueError, "dilation >= 1"),
    ({"kernel_size": 0}, ValueError, "kernel_size >= 1"),
    ({"in_channels": 0}, ValueError, "in_channels >= 1"),
])
def test_bad_arguments(kwargs, error, match):
    args = {"in_channels": 3, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(error, match=match):
        Conv2d(**args)
    with pytest.raises(error, match=match):
        Conv1d(**args)


def test_other_errors():
    with pytest.raises(ValueError, match="padding to be an int or a pair of ints"):
        Conv2d(3, 2, 3, padding=(1, 2, 3))
    with pytest.raises(TypeError, match="Conv1d expected padding to be an int"):
        Conv1d(3, 2, 3, padding=(1, 2))
    layer = Conv2d(2, 3, 3, rng=0)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((1, 3, 2, 2)))
    layer(np.zeros((1, 2, 4, 4)))
    with pytest.raises(ValueError, match=r"dout of shape \(1, 3, 2, 2\)"):
        layer.backward(np.zeros((1, 3, 4, 4)))
    W, x = np.zeros((3, 2, 3, 3)), np.zeros((1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"conv2d_naive expected W of shape \(F, C, kh, kw\)"):
        conv2d_naive(x, W[0])
    with pytest.raises(ValueError, match="conv2d_naive expected x with C = 2"):
        conv2d_naive(np.zeros((1, 3, 4, 4)), W)
    with pytest.raises(ValueError, match=r"expected dout of shape \(1, 3, 2, 2\)"):
        conv2d_naive_backward(np.zeros((1, 3, 4, 4)), x, W)
