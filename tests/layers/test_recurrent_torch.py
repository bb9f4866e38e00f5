"""PyTorch parity of RNN, LSTM, GRU and SequenceCrossEntropyLoss (chapters 14 and 15).

Each test builds the dlbook layer, its torch.nn twin (batch_first=True, the
weights mapped by dlbook.twins) on every available device,
runs both on the same sequences and initial states, backpropagates the same
dout, dh_n (and dc_n), and compares the outputs, h_n / c_n, dx, every weight
gradient and the returned dh0 / dc0: to 1e-10 in float64, to float32 rounding
in float32.
"""

import numpy as np
import pytest

from dlbook.layers.gru import GRU
from dlbook.layers.lstm import LSTM
from dlbook.layers.rnn import RNN
from dlbook.layers.seq_loss import SequenceCrossEntropyLoss

torch = pytest.importorskip("torch")
from dlbook.twins import copy_weights, to_torch, torch_grads  # noqa: E402  (imports torch)

TOL = {np.float64: 1e-10, np.float32: 2e-5}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
SHAPES = [(3, 5, 4, 6), (1, 1, 4, 6), (1, 7, 2, 3), (4, 1, 5, 2)]  # N, T, D, H
LAYERS = {
    "RNN-tanh": lambda D, H, dt, **kw: RNN(D, H, rng=0, dtype=dt, **kw),
    "RNN-relu": lambda D, H, dt, **kw: RNN(D, H, nonlinearity="relu", rng=0, dtype=dt, **kw),
    "LSTM": lambda D, H, dt, **kw: LSTM(D, H, rng=0, dtype=dt, **kw),
    "GRU": lambda D, H, dt, **kw: GRU(D, H, rng=0, dtype=dt, **kw),
}


def tensor(a, device, dtype, grad=False):
    return torch.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=grad)


def assert_close(ours, theirs, tol, what):
    theirs = theirs.detach().cpu().numpy() if isinstance(theirs, torch.Tensor) else theirs
    scale = max(1.0, float(np.abs(theirs).max()))  # float32: rounding grows with the magnitude
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * scale, err_msg=what)


def compare(layer, N, T, device, with_state, rng):
    """Forward and backward through both libraries; compare everything."""
    dt = layer.dtype.type
    tol, tdt = TOL[dt], TORCH_DTYPE[dt]
    ref = to_torch(layer, device=device)
    is_lstm = isinstance(layer, LSTM)
    D, H = layer.input_size, layer.hidden_size
    x = rng.normal(size=(N, T, D))
    h0, c0 = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    dout, dh_n, dc_n = rng.normal(size=(N, T, H)), rng.normal(size=(N, H)), rng.normal(size=(N, H))

    xt = tensor(x, device, tdt, grad=True)
    h0t, c0t = tensor(h0[None], device, tdt, grad=True), tensor(c0[None], device, tdt, grad=True)
    if is_lstm:
        yt, (hnt, cnt) = ref(xt, (h0t, c0t)) if with_state else ref(xt)
    else:
        yt, hnt = ref(xt, h0t) if with_state else ref(xt)
    loss = (yt * tensor(dout, device, tdt)).sum() + (hnt[0] * tensor(dh_n, device, tdt)).sum()
    if is_lstm:
        loss = loss + (cnt[0] * tensor(dc_n, device, tdt)).sum()
    loss.backward()

    state = ((h0, c0) if is_lstm else h0) if with_state else None
    y = layer(x.astype(dt), state)
    assert y.dtype == dt and y.shape == (N, T, H)
    assert_close(y, yt, tol, "out")
    assert_close(layer.h_n, hnt[0], tol, "h_n")
    grads = layer.backward(dout, dh_n, dc_n) if is_lstm else layer.backward(dout, dh_n)
    dx, dstate = grads if with_state else (grads, None)  # (dx, dh0) or (dx, (dh0, dc0))
    assert dx.dtype == dt
    assert_close(dx, xt.grad, tol, "dx")
    for key, grad in torch_grads(layer, ref).items():
        assert_close(layer.grads[key], grad, tol, f"d{key}")
    if with_state:
        assert_close(dstate[0] if is_lstm else dstate, h0t.grad[0], tol, "dh0")
    if is_lstm:
        assert_close(layer.c_n, cnt[0], tol, "c_n")
        if with_state:
            assert_close(dstate[1], c0t.grad[0], tol, "dc0")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-T{}-D{}-H{}".format(*s))
@pytest.mark.parametrize("kind", LAYERS)
def test_layer_matches_torch(kind, shape, dtype, device):
    N, T, D, H = shape
    rng = np.random.default_rng(sum(shape))
    for with_state in (False, True):
        compare(LAYERS[kind](D, H, dtype), N, T, device, with_state, rng)


@pytest.mark.parametrize("kind", LAYERS)
def test_layer_without_bias_matches_torch(kind, device):
    layer = LAYERS[kind](3, 4, np.float64, bias=False)
    assert layer.bias is False and set(layer.params) == {"W_x", "W_h"}
    compare(layer, 2, 4, device, True, np.random.default_rng(0))


def test_twin_helpers_reject_mismatched_modules():
    with pytest.raises(ValueError, match=r"LSTM expected weight_ih_l0 of shape \(16, 3\)"):
        copy_weights(LSTM(3, 4, rng=0), torch.nn.LSTM(3, 5, batch_first=True))
    with pytest.raises(ValueError, match="has no gradient"):
        torch_grads(GRU(3, 4, rng=0), torch.nn.GRU(3, 4, batch_first=True))


@pytest.mark.parametrize("ignore_index", [None, 0, -100])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_sequence_cross_entropy_matches_torch(ignore_index, dtype, device):
    rng = np.random.default_rng(4)
    N, T, V = 3, 5, 7
    logits = 3 * rng.normal(size=(N, T, V))
    targets = rng.integers(0, V, size=(N, T))
    if ignore_index is not None:
        targets[rng.random((N, T)) < 0.4] = ignore_index
        targets[0, 0] = ignore_index
    tdt, tol = TORCH_DTYPE[dtype], TOL[dtype]
    zt = tensor(logits.reshape(-1, V), device, tdt, grad=True)
    crit = torch.nn.CrossEntropyLoss(ignore_index=-100 if ignore_index is None else ignore_index)
    value = crit(zt, torch.tensor(targets.reshape(-1), device=device))
    (0.7 * value).backward()
    loss = SequenceCrossEntropyLoss(ignore_index)
    ours = loss(logits.astype(dtype), targets)
    assert abs(ours - value.item()) < tol * max(1.0, abs(value.item()))
    dz = loss.backward(0.7)
    assert dz.dtype == dtype and dz.shape == (N, T, V)
    assert_close(dz, zt.grad.reshape(N, T, V), tol, "dlogits")
    if ignore_index is not None:
        assert not dz[targets == ignore_index].any()  # exactly 0 at the padding
