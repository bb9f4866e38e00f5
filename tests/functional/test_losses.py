"""Unit tests, gradient checks and bad-input tests of dlbook.functional.losses."""

import warnings

import numpy as np
import pytest

import dlbook.functional as F
from dlbook.diagnostics.numgrad import numerical_gradient, relative_error
from dlbook.layers import CrossEntropyLoss, MSELoss

RNG = np.random.default_rng(1)
N, C = 6, 4
LOGITS = RNG.normal(scale=2.0, size=(N, C))
LABELS = RNG.integers(0, C, size=N)
SCORES = RNG.normal(scale=2.0, size=N)
Y01 = RNG.integers(0, 2, size=N).astype(float)
YPM = 2 * Y01 - 1


def numeric(loss, x, *rest):
    x = x.copy()
    return numerical_gradient(lambda z: loss(z, *rest), x)


@pytest.mark.parametrize("loss, grad, x, t", [
    (F.cross_entropy, F.cross_entropy_grad, LOGITS, LABELS),
    (F.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits_grad, SCORES, Y01),
    (F.logistic_loss, F.logistic_loss_grad, SCORES, YPM),
    (F.hinge_loss, F.hinge_loss_grad, SCORES, YPM),
    (F.mse_loss, F.mse_loss_grad, SCORES, Y01),
])
def test_gradient_matches_numerical(loss, grad, x, t):
    assert relative_error(grad(x, t), numeric(loss, x, t)) < 1e-7


def test_cross_entropy_definition():
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    assert F.cross_entropy(LOGITS, LABELS) == pytest.approx(-np.mean(np.log(p[np.arange(N), LABELS])))


def test_cross_entropy_grad_is_p_minus_onehot_over_n():
    expected = (F.softmax(LOGITS) - F.one_hot(LABELS, C)) / N
    np.testing.assert_allclose(F.cross_entropy_grad(LOGITS, LABELS), expected)


def test_two_logistic_forms_agree():
    """The {-1,+1} log loss of scores s equals the {0,1} log loss (chapter 2)."""
    assert F.logistic_loss(SCORES, YPM) == pytest.approx(F.binary_cross_entropy_with_logits(SCORES, Y01))
    np.testing.assert_allclose(F.logistic_loss_grad(SCORES, YPM),
                               F.binary_cross_entropy_with_logits_grad(SCORES, Y01))


def test_bce_from_probabilities_matches_logit_form():
    assert F.binary_cross_entropy(F.sigmoid(SCORES), Y01) == pytest.approx(
        F.binary_cross_entropy_with_logits(SCORES, Y01))


def test_bce_at_certain_wrong_probability_is_clamped_not_infinite():
    assert F.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == -F.LOG_CLAMP


def test_hinge_is_zero_beyond_the_margin():
    assert F.hinge_loss(np.array([2.0, -3.0]), np.array([1.0, -1.0])) == 0.0
    assert F.hinge_loss(np.array([0.5]), np.array([1.0])) == 0.5


def test_kl_divergence_and_cross_entropy_identity():
    p, q = F.softmax(RNG.normal(size=5)), F.softmax(RNG.normal(size=5))
    entropy = -np.sum(p * np.log(p))
    cross = -np.sum(p * np.log(q))
    assert cross == pytest.approx(entropy + F.kl_divergence(p, q))
    assert F.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    assert F.kl_divergence(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == pytest.approx(np.log(2))


def test_one_hot_and_accuracy():
    np.testing.assert_array_equal(F.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    assert F.accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    assert F.accuracy(np.array([1, 1, 0]), np.array([1, 1, 1])) == pytest.approx(2 / 3)


@pytest.mark.parametrize("call, message", [
    (lambda: F.cross_entropy(np.zeros(4), np.zeros(4, int)), r"logits of shape \(N, C\); got shape \(4,\)"),
    (lambda: F.cross_entropy(np.zeros((3, 4)), np.zeros(2, int)), r"targets of shape \(3,\); got shape \(2,\)"),
    (lambda: F.cross_entropy(np.zeros((3, 4)), np.array([0, 1, 4])), r"labels in \[0, 4\); got min 0, max 4"),
    (lambda: F.cross_entropy_grad(np.zeros((3, 4)), -np.ones(3, int)), r"labels in \[0, 4\)"),
    (lambda: F.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(4)), r"same shape; got \(3,\) and \(4,\)"),
    (lambda: F.mse_loss(np.zeros((2, 2)), np.zeros(4)), "same shape"),
    (lambda: F.mse_loss(np.zeros(0), np.zeros(0)), "non-empty"),
    (lambda: F.cross_entropy(np.zeros((0, 4)), np.zeros(0, int)),
     r"cross_entropy expected a non-empty batch of logits \(N, C\) with N >= 1; got shape \(0, 4\)"),
    (lambda: F.cross_entropy_grad(np.zeros((0, 4)), np.zeros(0, int)), "non-empty batch"),
    (lambda: F.accuracy(np.zeros((0, 4)), np.zeros(0, int)), r"non-empty batch; got scores of shape \(0, 4\)"),
    (lambda: F.hinge_loss(np.zeros(2), np.array([0.0, 1.0])), r"targets in \{-1, \+1\}"),
    (lambda: F.logistic_loss(np.zeros(2), np.array([0.0, 1.0])), r"targets in \{-1, \+1\}"),
    (lambda: F.binary_cross_entropy(np.array([1.5]), np.array([1.0])), r"probabilities in \[0, 1\]"),
    (lambda: F.one_hot(np.array([3]), 3), r"labels in \[0, 3\)"),
    (lambda: F.one_hot(np.zeros((2, 2), int), 3), r"targets of shape \(N,\)"),
    (lambda: F.accuracy(np.zeros((3, 2)), np.zeros(2, int)), "2 predictions"),
    (lambda: F.kl_divergence(np.array([-0.1, 1.1]), np.array([0.5, 0.5])), "non-negative"),
])
def test_bad_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_fractional_labels_are_a_type_error():
    with pytest.raises(TypeError, match="integer class labels"):
        F.cross_entropy(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(TypeError, match="real-valued"):
        F.mse_loss(np.array(["x"]), np.array(["y"]))


@pytest.mark.parametrize("loss, args, message", [
    (CrossEntropyLoss, (np.zeros((0, 4)), np.zeros(0, int)),
     r"CrossEntropyLoss expected a non-empty batch of logits \(N, C\) with N >= 1; got shape \(0, 4\)"),
    (MSELoss, (np.zeros((0, 3)), np.zeros((0, 3))), r"MSELoss expected a non-empty input; got shape \(0, 3\)"),
], ids=["CrossEntropyLoss", "MSELoss"])
def test_loss_layer_on_an_empty_batch_is_a_clear_value_error(loss, args, message):
    """An empty batch would make the mean 0/0 (NaN plus numpy warnings): it is refused instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning on the way to the error
        with pytest.raises(ValueError, match=message):
            loss().forward(*args)


@pytest.mark.parametrize("shape", [(0, 3, 4), (2, 0, 4)])
def test_sequence_cross_entropy_rejects_an_empty_batch(shape):
    from dlbook.layers.seq_loss import SequenceCrossEntropyLoss

    with pytest.raises(ValueError, match="SequenceCrossEntropyLoss expected a non-empty batch"):
        SequenceCrossEntropyLoss()(np.zeros(shape), np.zeros(shape[:2], dtype=np.int64))
