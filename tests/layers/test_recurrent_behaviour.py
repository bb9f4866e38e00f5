"""What the recurrent layers do beyond their gradients (chapters 14 and 15).

Stateful truncated BPTT over windows reproduces one long forward pass and
stops gradients at window boundaries; reset_state; the teaching step
functions agree with the fused layers, forward and backward; initialisation
and dtypes; clear errors for bad input, naming the class.
"""

import numpy as np
import pytest

from dlbook.layers.gru import GRU, gru_step, gru_step_backward
from dlbook.layers.lstm import LSTM, lstm_step, lstm_step_backward
from dlbook.layers.rnn import RNN, rnn_step, rnn_step_backward
from dlbook.layers.seq_loss import SequenceCrossEntropyLoss

F64 = np.float64
D, H = 3, 5
KINDS = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}
CLOSE = dict(rtol=1e-12, atol=1e-12)


def make(kind, **kw):
    kw.setdefault("dtype", F64)
    return KINDS[kind](D, H, rng=0, **kw)


def final_state(layer):
    return (layer.h_n, layer.c_n) if isinstance(layer, LSTM) else (layer.h_n,)


# stateful truncated BPTT -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_stateful_windows_equal_one_long_forward_pass(kind):
    x = np.random.default_rng(0).normal(size=(2, 12, D))
    whole = make(kind)
    expected = whole(x)
    windowed = make(kind, stateful=True)
    outs = [windowed(x[:, s:s + 4]) for s in range(0, 12, 4)]
    np.testing.assert_allclose(np.concatenate(outs, axis=1), expected, **CLOSE)
    for a, b in zip(final_state(windowed), final_state(whole)):
        np.testing.assert_allclose(a, b, **CLOSE)


@pytest.mark.parametrize("kind", KINDS)
def test_stateful_gradients_stop_at_the_window_boundary(kind):
    """Window 2's backward equals a fresh layer's on window 2 started from the carried state."""
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=(2, 4, D)), rng.normal(size=(2, 3, D))
    dout = rng.normal(size=(2, 3, H))
    stateful = make(kind, stateful=True)
    stateful(x1)
    carried = final_state(stateful)
    stateful(x2)
    dx = stateful.backward(dout)  # the carried state is no input: dx alone
    assert isinstance(dx, np.ndarray)
    plain = make(kind)
    plain(x2, carried if kind == "LSTM" else carried[0])
    dx_plain, _ = plain.backward(dout)  # an explicit state is an input: (dx, dstate)
    np.testing.assert_allclose(dx, dx_plain, **CLOSE)
    for key in plain.grads:
        np.testing.assert_allclose(stateful.grads[key], plain.grads[key], **CLOSE)


@pytest.mark.parametrize("kind", KINDS)
def test_reset_state_and_explicit_state_override_the_carried_one(kind):
    x = np.random.default_rng(2).normal(size=(2, 4, D))
    fresh = make(kind)(x)
    layer = make(kind, stateful=True)
    first = layer(x)
    np.testing.assert_array_equal(first, fresh)  # the first call starts from zeros
    assert not np.allclose(layer(x), fresh)  # the second continues from the first's state
    layer.reset_state()
    np.testing.assert_array_equal(layer(x), fresh)
    zeros = np.zeros((2, H))
    np.testing.assert_array_equal(layer(x, (zeros, zeros) if kind == "LSTM" else zeros), fresh)


@pytest.mark.parametrize("kind", KINDS)
def test_carried_state_is_a_copy_and_outputs_are_not_overwritten(kind):
    x = np.random.default_rng(3).normal(size=(2, 4, D))
    layer = make(kind, stateful=True)
    out1 = layer(x)
    saved = out1.copy()
    layer.h_n[...] = 99.0  # the public attribute is not the carried state
    out2 = layer(x)
    np.testing.assert_array_equal(out1, saved)  # the second call did not reuse out1's memory
    reference = make(kind, stateful=True)
    reference(x)
    np.testing.assert_array_equal(out2, reference(x))


