"""Every layer's backward pass against float64 numerical gradients (chapter 5).

One generic checker (dlbook.diagnostics.gradcheck) runs over a REGISTRY of cases; adding
a layer to the package means adding one line here. For each case: the input
and every parameter gradient agree with central differences to
GRADCHECK_TOL, ``dout`` is left untouched, and gradients accumulate across
backward calls until ``zero_grad``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import dlbook.layers as L
from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer, check_loss, norm_relative_error
from dlbook.layers import (BatchNorm1d, CrossEntropyLoss, Dropout, LayerNorm, Linear, MSELoss,
                           ReLU, Sequential, Sigmoid, Tanh)
from layer_protocol import (assert_accumulates_until_zero_grad, assert_dout_unchanged,
                            assert_gradients_match_numerical, random_case)

F64 = np.float64
BUG_ERROR = 1e-3
"""A wrong backward pass gives a relative error far above this (a correct one far below)."""


@dataclass(frozen=True)
class Case:
    name: str
    factory: Callable[[np.random.Generator], object]  # rng -> layer with float64 parameters
    shape: tuple[int, ...]  # input shape
    targets: Callable[[np.random.Generator, tuple], np.ndarray] | None = None  # losses only


def batchnorm_after_training(rng: np.random.Generator) -> BatchNorm1d:
    """A BatchNorm1d in eval mode whose running statistics are not the initial 0 and 1."""
    bn = BatchNorm1d(4, dtype=F64)
    for _ in range(3):
        bn(rng.normal(2.0, 3.0, size=(8, 4)))
    return bn.eval()


def small_network(rng: np.random.Generator) -> Sequential:
    """Every kind of layer in one stack (no bias before BatchNorm: its gradient is exactly 0)."""
    return Sequential(Linear(4, 6, bias=False, rng=rng, dtype=F64), BatchNorm1d(6, dtype=F64),
                      ReLU(), Dropout(0.3, rng=rng), Linear(6, 5, rng=rng, dtype=F64),
                      LayerNorm(5, dtype=F64), Tanh(), Linear(5, 3, rng=rng, dtype=F64), Sigmoid())


def labels(rng, shape):
    return rng.integers(0, shape[1], size=shape[0])


def reals(rng, shape):
    return rng.normal(size=shape)


REGISTRY = [
    Case("Linear", lambda rng: Linear(4, 3, rng=rng, dtype=F64), (5, 4)),
    Case("Linear-no-bias", lambda rng: Linear(4, 3, bias=False, rng=rng, dtype=F64), (5, 4)),
    Case("Linear-3d-input", lambda rng: Linear(4, 3, rng=rng, dtype=F64), (2, 5, 4)),
    Case("ReLU", lambda rng: ReLU(), (5, 4)),
    Case("Sigmoid", lambda rng: Sigmoid(), (5, 4)),
    Case("Tanh", lambda rng: Tanh(), (5, 4)),
    Case("Dropout", lambda rng: Dropout(0.4, rng=rng), (5, 4)),
    Case("Dropout-eval", lambda rng: Dropout(0.4, rng=rng).eval(), (5, 4)),
    Case("BatchNorm1d", lambda rng: BatchNorm1d(4, dtype=F64), (6, 4)),
    Case("BatchNorm1d-no-affine", lambda rng: BatchNorm1d(4, affine=False, dtype=F64), (6, 4)),
    Case("BatchNorm1d-eval", batchnorm_after_training, (6, 4)),
    Case("BatchNorm2d", lambda rng: L.BatchNorm2d(3, dtype=F64), (2, 3, 4, 5)),
    Case("LayerNorm", lambda rng: LayerNorm(4, dtype=F64), (5, 4)),
    Case("LayerNorm-3d-input", lambda rng: LayerNorm(4, dtype=F64), (2, 3, 4)),
    Case("LayerNorm-no-affine",
         lambda rng: LayerNorm(4, elementwise_affine=False, dtype=F64), (5, 4)),
    Case("Sequential", small_network, (5, 4)),
    Case("TiedLinear", lambda rng: L.TiedLinear(L.Embedding(6, 4, rng=rng, dtype=F64)), (2, 3, 4)),
    Case("Conv2d", lambda rng: L.Conv2d(3, 4, 3, stride=2, padding=1, rng=rng, dtype=F64), (2, 3, 7, 6)),
    Case("Conv1d", lambda rng: L.Conv1d(3, 4, 3, padding=1, rng=rng, dtype=F64), (2, 3, 9)),
    Case("MaxPool2d", lambda rng: L.MaxPool2d(3, 2, 1), (2, 3, 7, 6)),
    Case("AvgPool2d", lambda rng: L.AvgPool2d(2, 1, 1), (2, 3, 5, 4)),
    Case("MaxPool1d", lambda rng: L.MaxPool1d(3, 2, 1), (2, 3, 9)),
    Case("GlobalMaxPool1d", lambda rng: L.GlobalMaxPool1d(), (2, 3, 7)),
    Case("Flatten", lambda rng: L.Flatten(), (2, 3, 4, 5)),
    Case("MeanPool", lambda rng: L.MeanPool(), (2, 3, 4)),
    Case("PositionalEncoding", lambda rng: L.PositionalEncoding(8), (2, 5, 8)),
    Case("FeedForward", lambda rng: L.FeedForward(8, 16, rng=rng, dtype=F64), (2, 5, 8)),
    Case("Upsample", lambda rng: L.Upsample(2, mode="bilinear"), (2, 3, 4, 5)),
    Case("ConvTranspose2d", lambda rng: L.ConvTranspose2d(3, 2, 3, stride=2, padding=1, rng=rng, dtype=F64),
         (2, 3, 4, 5)),
    Case("Transpose", lambda rng: L.Transpose(1, 2), (2, 5, 3)),
    Case("RNN", lambda rng: L.RNN(3, 4, rng=rng, dtype=F64), (2, 5, 3)),
    Case("LSTM", lambda rng: L.LSTM(3, 4, rng=rng, dtype=F64), (2, 5, 3)),
    Case("GRU", lambda rng: L.GRU(3, 4, rng=rng, dtype=F64), (2, 5, 3)),
    Case("CrossEntropyLoss", lambda rng: CrossEntropyLoss(), (5, 4), labels),
    Case("SequenceCrossEntropyLoss", lambda rng: L.SequenceCrossEntropyLoss(), (3, 4, 5),
         lambda rng, s: rng.integers(0, s[2], size=s[:2])),
    Case("MSELoss", lambda rng: MSELoss(), (5, 4), reals),
]
LAYER_CASES = [c for c in REGISTRY if c.targets is None]
LOSS_CASES = [c for c in REGISTRY if c.targets is not None]


def build(case: Case):
    """The case's layer with random parameters and input (layer_protocol.random_case)."""
    return random_case(case.factory, case.shape)


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.name)
def test_gradients_match_numerical_gradients(case):
    layer, x, rng = build(case)
    if case.targets is None:
        assert_gradients_match_numerical(layer, x, rng, case.name)
        return
    errors = check_loss(layer, x, case.targets(rng, case.shape), rng=rng)
    bad = {k: f"{e:.1e}" for k, e in errors.items() if not e < GRADCHECK_TOL}
    assert not bad, f"{case.name}: relative errors above {GRADCHECK_TOL}: {bad}"


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_backward_leaves_dout_unchanged(case):
    layer, x, rng = build(case)
    assert_dout_unchanged(layer, x, rng)


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c.name)
def test_backward_accumulates_until_zero_grad(case):
    layer, x, rng = build(case)
    assert_accumulates_until_zero_grad(layer, x, rng)


