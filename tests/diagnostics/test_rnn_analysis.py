"""Chapters 14-15 helpers: gradient norms through time, the bidirectional layer, the plots."""

from __future__ import annotations

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer
from dlbook.layers.gru import GRU
from dlbook.layers.lstm import LSTM
from dlbook.layers.rnn import RNN
from dlbook.models.bidirectional import Bidirectional
from dlbook.diagnostics.grad_flow import hidden_grad_norms, spectral_radius, with_spectral_radius

F64 = np.float64


def dh_by_dh0_trick(layer, x, dh_T):
    """dL/dh_t as the dh0 of the layer run on the rest of the sequence from h_t (public API only)."""
    N, T, _ = x.shape
    norms = []
    for t in range(T + 1):
        if t == 0:  # an explicit zero state: an input, so backward returns its gradient
            zeros = np.zeros((N, layer.hidden_size))
            state = (zeros, zeros) if isinstance(layer, LSTM) else zeros
        else:
            layer.forward(x[:, :t])
            state = (layer.h_n, layer.c_n) if isinstance(layer, LSTM) else layer.h_n
        if t == T:
            norms.append(np.linalg.norm(dh_T, axis=1).mean())
            continue
        layer.forward(x[:, t:], state)
        if isinstance(layer, LSTM):
            _, (dh0, _) = layer.backward(None, dh_T, None)
        else:
            _, dh0 = layer.backward(None, dh_T)
        norms.append(np.linalg.norm(dh0, axis=1).mean())
    return np.array(norms)


@pytest.mark.parametrize("make", [lambda: RNN(3, 5, rng=0, dtype=F64),
                                  lambda: RNN(3, 5, nonlinearity="relu", rng=0, dtype=F64),
                                  lambda: LSTM(3, 5, rng=0, dtype=F64),
                                  lambda: GRU(3, 5, rng=0, dtype=F64)],
                         ids=["rnn", "rnn-relu", "lstm", "gru"])
def test_hidden_grad_norms_match_the_layers_own_backward(make):
    layer = make()
    rng = np.random.default_rng(0)
    x, dh_T = rng.normal(size=(4, 6, 3)), rng.normal(size=(4, 5))
    norms = hidden_grad_norms(layer, x, dh_T)
    np.testing.assert_allclose(norms["h"], dh_by_dh0_trick(layer, x, dh_T), rtol=1e-10)
    assert set(norms) == ({"h", "c"} if isinstance(layer, LSTM) else {"h"})
    assert norms["h"].shape == (7,)


def test_small_recurrent_weights_vanish_and_large_ones_explode():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 40, 4))
    rnn = RNN(4, 32, rng=0, dtype=F64)
    W = rng.normal(size=(32, 32))
    rnn.params["W_h"][...] = with_spectral_radius(W, 0.5)
    assert spectral_radius(rnn.params["W_h"]) == pytest.approx(0.5)
    small = hidden_grad_norms(rnn, x)["h"]
    rnn.params["W_h"][...] = with_spectral_radius(W, 3.0)
    large = hidden_grad_norms(rnn, x)["h"]
    assert small[0] < 1e-8 < 1e3 < large[0] and small[-1] == pytest.approx(1.0)


def test_spectral_radius_bad_inputs():
    with pytest.raises(ValueError, match="spectral_radius expected a square matrix"):
        spectral_radius(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="with_spectral_radius expected a matrix with a nonzero"):
        with_spectral_radius(np.zeros((2, 2)), 1.0)
    with pytest.raises(TypeError, match="hidden_grad_norms expected an RNN, LSTM or GRU"):
        hidden_grad_norms(object(), np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"hidden_grad_norms expected x of shape \(N, T, 3\)"):
        hidden_grad_norms(RNN(3, 2, rng=0), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"expected dh_T of shape \(1, 2\)"):
        hidden_grad_norms(RNN(3, 2, rng=0), np.zeros((1, 2, 3)), np.zeros((2, 2)))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bidirectional_gradients_and_reversal(cell):
    layer = Bidirectional(cell, 3, 4, rng=0, dtype=F64)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 3))
    errors = check_layer(layer, x, rng=rng)
    assert max(errors.values()) < GRADCHECK_TOL, errors
    out = layer.forward(x)
    assert out.shape == (2, 5, 8)
    np.testing.assert_allclose(out[:, :, :4], layer.fwd.forward(x))
    np.testing.assert_allclose(out[:, 0, 4:], layer.bwd.forward(x[:, ::-1])[:, -1])  # read all of x
    dout = rng.normal(size=out.shape)
    before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(dout, before)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_bidirectional_matches_torch(cell, device):
    torch = pytest.importorskip("torch")
    from dlbook.twins import copy_weights

    layer = Bidirectional(cell, 3, 4, rng=0, dtype=F64)
    rng = np.random.default_rng(2)
    for p in layer.params.values():
        p[...] = rng.normal(size=p.shape) * 0.5
    ref = getattr(torch.nn, cell.upper())(3, 4, bidirectional=True, batch_first=True,
                                           dtype=torch.float64, device=device)
    copy_weights(layer, ref)  # bwd -> the *_reverse weights
    x, dout = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 6, 8))
    xt = torch.tensor(x, device=device, requires_grad=True)
    yt, _ = ref(xt)
    yt.backward(torch.tensor(dout, device=device))
    np.testing.assert_allclose(layer.forward(x), yt.detach().cpu().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.cpu().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads["bwd.W_h"],
                               ref.weight_hh_l0_reverse.grad.T.cpu().numpy(), rtol=1e-10, atol=1e-12)


def test_bidirectional_bad_inputs():
    with pytest.raises(ValueError, match="Bidirectional expected cell to be one of"):
        Bidirectional("conv", 3, 4)
    layer = Bidirectional("rnn", 3, 4, rng=0)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.zeros((1, 2, 8)))
    layer.forward(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"expected dout of shape \(1, 2, 8\)"):
        layer.backward(np.zeros((1, 2, 4)))


def test_plot_unrolled_rnn(plt):
    from dlbook.plot.sequence import plot_unrolled_rnn
    ax = plot_unrolled_rnn(3, cell_label="RNN", title="unrolled")
    labels = [t.get_text() for t in ax.texts]
    assert labels.count("RNN") == 4 and "$x_{3}$" in labels and "$h_{3}$" in labels
    assert ax.get_title() == "unrolled"
    _, ax2 = plt.subplots()
    assert plot_unrolled_rnn(2, ax=ax2, folded=False) is ax2
    assert [t.get_text() for t in ax2.texts].count("tanh") == 2
    with pytest.raises(ValueError, match="plot_unrolled_rnn expected steps to be an int >= 1"):
        plot_unrolled_rnn(0)


def test_plot_grad_norms(plt):
    from dlbook.plot.sequence import plot_grad_norms
    ax = plot_grad_norms({"a": [1e-3, 1e-2, 1.0], "b": [0.0, 2.0, 1.0]}, title="norms")
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [1, 2])  # the zero is left out
    ax = plot_grad_norms({"a": [0.0, 1.0]}, logy=False)
    assert ax.get_yscale() == "linear" and len(ax.lines[0].get_xdata()) == 2
    with pytest.raises(ValueError, match="plot_grad_norms expected a non-empty mapping"):
        plot_grad_norms({})
    with pytest.raises(ValueError, match="plot_grad_norms expected 1-D norms for 'a'"):
        plot_grad_norms({"a": np.zeros((2, 2))})