@pytest.mark.parametrize("kind", KINDS)
def test_stateful_batch_size_change_needs_reset(kind):
    layer = make(kind, stateful=True)
    layer(np.zeros((2, 3, D)))
    with pytest.raises(ValueError, match=rf"{kind}.forward \(stateful\) carries a state for a "
                                         r"batch of 2; got a batch of 3. Call reset_state"):
        layer(np.zeros((3, 3, D)))
    layer.reset_state()
    assert layer(np.zeros((3, 3, D))).shape == (3, 3, H)


# step functions agree with the layers ----------------------------------------------------------

def test_rnn_steps_agree_with_the_layer():
    rng = np.random.default_rng(4)
    for nonlinearity in ("tanh", "relu"):
        layer = RNN(D, H, nonlinearity=nonlinearity, rng=0, dtype=F64)
        x, h0, dout, dh_n = (rng.normal(size=s) for s in ((2, 6, D), (2, H), (2, 6, H), (2, H)))
        p = layer.params
        h, caches = h0, []
        for t in range(6):
            h, cache = rnn_step(x[:, t], h, p["W_x"], p["W_h"], p["b"], nonlinearity)
            caches.append(cache)
            np.testing.assert_allclose(layer(x, h0)[:, t], h, **CLOSE)
        np.testing.assert_allclose(layer.h_n, h, **CLOSE)
        dx, dh0 = layer.backward(dout, dh_n)
        dh, sums = dh_n, [0, 0, 0]
        for t in reversed(range(6)):
            dx_t, dh, *dparams = rnn_step_backward(dh + dout[:, t], caches[t])
            np.testing.assert_allclose(dx[:, t], dx_t, **CLOSE)
            sums = [s + g for s, g in zip(sums, dparams)]
        np.testing.assert_allclose(dh0, dh, **CLOSE)
        for key, total in zip(("W_x", "W_h", "b"), sums):
            np.testing.assert_allclose(layer.grads[key], total, **CLOSE)


def test_lstm_steps_agree_with_the_layer():
    rng = np.random.default_rng(5)
    layer = LSTM(D, H, rng=0, dtype=F64)
    x, h0, c0, dout, dh_n, dc_n = (rng.normal(size=s) for s in
                                   ((2, 6, D), (2, H), (2, H), (2, 6, H), (2, H), (2, H)))
    out = layer(x, (h0, c0))
    dx, (dh0, dc0) = layer.backward(dout, dh_n, dc_n)
    p = layer.params
    h, c, caches = h0, c0, []
    for t in range(6):
        h, c, cache = lstm_step(x[:, t], h, c, p["W_x"], p["W_h"], p["b"])
        caches.append(cache)
        np.testing.assert_allclose(out[:, t], h, **CLOSE)
    np.testing.assert_allclose(layer.c_n, c, **CLOSE)
    dh, dc, sums = dh_n, dc_n, [0, 0, 0]
    for t in reversed(range(6)):
        dx_t, dh, dc, *dparams = lstm_step_backward(dh + dout[:, t], dc, caches[t])
        np.testing.assert_allclose(dx[:, t], dx_t, **CLOSE)
        sums = [s + g for s, g in zip(sums, dparams)]
    np.testing.assert_allclose(dh0, dh, **CLOSE)
    np.testing.assert_allclose(dc0, dc, **CLOSE)
    for key, total in zip(("W_x", "W_h", "b"), sums):
        np.testing.assert_allclose(layer.grads[key], total, **CLOSE)


