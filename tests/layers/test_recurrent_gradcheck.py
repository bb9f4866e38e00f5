"""Backpropagation through time against float64 numerical gradients (chapters 14 and 15).

A REGISTRY of cases, as in tests/layers/test_layers_gradcheck.py, each checked over
whole sequences with dlbook.diagnostics.gradcheck: RNN (tanh, relu), LSTM and GRU, with
and without bias, stateful after a first window, and wrapped in ``WithState``,
which makes the initial state an input and the final state an output, so the
same check also covers the returned dh0 / dc0 and the dh_n / dc_n inputs of
backward. Plus: backward returns (dx, dh0) or (dx, (dh0, dc0)) exactly when
forward got a state, dout untouched, gradients accumulating until zero_grad,
the sequence loss with and without ignore_index, and a wrong BPTT caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer, check_loss
from dlbook.layers.base import Layer
from dlbook.layers.gru import GRU
from dlbook.layers.lstm import LSTM
from dlbook.layers.rnn import RNN, rnn_step, rnn_step_backward
from dlbook.layers.seq_loss import SequenceCrossEntropyLoss
from layer_protocol import (assert_accumulates_until_zero_grad,
                            assert_backward_returns_input_gradients)

F64 = np.float64
D, H = 3, 4
WEIGHT_SCALE = 0.6
"""Random weights of this size keep the gates away from saturation, where every gradient is ~0."""
BUG_ERROR = 1e-3


class WithState(Layer):
    """(x, h0[, c0]) -> (out, h_n[, c_n]) as one flat input and one flat output.

    check_layer then compares dx together with dh0 (and dc0) against
    numerical gradients, for a random upstream gradient that also has dh_n
    (and dc_n) parts. The wrapped layer is a registered sublayer.
    """

    def __init__(self, layer, N: int, T: int):
        super().__init__()
        self.layer, self.N, self.T = layer, N, T
        self.n_states = 2 if isinstance(layer, LSTM) else 1

    def _split(self, flat, first_shape):
        flat = np.asarray(flat)
        k = int(np.prod(first_shape))
        states = np.split(flat[k:], self.n_states)
        return flat[:k].reshape(first_shape), [s.reshape(self.N, -1) for s in states]

    def forward_args(self, flat):
        """The wrapped layer's forward arguments: (x, h0) or (x, (h0, c0))."""
        x, states = self._split(flat, (self.N, self.T, self.layer.input_size))
        return x, (tuple(states) if self.n_states == 2 else states[0])

    def forward(self, flat):
        out = self.layer(*self.forward_args(flat))
        finals = [self.layer.h_n] + ([self.layer.c_n] if self.n_states == 2 else [])
        return np.concatenate([out.ravel()] + [s.ravel() for s in finals])

    def backward(self, dflat):
        dout, dstates = self._split(dflat, (self.N, self.T, self.layer.hidden_size))
        dx, dstate = self.layer.backward(dout, *dstates)  # (dx, dh0) or (dx, (dh0, dc0))
        starts = list(dstate) if self.n_states == 2 else [dstate]
        return np.concatenate([dx.ravel()] + [s.ravel() for s in starts])


def with_state(factory, N, T):
    return lambda rng: WithState(factory(rng), N, T)


def after_one_window(factory):
    """A stateful layer that already ran one window: the next call starts from its state."""
    def make(rng):
        layer = factory(rng)
        layer(rng.normal(size=(2, 3, D)))
        return layer
    return make


def flat_size(N, T, n_states):
    return (N * T * D + n_states * N * H,)


@dataclass(frozen=True)
class Case:
    name: str
    factory: Callable[[np.random.Generator], object]  # rng -> float64 layer
    shape: tuple[int, ...]
    targets: Callable | None = None  # losses only


def rnn(**kw):
    return lambda rng: RNN(D, H, rng=rng, dtype=F64, **kw)


def lstm(**kw):
    return lambda rng: LSTM(D, H, rng=rng, dtype=F64, **kw)