def test_every_exported_layer_is_registered():
    rng = np.random.default_rng(0)
    registered = {type(case.factory(rng)).__name__ for case in REGISTRY}
    # integer input (tests/layers/test_embedding.py) and a second input, the pooling indices
    # (tests/layers/test_upsample_gradcheck.py), are checked in their own files
    integer_input = {"Embedding", "EmbeddingBag", "MaxUnpool2d"}
    # several inputs (query, key, value), a decoder memory, or softmax saturation that needs
    # the second step size of tests/layers/test_attention_gradcheck.py, where these are checked
    integer_input |= {"ScaledDotProductAttention", "MultiheadAttention", "TransformerDecoderLayer",
                      "TransformerEncoderLayer"}
    not_layers = {"Layer", "LayerList", "eval_mode"}  # the base, a container with no forward, a helper
    assert set(L.__all__) - not_layers - integer_input <= registered


class LinearAveragingTwice(Linear):
    """A common bug: dividing dW by the batch size although the loss already took the mean."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] /= len(self._x)  # (the checker zeroes grads first)
        return dx


class BatchNormWithoutStatisticsPaths(BatchNorm1d):
    """Treats the batch mean and variance as constants: forgets two of the three paths."""

    def backward(self, dout):
        xhat, inv_std, _ = self._cache
        return self._scale_shift_backward(dout, xhat) * inv_std


class DoubleInPlace(ReLU):
    def backward(self, dout):
        dout *= 2  # forbidden: modifies the caller's array
        return super().backward(dout)


@pytest.mark.parametrize("broken, key", [
    (LinearAveragingTwice(4, 3, rng=0, dtype=F64), "W"),
    (BatchNormWithoutStatisticsPaths(4, dtype=F64), "x"),
])
def test_checker_catches_wrong_gradients(broken, key):
    x = np.random.default_rng(1).normal(size=(6, 4))
    assert check_layer(broken, x)[key] > BUG_ERROR


def test_checker_rejects_in_place_dout_float32_and_bad_dout():
    x = np.random.default_rng(1).normal(size=(6, 4))
    with pytest.raises(AssertionError, match="modified dout"):
        check_layer(DoubleInPlace(), x)
    with pytest.raises(TypeError, match="float64"):
        check_layer(Linear(4, 3, rng=0), x)
    with pytest.raises(ValueError, match=r"dout of shape \(6, 3\)"):
        check_layer(Linear(4, 3, rng=0, dtype=F64), x, dout=np.ones((6, 4)))


def test_checker_fixes_the_dropout_mask_and_leaves_running_stats_alone():
    drop = Dropout(0.5, rng=3)
    x = np.random.default_rng(2).normal(size=(20, 10))
    assert check_layer(drop, x)["x"] < GRADCHECK_TOL  # a fresh mask per evaluation would fail
    bn, x = BatchNorm1d(4, momentum=0.5, dtype=F64), np.random.default_rng(2).normal(size=(6, 4))
    check_layer(bn, x)
    np.testing.assert_allclose(bn.running_mean, 0.5 * x.mean(axis=0))  # one forward pass only


def test_norm_relative_error():
    a = np.array([1.0, 2.0, 0.0])
    assert norm_relative_error(a, a) == 0.0
    assert norm_relative_error(a, -a) == 1.0
    assert norm_relative_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="equal shapes"):
        norm_relative_error(a, a[:2])
