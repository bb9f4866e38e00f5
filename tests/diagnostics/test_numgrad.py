"""Numerical differentiation: error orders, in-place restore, gradient of a multivariate function."""

import numpy as np
import pytest

from dlbook.diagnostics import numgrad


def test_central_difference_is_second_order_and_forward_first_order():
    f, x, exact = np.exp, 1.0, np.exp(1.0)
    e_fwd = [abs(numgrad.forward_difference(f, x, h) - exact) for h in (1e-2, 1e-3)]
    e_cen = [abs(numgrad.central_difference(f, x, h) - exact) for h in (1e-2, 1e-3)]
    assert e_fwd[0] / e_fwd[1] == pytest.approx(10, rel=0.05)    # O(h)
    assert e_cen[0] / e_cen[1] == pytest.approx(100, rel=0.05)   # O(h^2)


def test_numerical_gradient_of_quadratic_and_x_restored():
    a = np.array([[3.0, 1.0], [1.0, 2.0]])
    x = np.array([0.5, -1.5])
    x_before = x.copy()
    g = numgrad.numerical_gradient(lambda v: 0.5 * v @ a @ v, x)
    np.testing.assert_allclose(g, a @ x_before, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(x, x_before)


def test_numerical_gradient_works_on_matrices_and_views():
    w = np.arange(12, dtype=np.float64).reshape(3, 4)
    g = numgrad.numerical_gradient(lambda m: np.sum(m ** 2), w)
    np.testing.assert_allclose(g, 2 * w, rtol=1e-8, atol=1e-8)
    view = w[:, 1:3]
    g = numgrad.numerical_gradient(lambda m: np.sum(m ** 3), view)
    np.testing.assert_allclose(g, 3 * view ** 2, rtol=1e-8)


def test_vector_jacobian_product():
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    vjp = numgrad.numerical_jacobian_vector(np.tanh, x, dout)
    np.testing.assert_allclose(vjp, (1 - np.tanh(x) ** 2) * dout, rtol=1e-8)


def test_relative_error_and_check_derivative():
    assert numgrad.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert numgrad.relative_error(np.array([1.0]), np.array([1.1])) == pytest.approx(0.1 / 2.1)
    assert numgrad.check_derivative(np.sin, np.cos, np.linspace(-2, 2, 9)) < 1e-9
    assert numgrad.check_derivative(np.sin, np.sin, np.linspace(0.5, 2, 9)) > 1e-2  # a wrong derivative


def test_bad_inputs():
    with pytest.raises(TypeError, match="float numpy array"):
        numgrad.numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="float numpy array"):
        numgrad.numerical_gradient(lambda v: 0.0, np.array([1, 2]))
    with pytest.raises(ValueError, match=r"equal shapes; got \(2,\) and \(3,\)"):
        numgrad.relative_error(np.zeros(2), np.zeros(3))