def gru(**kw):
    return lambda rng: GRU(D, H, rng=rng, dtype=F64, **kw)


def seq_labels(ignore=None):
    def make(rng, shape):
        y = rng.integers(0, shape[2], size=shape[:2])
        if ignore is not None:
            y[rng.random(shape[:2]) < 0.3] = ignore  # about a third of the positions padded
            y[0, 0] = ignore
        return y
    return make


REGISTRY = [
    Case("RNN-tanh", rnn(), (2, 5, D)),
    Case("RNN-relu", rnn(nonlinearity="relu"), (2, 5, D)),
    Case("RNN-no-bias", rnn(bias=False), (2, 5, D)),
    Case("RNN-T1-N1", rnn(), (1, 1, D)),
    Case("RNN-stateful", after_one_window(rnn(stateful=True)), (2, 4, D)),
    Case("RNN-state", with_state(rnn(), 2, 4), flat_size(2, 4, 1)),
    Case("RNN-relu-state", with_state(rnn(nonlinearity="relu"), 2, 4), flat_size(2, 4, 1)),
    Case("LSTM", lstm(), (2, 5, D)),
    Case("LSTM-no-bias", lstm(bias=False), (2, 5, D)),
    Case("LSTM-T1-N1", lstm(), (1, 1, D)),
    Case("LSTM-stateful", after_one_window(lstm(stateful=True)), (2, 4, D)),
    Case("LSTM-state", with_state(lstm(), 2, 4), flat_size(2, 4, 2)),
    Case("LSTM-no-bias-state", with_state(lstm(bias=False), 3, 2), flat_size(3, 2, 2)),
    Case("GRU", gru(), (2, 5, D)),
    Case("GRU-no-bias", gru(bias=False), (2, 5, D)),
    Case("GRU-T1-N1", gru(), (1, 1, D)),
    Case("GRU-stateful", after_one_window(gru(stateful=True)), (2, 4, D)),
    Case("GRU-state", with_state(gru(), 2, 4), flat_size(2, 4, 1)),
    Case("SequenceCrossEntropyLoss", lambda rng: SequenceCrossEntropyLoss(), (3, 4, 5),
         seq_labels()),
    Case("SequenceCrossEntropyLoss-ignore", lambda rng: SequenceCrossEntropyLoss(ignore_index=0),
         (3, 4, 5), seq_labels(ignore=0)),
    Case("SequenceCrossEntropyLoss-ignore-100",
         lambda rng: SequenceCrossEntropyLoss(ignore_index=-100), (2, 6, 3), seq_labels(-100)),
]
LAYER_CASES = [c for c in REGISTRY if c.targets is None]


def build(case: Case):
    rng = np.random.default_rng(0)
    layer = case.factory(rng)
    for param in layer.params.values():
        param[...] = WEIGHT_SCALE * rng.normal(size=param.shape)
    return layer, rng.normal(size=case.shape), rng


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.name)
def test_gradients_match_numerical_gradients(case):
    layer, x, rng = build(case)
    if case.targets is None:
        errors = check_layer(layer, x, rng=rng)
        assert set(errors) == {"x", *layer.params}
    else:
        errors = check_loss(layer, 3 * x, case.targets(rng, case.shape), rng=rng)
    bad = {k: f"{e:.1e}" for k, e in errors.items() if not e < GRADCHECK_TOL}
    assert not bad, f"{case.name}: relative errors above {GRADCHECK_TOL}: {bad}"


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_backward_leaves_dout_and_state_gradients_unchanged(case):
    layer, x, rng = build(case)
    out = layer(x)
    dout, dh_n, dc_n = rng.normal(size=out.shape), rng.normal(size=(2, H)), rng.normal(size=(2, H))
    copies = [a.copy() for a in (dout, dh_n, dc_n)]
    if isinstance(layer, WithState) or out.shape[0] != 2:
        layer.backward(dout)
    elif isinstance(layer, LSTM):
        layer.backward(dout, dh_n, dc_n)
    else:
        layer.backward(dout, dh_n)
    for after, before in zip((dout, dh_n, dc_n), copies):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_backward_returns_the_gradients_of_the_forward_inputs(case):
    """dx alone without a state (zeros or carried); (dx, dh0) or (dx, (dh0, dc0)) with one."""
    layer, x, rng = build(case)
    if isinstance(layer, WithState):
        layer, args = layer.layer, layer.forward_args(x)
    else:
        args = (x,)
    assert_backward_returns_input_gradients(layer, args, rng)


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_backward_accumulates_until_zero_grad(case):
    layer, x, rng = build(case)
    assert_accumulates_until_zero_grad(layer, x, rng)


