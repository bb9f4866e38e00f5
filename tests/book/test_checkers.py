"""Exercise checkers accept correct solutions and explain typical wrong ones."""

import math

import numpy as np
import pytest

from dlbook.book import checkers as C
from dlbook.autograd import Value
from dlbook.diagnostics.numgrad import numerical_gradient


def naive_softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def stable_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_correct_solutions_pass():
    assert C.check_sigmoid(lambda x: 0.5 * (1 + np.tanh(0.5 * x))).passed
    assert C.check_softmax(stable_softmax).passed
    assert C.check_cross_entropy_grad(
        lambda z, y: (stable_softmax(z) - np.eye(z.shape[1])[y]) / len(y)).passed
    assert C.check_affine_backward(lambda d, x, w: (d @ w.T, x.T @ d, d.sum(axis=0))).passed
    assert C.check_conv_output_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1).passed
    assert C.check_value_sin(lambda v: Value._node(math.sin(v.data), (v,), (math.cos(v.data),), "sin")).passed

    report = C.check_numerical_gradient(numerical_gradient)  # the package's own answer
    assert report.passed and repr(report) == "numerical_gradient: all 2 checks passed."


@pytest.mark.parametrize("checker, wrong, expected_words", [
    (C.check_softmax, naive_softmax, "NaN or inf"),
    (C.check_sigmoid, lambda x: 1 / (1 + np.exp(-x)) if np.abs(x).max() < 500 else x * np.nan, "NaN"),
    (C.check_softmax, lambda x: stable_softmax(x).T, "shape"),
    (C.check_cross_entropy_grad, lambda z, y: stable_softmax(z) - np.eye(z.shape[1])[y], "constant factor"),
    (C.check_affine_backward, lambda d, x, w: (d @ w.T, x.T @ d / len(x), d.sum(0)), "constant factor"),
    (C.check_affine_backward, lambda d, x, w: (d @ w.T, x.T @ d, d), "sum dout over the batch"),
    (C.check_affine_backward, lambda d, x, w: (-(d @ w.T), x.T @ d, d.sum(0)), "wrong sign"),
    (C.check_conv_output_size, lambda n, k, s, p: (n + 2 * p - k) / s + 1, "floor"),
    (C.check_value_sin, lambda v: Value._node(math.sin(v.data), (v,), (math.sin(v.data),), "sin"), "d/dx"),
    (C.check_softmax, lambda x: None, "returned None"),
    (C.check_softmax, lambda x: x.undefined, "raised AttributeError"),
])
def test_typical_mistakes_are_named(checker, wrong, expected_words):
    report = checker(wrong)
    assert not report.passed and not bool(report)
    assert expected_words in repr(report), repr(report)


def test_diagnose_transposed_square_and_scalar():
    a = np.arange(9.0).reshape(3, 3)
    assert "transposed" in C.diagnose(a.T, a, "m")
    assert C.diagnose(2.0, np.asarray(2.0), "s") is None
    assert "expected 4, got 4.5" in C.diagnose(4.5, np.asarray(4.0), "s")