def test_gru_steps_agree_with_the_layer():
    rng = np.random.default_rng(6)
    layer = GRU(D, H, rng=0, dtype=F64)
    x, h0, dout, dh_n = (rng.normal(size=s) for s in ((2, 6, D), (2, H), (2, 6, H), (2, H)))
    out = layer(x, h0)
    dx, dh0 = layer.backward(dout, dh_n)
    p = layer.params
    h, caches = h0, []
    for t in range(6):
        h, cache = gru_step(x[:, t], h, p["W_x"], p["W_h"], p["b_x"], p["b_h"])
        caches.append(cache)
        np.testing.assert_allclose(out[:, t], h, **CLOSE)
    dh, sums = dh_n, [0, 0, 0, 0]
    for t in reversed(range(6)):
        dx_t, dh, *dparams = gru_step_backward(dh + dout[:, t], caches[t])
        np.testing.assert_allclose(dx[:, t], dx_t, **CLOSE)
        sums = [s + g for s, g in zip(sums, dparams)]
    np.testing.assert_allclose(dh0, dh, **CLOSE)
    for key, total in zip(("W_x", "W_h", "b_x", "b_h"), sums):
        np.testing.assert_allclose(layer.grads[key], total, **CLOSE)


def test_step_functions_without_bias():
    rng = np.random.default_rng(7)
    x_t, h = rng.normal(size=(2, D)), rng.normal(size=(2, H))
    W = {g: (rng.normal(size=(D, g * H)), rng.normal(size=(H, g * H))) for g in (1, 3, 4)}
    assert rnn_step_backward(h, rnn_step(x_t, h, *W[1])[1])[-1] is None
    assert lstm_step_backward(h, h, lstm_step(x_t, h, h, *W[4])[2])[-1] is None
    assert gru_step_backward(h, gru_step(x_t, h, *W[3])[1])[-2:] == (None, None)
    with pytest.raises(ValueError, match="rnn_step expected nonlinearity in"):
        rnn_step(x_t, h, *W[1], nonlinearity="sigmoid")


# initialisation, dtypes, the optional arguments -------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_initialisation_dtype_and_reproducibility(kind):
    layer = KINDS[kind](D, 16, rng=3)
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[kind]
    assert layer.params["W_x"].shape == (D, gates * 16)
    assert layer.params["W_h"].shape == (16, gates * 16)
    for p in layer.params.values():
        assert p.dtype == np.float32
        assert np.abs(p).max() <= 1 / np.sqrt(16)  # U(-1/sqrt(H), 1/sqrt(H)), as in PyTorch
    again = KINDS[kind](D, 16, rng=3)
    assert all(np.array_equal(a, b) for a, b in zip(layer.params.values(), again.params.values()))
    y = layer(np.arange(2 * 4 * D).reshape(2, 4, D) / 10)  # integer-valued float64 input ...
    assert y.dtype == np.float32  # ... computed in the layer's dtype
    assert layer.backward(np.ones((2, 4, 16))).dtype == np.float32
    assert repr(layer).startswith(f"{kind}(input_size={D}, hidden_size=16")


@pytest.mark.parametrize("kind", KINDS)
def test_dout_none_means_zero_and_forward_leaves_x_alone(kind):
    rng = np.random.default_rng(8)
    x, dh_n = rng.normal(size=(2, 4, D)), rng.normal(size=(2, H))
    x_before = x.copy()
    layer = make(kind)
    layer(x)
    np.testing.assert_array_equal(x, x_before)
    dx_none = layer.backward(None, dh_n)
    grads_none = {k: g.copy() for k, g in layer.grads.items()}
    layer.zero_grad()
    np.testing.assert_array_equal(layer.backward(np.zeros((2, 4, H)), dh_n), dx_none)
    for k in grads_none:
        np.testing.assert_array_equal(layer.grads[k], grads_none[k])