class StepwiseRNN(RNN):
    """BPTT written with rnn_step_backward; ``sum_over_time=False`` is the classic bug of
    keeping only one step's weight gradient instead of the sum over time steps."""

    def __init__(self, *args, sum_over_time=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.sum_over_time = sum_over_time

    def backward(self, dout, dh_n=None):
        X, hs, _ = self._cache  # (inputs, states, whether an h0 was given)
        T, N, _ = X.shape
        p = self.params
        dh, dxs, dW = np.zeros((N, self.hidden_size)), [], {}
        for t in reversed(range(T)):
            cache = (X[t], hs[t], p["W_x"], p["W_h"], hs[t + 1], self.nonlinearity, True)
            dx_t, dh, dW_x, dW_h, db = rnn_step_backward(dh + dout[:, t], cache)
            dxs.append(dx_t)
            for k, g in zip(("W_x", "W_h", "b"), (dW_x, dW_h, db)):
                dW[k] = dW.get(k, 0) + g if self.sum_over_time else g
        for k, g in dW.items():
            self.grads[k] += g
        return np.stack(dxs[::-1], axis=1)


def test_bptt_from_step_functions_passes_and_dropping_the_time_sum_is_caught():
    x = np.random.default_rng(1).normal(size=(2, 6, D))
    errors = check_layer(StepwiseRNN(D, H, rng=0, dtype=F64), x)
    assert max(errors.values()) < GRADCHECK_TOL
    errors = check_layer(StepwiseRNN(D, H, rng=0, dtype=F64, sum_over_time=False), x)
    assert errors["x"] < GRADCHECK_TOL  # dx never needed the sum ...
    assert min(errors["W_x"], errors["W_h"], errors["b"]) > BUG_ERROR  # ... the weights do


def test_wrong_tanh_derivative_is_caught():
    """da = dh * (1 - a^2) (the pre-activation instead of h) is a bug the check sees."""
    h0 = np.zeros((2, H))
    W_x, W_h, b = (np.random.default_rng(2).normal(size=s) for s in ((D, H), (H, H), (H,)))
    x_t = np.random.default_rng(3).normal(size=(2, D))
    h, cache = rnn_step(x_t, h0, W_x, W_h, b)
    a = x_t @ W_x + h0 @ W_h + b
    dh = np.ones_like(h)
    right = rnn_step_backward(dh, cache)[2]
    eps = 1e-6  # central difference of sum(h) with respect to W_x[0, 0]
    Wp, Wm = W_x.copy(), W_x.copy()
    Wp[0, 0] += eps
    Wm[0, 0] -= eps
    numeric = (rnn_step(x_t, h0, Wp, W_h, b)[0].sum() - rnn_step(x_t, h0, Wm, W_h, b)[0].sum())
    numeric /= 2 * eps
    wrong = x_t.T @ (dh * (1 - a * a))
    assert abs(right[0, 0] - numeric) < 1e-8
    assert abs(wrong[0, 0] - numeric) > BUG_ERROR


def test_all_ignored_positions_give_nan_loss_and_zero_gradient():
    loss = SequenceCrossEntropyLoss(ignore_index=-1)
    value = loss(np.ones((2, 3, 4)), -np.ones((2, 3), dtype=int))
    assert np.isnan(value)
    np.testing.assert_array_equal(loss.backward(), np.zeros((2, 3, 4)))
