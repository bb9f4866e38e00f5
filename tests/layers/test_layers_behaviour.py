"""What the layers do, shown by statistics, and how they fail on bad input (chapters 5 and 8).

Train vs eval for Dropout and BatchNorm; BatchNorm normalises each feature
over the batch while LayerNorm normalises each example over its features;
the Sequential container; Linear's initialisation; clear errors.
"""

import numpy as np
import pytest

from dlbook.layers import (BatchNorm1d, CrossEntropyLoss, Dropout, Layer, LayerNorm, Linear,
                           MSELoss, ReLU, Sequential, Sigmoid, Tanh)

RNG = np.random.default_rng(7)
STAT_TOL = 1e-6
"""Exact statistics (means of normalised data) hold to rounding; eps shrinks variances slightly."""


# Dropout ----------------------------------------------------------------------------------------

def test_dropout_train_drops_and_rescales_eval_is_identity():
    x = RNG.normal(size=(50, 40))
    drop = Dropout(0.25, rng=0)
    y = drop(x)
    kept = y != 0
    assert 0.15 < 1 - kept.mean() < 0.35
    np.testing.assert_allclose(y[kept], x[kept] / 0.75)
    assert drop.eval()(x) is x  # evaluation: nothing dropped, nothing scaled
    np.testing.assert_array_equal(drop.backward(x), x)
    assert drop.train()(x).shape == x.shape


def test_inverted_dropout_preserves_the_mean_and_unscaled_would_not():
    p, ones = 0.4, np.ones((400, 500))
    y = Dropout(p, rng=0)(ones)
    assert abs(y.mean() - 1.0) < 0.01
    unscaled = y * (1 - p)  # the bare keep-mask, i.e. dropout without the 1 / (1 - p)
    assert abs(unscaled.mean() - (1 - p)) < 0.01  # the expected activation would shrink to 1 - p


def test_dropout_mask_is_reproducible_reused_in_backward_and_fresh_each_call():
    x, dout = np.ones((6, 8)), RNG.normal(size=(6, 8))
    a, b = Dropout(0.5, rng=3), Dropout(0.5, rng=3)
    ya = a(x)
    np.testing.assert_array_equal(ya, b(x))
    np.testing.assert_array_equal(a.backward(dout), dout * ya)  # x = 1, so y is the mask
    assert not np.array_equal(ya, a(x))
    np.testing.assert_array_equal(Dropout(0.0, rng=0)(x), x)


# BatchNorm1d and LayerNorm ----------------------------------------------------------------------

SCALES = np.array([0.01, 1.0, 100.0, 1e4])
SHIFTS = np.array([5.0, -3.0, 1e3, 0.0])


def wildly_scaled_batch(n=64, rng=RNG):
    return SHIFTS + SCALES * rng.normal(size=(n, 4))


def test_batchnorm_normalises_each_feature_over_the_batch():
    x = wildly_scaled_batch()
    y = BatchNorm1d(4, dtype=np.float64)(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=STAT_TOL)
    var = x.var(axis=0)
    np.testing.assert_allclose(y.var(axis=0), var / (var + 1e-5), rtol=1e-12)  # ~1 unless tiny
    assert np.abs(y.mean(axis=1)).max() > 0.1  # rows (examples) are not normalised


def test_layernorm_normalises_each_example_over_its_features():
    x = RNG.normal(size=(64, 1)) * 10 + RNG.normal(size=(64, 6))  # each row has its own offset
    y = LayerNorm(6, dtype=np.float64)(x)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=STAT_TOL)
    np.testing.assert_allclose(y.var(axis=1), 1, atol=1e-4)
    assert np.abs(y.mean(axis=0)).max() > 0.1  # columns (features) are not normalised


def test_batchnorm_output_depends_on_the_batch_only_in_training():
    bn = BatchNorm1d(4, dtype=np.float64)
    x = wildly_scaled_batch(8)
    other = x.copy()
    other[1:] = wildly_scaled_batch(7)  # same first example, different companions
    assert not np.allclose(bn(x)[0], bn(other)[0])
    bn.eval()
    np.testing.assert_array_equal(bn(x)[0], bn(other)[0])
    ln = LayerNorm(4, dtype=np.float64)
    np.testing.assert_array_equal(ln(x)[0], ln(other)[0])  # LayerNorm never mixes examples