# clear errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_bad_inputs_name_the_class(kind):
    layer = make(kind)
    with pytest.raises(RuntimeError, match=f"{kind}.backward called before forward"):
        layer.backward(np.zeros((2, 4, H)))
    for bad in (np.zeros((4, D)), np.zeros((2, 4, D + 1)), np.zeros((2, 0, D))):
        with pytest.raises(ValueError, match=rf"{kind}.forward expected x of shape \(N, T, {D}\)"):
            layer(bad)
    with pytest.raises(TypeError, match=f"{kind}.forward expected x to be a real-valued array"):
        layer(np.full((2, 4, D), "a"))
    state = (np.zeros((3, H)), np.zeros((2, H))) if kind == "LSTM" else np.zeros((3, H))
    with pytest.raises(ValueError, match=rf"{kind}.forward expected h0 of shape \(2, {H}\)"):
        layer(np.zeros((2, 4, D)), state)
    layer(np.zeros((2, 4, D)))
    with pytest.raises(ValueError, match=rf"{kind}.backward expected dout of shape \(2, 4, {H}\)"):
        layer.backward(np.zeros((2, 4, H + 1)))
    with pytest.raises(ValueError, match=rf"{kind}.backward expected dh_n of shape \(2, {H}\)"):
        layer.backward(np.zeros((2, 4, H)), np.zeros((1, H)))
    with pytest.raises(TypeError, match=f"{kind} expected hidden_size to be an int"):
        KINDS[kind](D, 2.5)
    with pytest.raises(ValueError, match=f"{kind} expected input_size >= 1"):
        KINDS[kind](0, H)
    with pytest.raises(TypeError, match=f"{kind} expected a floating dtype"):
        KINDS[kind](D, H, dtype=np.int64)


def test_lstm_and_rnn_specific_errors():
    lstm = make("LSTM")
    with pytest.raises(TypeError, match="LSTM.forward expected state to be a pair"):
        lstm(np.zeros((2, 4, D)), np.zeros((2, H)))
    with pytest.raises(ValueError, match=rf"LSTM.forward expected c0 of shape \(2, {H}\)"):
        lstm(np.zeros((2, 4, D)), (np.zeros((2, H)), np.zeros((2, H + 1))))
    lstm(np.zeros((2, 4, D)))
    with pytest.raises(ValueError, match=rf"LSTM.backward expected dc_n of shape \(2, {H}\)"):
        lstm.backward(None, None, np.zeros(H))
    with pytest.raises(ValueError, match="RNN expected nonlinearity in"):
        RNN(D, H, nonlinearity="sigmoid")


def test_sequence_loss_errors():
    S = "SequenceCrossEntropyLoss"
    loss = SequenceCrossEntropyLoss(ignore_index=0)
    z, y = np.zeros((2, 3, 4)), np.ones((2, 3), dtype=int)
    with pytest.raises(ValueError, match=rf"{S} expected logits of shape \(N, T, V\)"):
        loss(z[0], y)
    with pytest.raises(ValueError, match=rf"{S} expected targets of shape \(2, 3\)"):
        loss(z, y[:, :2])
    with pytest.raises(ValueError, match=r"expected labels in \[0, 4\) outside ignore_index=0"):
        loss(z, np.full((2, 3), 4))
    with pytest.raises(TypeError, match=f"{S} expected targets to hold integer"):
        loss(z, np.full((2, 3), 0.5))
    with pytest.raises(TypeError, match="expected ignore_index to be an int or None"):
        SequenceCrossEntropyLoss(ignore_index=0.5)
    with pytest.raises(RuntimeError, match=f"{S}.backward called before"):
        loss.backward()
    loss(z, y)
    with pytest.raises(ValueError, match=f"{S}.backward expected a scalar dout"):
        loss.backward(np.ones(2))


def test_sequence_loss_ignores_padding_and_averages_over_the_rest():
    z = np.random.default_rng(9).normal(size=(2, 4, 6))
    y = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])  # 0 = padding: 3 real tokens
    padded = SequenceCrossEntropyLoss(ignore_index=0)(z, y)
    logp = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    expected = -(logp[0, 0, 1] + logp[0, 1, 2] + logp[1, 0, 3]) / 3
    assert abs(padded - expected) < 1e-12
    assert SequenceCrossEntropyLoss()(z, y) != padded  # without ignore_index the padding counts
