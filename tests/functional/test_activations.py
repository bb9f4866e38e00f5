"""Unit tests, derivative checks and bad-input tests of dlbook.functional.activations."""

import numpy as np
import pytest

import dlbook.functional as F
from dlbook.diagnostics.numgrad import check_derivative, relative_error

RNG = np.random.default_rng(0)
X = RNG.normal(scale=3.0, size=(5, 7))


@pytest.mark.parametrize("fn, grad", [(F.sigmoid, F.sigmoid_grad), (F.tanh, F.tanh_grad),
                                      (F.relu, F.relu_grad)])
def test_derivative_matches_central_difference(fn, grad):
    x = X[np.abs(X) > 1e-3] / 3  # |x| of order 1, away from ReLU's kink
    assert check_derivative(fn, grad, x) < 1e-7


def test_softplus_derivative_is_sigmoid():
    assert check_derivative(F.softplus, F.sigmoid, X) < 1e-7


def test_known_values():
    assert F.sigmoid(np.array([0.0]))[0] == 0.5
    np.testing.assert_array_equal(F.step(np.array([-1.0, 0.0, 2.0])), [0, 0, 1])
    np.testing.assert_array_equal(F.relu(np.array([-1.0, 0.0, 2.0])), [0, 0, 2])
    np.testing.assert_allclose(F.softplus(np.array([0.0])), [np.log(2)])
    np.testing.assert_allclose(F.logsumexp(np.log(np.array([1.0, 2.0, 3.0]))), np.log(6))


def test_softmax_rows_sum_to_one_and_match_definition():
    p = F.softmax(X, axis=1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    e = np.exp(X)
    np.testing.assert_allclose(p, e / e.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(F.softmax(X, axis=0).sum(axis=0), 1.0)


def test_log_softmax_is_log_of_softmax():
    np.testing.assert_allclose(F.log_softmax(X), np.log(F.softmax(X)), atol=1e-12)


def test_softmax_is_shift_invariant():
    np.testing.assert_allclose(F.softmax(X + 1000.0), F.softmax(X))


def test_softmax_jacobian_matches_numerical():
    z = RNG.normal(size=4)
    jac = F.softmax_jacobian(F.softmax(z))
    numeric = np.stack([(F.softmax(z + h) - F.softmax(z - h)) / 2e-6 for h in 1e-6 * np.eye(4)], axis=1)
    assert relative_error(jac, numeric) < 1e-7


def test_dtype_is_preserved_for_float32_and_ints_become_float64():
    x32 = X.astype(np.float32)
    for fn in (F.sigmoid, F.tanh, F.relu, F.softplus, F.softmax, F.log_softmax, F.step):
        assert fn(x32).dtype == np.float32, fn.__name__
    assert F.sigmoid(np.array([1, 2])).dtype == np.float64


def test_all_minus_infinity_row_is_not_nan():
    with np.errstate(divide="ignore"):
        assert F.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf


@pytest.mark.parametrize("fn", [F.sigmoid, F.tanh, F.relu, F.softmax, F.log_softmax, F.step,
                                F.softplus, F.logsumexp])
def test_non_numeric_input_is_a_type_error(fn):
    with pytest.raises(TypeError, match="real-valued"):
        fn(np.array(["a", "b"]))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax, F.logsumexp])
def test_missing_axis_is_a_value_error(fn):
    with pytest.raises(ValueError, match=r"axis 2; got shape \(3, 4\)"):
        fn(np.zeros((3, 4)), axis=2)
    with pytest.raises(ValueError, match="axis"):
        fn(np.float64(1.0))


def test_softmax_jacobian_rejects_matrix():
    with pytest.raises(ValueError, match=r"p of shape \(C,\)"):
        F.softmax_jacobian(np.ones((2, 2)) / 2)
