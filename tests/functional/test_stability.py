"""Property tests (hypothesis): finite, correct values at extreme inputs, clear shape errors.

Inputs range over [-1e4, 1e4], where a naive exp overflows (float64 overflows
above ~709.8) and a naive log hits log(0).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

import dlbook.functional as F

BIG = 1e4
floats = st.floats(-BIG, BIG, allow_nan=False, allow_infinity=False)
dtypes = st.sampled_from([np.float32, np.float64])


def elements(dtype):
    """Values the dtype can hold exactly: hypothesis refuses a float64 value for a float32
    array under numpy 1.x (numpy 2 rounds it silently), so float32 draws 32-bit floats."""
    return st.floats(-BIG, BIG, allow_nan=False, allow_infinity=False,
                     width=32 if dtype == np.float32 else 64)


def matrices(min_side=1):
    return dtypes.flatmap(lambda dt: arrays(dt, array_shapes(min_dims=2, max_dims=2, min_side=min_side,
                                                             max_side=6), elements=elements(dt)))


def vectors():
    return dtypes.flatmap(lambda dt: arrays(dt, array_shapes(min_dims=1, max_dims=1, max_side=8),
                                            elements=elements(dt)))


@settings(max_examples=200, deadline=None)
@given(matrices())
def test_softmax_is_finite_and_normalised(x):
    p = F.softmax(x, axis=1)
    assert np.all(np.isfinite(p)) and np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    # the largest entry of each row gets the largest probability
    assert np.all(p[np.arange(len(x)), x.argmax(axis=1)] == p.max(axis=1))


@settings(max_examples=200, deadline=None)
@given(matrices())
def test_log_softmax_is_finite_and_consistent(x):
    lp = F.log_softmax(x, axis=1)
    assert np.all(np.isfinite(lp)) and np.all(lp <= 0)
    x64 = x.astype(np.float64)
    ref = x64 - x64.max(axis=1, keepdims=True)
    ref = ref - np.log(np.exp(ref).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(lp, ref, rtol=1e-5, atol=1e-3 if x.dtype == np.float32 else 1e-9)


@settings(max_examples=200, deadline=None)
@given(vectors())
def test_sigmoid_is_finite_bounded_and_symmetric(x):
    s = F.sigmoid(x)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s + F.sigmoid(-x), 1.0, atol=1e-6)
    assert np.all(F.sigmoid(x[x > 40]) == 1.0) and np.all(F.sigmoid(x[x < -800]) == 0.0)


@settings(max_examples=200, deadline=None)
@given(matrices(), st.data())
def test_cross_entropy_is_finite_and_correct(z, data):
    y = np.array(data.draw(st.lists(st.integers(0, z.shape[1] - 1), min_size=len(z), max_size=len(z))))
    loss = F.cross_entropy(z, y)
    z64 = z.astype(np.float64)
    m = z64.max(axis=1)
    ref = np.mean(m + np.log(np.exp(z64 - m[:, None]).sum(axis=1)) - z64[np.arange(len(y)), y])
    assert np.isfinite(loss) and loss >= -1e-6
    assert loss == pytest.approx(ref, rel=1e-5, abs=1e-3)
    assert np.all(np.isfinite(F.cross_entropy_grad(z, y)))


@settings(max_examples=200, deadline=None)
@given(vectors(), st.data())
def test_bce_with_logits_is_finite_and_correct(z, data):
    y = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(z), max_size=len(z))))
    loss = F.binary_cross_entropy_with_logits(z, y)
    z64 = z.astype(np.float64)
    ref = np.mean(np.maximum(z64, 0) - y * z64 + np.log1p(np.exp(-np.abs(z64))))
    assert np.isfinite(loss) and loss == pytest.approx(ref, rel=1e-5, abs=1e-3)
    p = F.sigmoid(z)
    assert np.isfinite(F.binary_cross_entropy(p, y))


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, array_shapes(min_dims=1, max_dims=3), elements=floats))
def test_wrong_rank_logits_name_the_expected_shape(z):
    if z.ndim == 2:
        return
    with pytest.raises(ValueError, match=r"expected logits of shape \(N, C\); got shape"):
        F.cross_entropy(z, np.zeros(len(z), dtype=int))


@settings(max_examples=50, deadline=None)
@given(vectors(), st.integers(1, 3))
def test_mismatched_bce_shapes_name_both_shapes(z, extra):
    y = np.zeros(len(z) + extra)
    with pytest.raises(ValueError, match=r"same shape; got \(\d+,\) and \(\d+,\)"):
        F.binary_cross_entropy_with_logits(z, y)
    with pytest.raises(ValueError, match="same shape"):
        F.binary_cross_entropy(F.sigmoid(z), y)


def test_softmax_and_sigmoid_of_extremes_exact():
    big = np.array([BIG, -BIG, 0.0])
    np.testing.assert_array_equal(F.softmax(big), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(F.sigmoid(big), [1.0, 0.0, 0.5])
    assert F.cross_entropy(big[None, :], np.array([1])) == pytest.approx(2 * BIG)