def test_batchnorm_running_stats_track_the_data_and_only_in_training():
    rng = np.random.default_rng(0)
    bn = BatchNorm1d(4, momentum=0.1, dtype=np.float64)
    for _ in range(300):
        bn(wildly_scaled_batch(32, rng))
    assert np.all(np.abs(bn.running_mean - SHIFTS) < 0.2 * SCALES)
    np.testing.assert_allclose(bn.running_var, SCALES ** 2, rtol=0.2)
    frozen = bn.running_mean.copy(), bn.running_var.copy()
    bn.eval()
    y = bn(wildly_scaled_batch(1000, rng))
    bn(wildly_scaled_batch(1, rng))  # N = 1 is fine in eval mode
    np.testing.assert_array_equal(bn.running_mean, frozen[0])
    np.testing.assert_array_equal(bn.running_var, frozen[1])
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=0.15)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=0.15)


def test_batchnorm_running_var_uses_the_unbiased_variance():
    x = RNG.normal(size=(5, 3))
    bn = BatchNorm1d(3, momentum=1.0, dtype=np.float64)
    bn(x)
    np.testing.assert_allclose(bn.running_var, x.var(axis=0, ddof=1))
    np.testing.assert_allclose(bn.running_mean, x.mean(axis=0))


# Linear, Sequential and the protocol ------------------------------------------------------------

def test_linear_init_shapes_dtype_and_reproducibility():
    lin = Linear(400, 300, rng=0)
    assert lin.params["W"].shape == (400, 300) and lin.params["b"].shape == (300,)
    assert lin.params["W"].dtype == np.float32 and lin.grads["W"].dtype == np.float32
    assert abs(lin.params["W"].std() - np.sqrt(2 / 400)) < 0.01 * np.sqrt(2 / 400)
    assert not lin.params["b"].any()
    np.testing.assert_array_equal(lin.params["W"], Linear(400, 300, rng=0).params["W"])
    assert Linear(3, 2, bias=False, rng=0).params.keys() == {"W"}
    assert Linear(3, 2, rng=0, dtype=np.float64).params["W"].dtype == np.float64


@pytest.mark.parametrize("layer", [Linear(4, 4, rng=0), ReLU(), Sigmoid(), Tanh(),
                                   Dropout(0.5, rng=0), BatchNorm1d(4), LayerNorm(4)],
                         ids=lambda layer: type(layer).__name__)
def test_float32_in_float32_out(layer):
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    y = layer(x)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32


def test_sequential_container():
    net = Sequential(Linear(4, 5, rng=0), ReLU(), Dropout(0.5, rng=0), Linear(5, 3, rng=1))
    assert len(net) == 4 and isinstance(net[1], ReLU) and list(net)[3] is net[3]
    assert list(net.params) == ["0.W", "0.b", "3.W", "3.b"]
    assert net.params["3.W"] is net[3].params["W"] and net.grads["0.b"] is net[0].grads["b"]
    assert [p.shape for p, _ in net.parameters()] == [(4, 5), (5,), (5, 3), (3,)]
    assert net.eval() is net and not any(layer.training for layer in net)
    assert net.train() is net and all(layer.training for layer in net)
    x = RNG.normal(size=(2, 4)).astype(np.float32)
    net.eval()
    net.backward(np.ones_like(net(x)))
    assert net[0].grads["W"].any()
    net.zero_grad()
    assert not any(g.any() for _, g in net.parameters())


def test_parameters_are_updated_in_place_by_an_optimizer_step():
    lin = Linear(3, 2, rng=0, dtype=np.float64)
    x = RNG.normal(size=(4, 3))
    before = lin(x)
    lin.backward(np.ones_like(before))
    for param, grad in lin.parameters():
        param -= 0.1 * grad  # what SGD does
    assert not np.allclose(lin(x), before)
    assert lin.train() is lin and lin.eval() is lin and not lin.training


def test_losses_take_the_mean():
    logits, y = RNG.normal(size=(6, 3)), RNG.integers(0, 3, size=6)
    ce = CrossEntropyLoss()
    loss = ce(logits, y)
    assert isinstance(loss, float)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert abs(loss + np.log(p[np.arange(6), y]).mean()) < 1e-12
    np.testing.assert_allclose(ce.backward(), (p - np.eye(3)[y]) / 6)
    mse = MSELoss()
    assert abs(mse(np.ones((2, 5)), np.zeros((2, 5))) - 1.0) < 1e-12
    np.testing.assert_allclose(mse.backward(2.0), np.full((2, 5), 2.0 * 2 / 10))


# Bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make, x, error, pattern", [
    (lambda: Linear(4, 3, rng=0), np.ones((5, 3)), ValueError,
     r"Linear.forward expected x of shape \(\.\.\., 4\); got shape \(5, 3\)"),
    (lambda: Linear(4, 3, rng=0), np.array(["a"] * 4), TypeError, "Linear.forward"),
    (lambda: BatchNorm1d(4), np.ones((5, 3)), ValueError,
     r"BatchNorm1d.forward expected x of shape \(N, 4\); got shape \(5, 3\)"),
    (lambda: BatchNorm1d(4), np.ones((5, 2, 4)), ValueError, r"BatchNorm1d.*\(N, 4\)"),
    (lambda: BatchNorm1d(4), np.ones((1, 4)), ValueError,
     r"BatchNorm1d in training mode expected a batch of at least 2.*got shape \(1, 4\)"),
    (lambda: LayerNorm(4), np.ones((5, 3)), ValueError,
     r"LayerNorm.forward expected x of shape \(\.\.\., 4\); got shape \(5, 3\)"),
])
def test_forward_rejects_bad_input(make, x, error, pattern):
    with pytest.raises(error, match=pattern):
        make()(x)


@pytest.mark.parametrize("make, error, pattern", [
    (lambda: Dropout(1.0), ValueError, r"Dropout expected a drop probability 0 <= p < 1; got p=1"),
    (lambda: Dropout(-0.1), ValueError, "Dropout expected a drop probability"),
    (lambda: Dropout("0.5"), TypeError, "Dropout expected p to be a float; got str"),
    (lambda: Dropout(0.5, rng="seed"), TypeError, "Dropout"),
    (lambda: Linear(0, 3), ValueError, "Linear expected in_features >= 1; got 0"),
    (lambda: Linear(4.0, 3), TypeError, "Linear expected in_features to be an int"),
    (lambda: BatchNorm1d(4, momentum=1.5), ValueError, r"BatchNorm1d expected momentum in \[0, 1\]"),
    (lambda: BatchNorm1d(4, eps=0.0), ValueError, "BatchNorm1d expected eps > 0"),
    (lambda: LayerNorm((4,)), TypeError, "LayerNorm expected normalized_shape to be an int"),
    (lambda: Sequential(Linear(2, 2, rng=0), "relu"), TypeError,
     "Sequential expected layers .* got str at position 1"),
])
def test_constructors_reject_bad_arguments(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


def test_backward_errors_are_clear():
    with pytest.raises(RuntimeError, match="Tanh.backward called before forward"):
        Tanh().backward(np.ones(3))
    lin = Linear(4, 3, rng=0)
    lin(np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"Linear.backward expected dout of shape \(5, 3\).*"
                                         r"got shape \(5, 4\)"):
        lin.backward(np.ones((5, 4)))
    ce = CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"CrossEntropyLoss expected labels in \[0, 3\)"):
        ce(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(TypeError, match="CrossEntropyLoss expected targets to hold integer"):
        ce(np.zeros((2, 3)), np.array([0.5, 1.0]))
    ce(np.zeros((2, 3)), np.array([0, 2]))
    with pytest.raises(ValueError, match="CrossEntropyLoss.backward expected a scalar dout"):
        ce.backward(np.ones(2))
    with pytest.raises(ValueError, match="MSELoss expected input and targets to have the same"):
        MSELoss()(np.ones(3), np.ones(4))
    with pytest.raises(NotImplementedError, match="Layer does not implement forward"):
        Layer()(np.ones(2))


def test_extreme_inputs_stay_finite():
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        ce = CrossEntropyLoss()
        assert np.isfinite(ce(np.array([[1e4, -1e4, 0.0]]), np.array([1])))
        assert np.isfinite(ce.backward()).all()
        sig = Sigmoid()
        assert np.array_equal(sig(np.array([-1e4, 1e4])), [0.0, 1.0])
        constant = np.full((3, 4), 7.0)  # zero variance: eps keeps x_hat finite (and 0)
        assert not LayerNorm(4, dtype=np.float64)(constant).any()
        assert not BatchNorm1d(4, dtype=np.float64)(constant).any()


def test_linear_without_input_grad_skips_dx_but_not_parameter_grads():
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    full = Linear(4, 3, rng=0, dtype=np.float64)
    lean = Linear(4, 3, rng=0, dtype=np.float64, input_grad=False)
    full(x), lean(x)
    assert full.backward(dout) is not None and lean.backward(dout) is None
    for k in full.grads:
        np.testing.assert_array_equal(full.grads[k], lean.grads[k])
