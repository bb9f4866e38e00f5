"""Linear models of chapter 2: closed form vs GD vs lstsq, gradient checks, torch parity, errors."""

import numpy as np
import pytest

from dlbook.diagnostics import numgrad
from dlbook.data import make_blobs, make_linear_regression
from dlbook.models.linear_models import (
    LinearRegression,
    LinearSVM,
    LogisticRegression,
    affine,
    gradient_descent,
)
from dlbook.twins import as_tensor, to_numpy

GRAD_TOL = 1e-7
TORCH_TOL = 1e-10


def regression_data(d=3, n=60, seed=0):
    X, y = make_linear_regression(n, w=np.arange(1.0, d + 1), b=0.5, noise=0.1, rng=seed)
    return X.astype(np.float64), y.astype(np.float64)


def blob_data(n=40, seed=1):
    """Overlapping blobs, so every loss is active on some examples. y01 in {0,1}."""
    X, y01 = make_blobs(n, centers=np.array([[-1.0, -0.5], [1.0, 0.5]]), std=1.0, rng=seed)
    return X.astype(np.float64), y01.astype(np.float64)


def make_model(kind, seed=0):
    """(model, X, y) with non-trivial parameters, for gradient checks and parity."""
    rng = np.random.default_rng(seed)
    if kind.startswith("regression"):
        X, y = regression_data()
        model = LinearRegression(3, l2=0.3 if kind.endswith("l2") else 0.0, rng=rng)
    else:
        X, y01 = blob_data()
        y = 2 * y01 - 1 if kind in ("logistic_pm1", "svm") else y01
        if kind == "svm":
            model = LinearSVM(2, l2=0.1, rng=rng)
        else:
            model = LogisticRegression(2, l2=0.2, labels=(-1, 1) if kind == "logistic_pm1" else (0, 1),
                                       rng=rng)
    model.w[...] = rng.normal(size=model.w.shape)
    model.b[...] = rng.normal()
    return model, X, y


KINDS = ["regression", "regression_l2", "logistic_01", "logistic_pm1", "svm"]


# ---- affine and gradient_descent ---------------------------------------------------

def test_affine_vector_and_matrix_weights():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    out = affine(X, W, b)
    assert out.shape == (5, 4)
    rows = np.stack([x @ W + b for x in X])  # one example at a time
    np.testing.assert_allclose(out, rows, rtol=1e-12)
    assert affine(X, W[:, 0], 2.0).shape == (5,)


@pytest.mark.parametrize("X, W, b", [
    (np.ones((5, 3)), np.ones((4, 2)), np.ones(2)),   # D mismatch
    (np.ones(3), np.ones((3, 2)), np.ones(2)),        # X not 2-D
    (np.ones((5, 3)), np.ones((3, 2)), np.ones(3)),   # b of the wrong size
])
def test_affine_bad_shapes(X, W, b):
    with pytest.raises(ValueError, match="affine expected"):
        affine(X, W, b)


def test_gradient_descent_on_quadratic_matches_closed_form():
    a, lr, w0 = 4.0, 0.1, np.array([1.5, -2.0])
    traj = gradient_descent(lambda w: a * w, w0, lr, 20)
    assert traj.shape == (21, 2)
    t = np.arange(21)[:, None]
    np.testing.assert_allclose(traj, (1 - lr * a) ** t * w0, rtol=1e-12)
    np.testing.assert_array_equal(w0, [1.5, -2.0])  # not modified


def test_gradient_descent_scalar_and_stability_threshold():
    a, steps = 3.0, 100  # f(w) = a w^2 / 2: GD converges iff 0 < lr < 2 / a
    for lr in np.linspace(0.05, 1.0, 20):
        traj = gradient_descent(lambda w: a * w, 1.0, lr, steps)
        assert traj.shape == (steps + 1,)
        assert traj[-1] == pytest.approx((1 - lr * a) ** steps, rel=1e-9)
        assert (abs(traj[-1]) < 1.0) == (lr < 2 / a)


def test_gradient_descent_bad_inputs():
    with pytest.raises(ValueError, match="lr"):
        gradient_descent(lambda w: w, 1.0, 0.0, 5)
    with pytest.raises(TypeError, match="lr"):
        gradient_descent(lambda w: w, 1.0, "0.1", 5)
    with pytest.raises(ValueError, match="steps"):
        gradient_descent(lambda w: w, 1.0, 0.1, 0)
    with pytest.raises(ValueError, match=r"return shape \(2,\); got shape \(3,\)"):
        gradient_descent(lambda w: np.ones(3), np.zeros(2), 0.1, 5)


# ---- linear regression -------------------------------------------------------------

def test_closed_form_equals_lstsq_equals_gd():
    X, y = regression_data()
    closed = LinearRegression(3, rng=0).fit_closed_form(X, y)
    theta, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)
    np.testing.assert_allclose(closed.w, theta[:3], rtol=1e-10)
    np.testing.assert_allclose(closed.b, theta[3], rtol=1e-10)
    gd = LinearRegression(3, rng=0)
    history = gd.fit_gd(X, y, lr=0.5, steps=3000)
    assert len(history) == 3001 and history[-1] <= history[0]
    np.testing.assert_allclose(gd.w, closed.w, atol=1e-8)
    np.testing.assert_allclose(gd.b, closed.b, atol=1e-8)
    assert history[-1] == pytest.approx(closed.loss(X, y), rel=1e-12)


def test_ridge_closed_form_solves_its_normal_equations():
    X, y = regression_data()
    model = LinearRegression(3, l2=0.5).fit_closed_form(X, y)
    grads = model.gradients(X, y)  # zero at the minimiser
    assert np.max(np.abs(grads["w"])) < 1e-10 and abs(grads["b"]) < 1e-10
    plain = LinearRegression(3).fit_closed_form(X, y)
    assert np.linalg.norm(model.w) < np.linalg.norm(plain.w)  # the penalty shrinks w


def test_regression_predict_is_score():
    model, X, y = make_model("regression")
    np.testing.assert_allclose(model.predict(X), X @ model.w + model.b, rtol=1e-12)


# ---- gradient checks (float64) ------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_numerical(kind):
    model, X, y = make_model(kind)
    if kind == "svm":  # stay off the hinge's kink, where the derivative does not exist
        assert np.min(np.abs(1 - y * model.scores(X))) > 1e-3
    grads = model.gradients(X, y)
    for name, param in model.params.items():
        numeric = numgrad.numerical_gradient(lambda _: model.loss(X, y), param)
        assert numgrad.relative_error(grads[name], numeric) < GRAD_TOL, name


@pytest.mark.parametrize("kind", KINDS)
def test_cost_is_mean_loss_plus_penalty(kind):
    model, X, y = make_model(kind)
    per_example = model.per_example_loss(X, y)
    assert per_example.shape == (len(X),)
    expected = per_example.mean() + 0.5 * model.l2 * np.sum(model.w ** 2)
    assert model.loss(X, y) == pytest.approx(expected, rel=1e-12)
    assert model.penalty() == pytest.approx(0.5 * model.l2 * np.sum(model.w ** 2), rel=1e-12)


def test_logistic_forms_agree():
    m01, X, y01 = make_model("logistic_01", seed=3)
    mpm, _, ypm = make_model("logistic_pm1", seed=3)
    np.testing.assert_array_equal(m01.w, mpm.w)
    np.testing.assert_array_equal((ypm + 1) / 2, y01)
    assert m01.loss(X, y01) == pytest.approx(mpm.loss(X, ypm), rel=1e-13)
    np.testing.assert_allclose(m01.per_example_loss(X, y01), mpm.per_example_loss(X, ypm), rtol=1e-12)
    g01, gpm = m01.gradients(X, y01), mpm.gradients(X, ypm)
    for name in ("w", "b"):
        np.testing.assert_allclose(g01[name], gpm[name], rtol=1e-12, atol=1e-15)


def test_logistic_predict_and_proba():
    X, y01 = blob_data(200)
    model = LogisticRegression(2, rng=0)
    history = model.fit_gd(X, y01, lr=0.5, steps=300)
    assert history[-1] < history[0]
    p = model.predict_proba(X)
    assert np.all((p > 0) & (p < 1))
    np.testing.assert_array_equal(model.predict(X), (p > 0.5).astype(np.int64))
    assert model.accuracy(X, y01) > 0.75
    pm = LogisticRegression(2, labels=(-1, 1), rng=0)
    pm.fit_gd(X, 2 * y01 - 1, lr=0.5, steps=300)
    np.testing.assert_allclose(pm.w, model.w, rtol=1e-10)
    assert set(np.unique(pm.predict(X))) <= {-1, 1}


def test_svm_subgradient_descent_separates_blobs():
    X, y01 = make_blobs(100, centers=np.array([[-2.0, -2.0], [2.0, 2.0]]), std=0.5, rng=0)
    y = 2 * y01.astype(np.float64) - 1
    svm = LinearSVM(2, rng=0)
    history = svm.fit_gd(X, y, lr=0.1, steps=500)
    assert history[-1] < 0.5 * history[0]
    assert svm.accuracy(X, y) == 1.0
    assert set(np.unique(svm.predict(X))) == {-1, 1}


def test_float32_data_and_model():
    X, y = make_linear_regression(50, w=1.0, rng=0)  # float32
    model = LinearRegression(1, rng=0, dtype=np.float32)
    model.fit_gd(X, y, lr=0.3, steps=200)
    assert model.w.dtype == np.float32 and model.b.dtype == np.float32
    assert model.predict(X).dtype == np.float32


def test_init_is_seeded():
    a, b = LogisticRegression(4, rng=7), LogisticRegression(4, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.w, b.w)
    assert float(a.b) == 0.0 and np.all(np.abs(a.w) < 0.1)


# ---- PyTorch parity --------------------------------------------------------------------

def torch_cost(kind, s, y, w, l2):
    import torch.nn.functional as TF

    if kind.startswith("regression"):
        mean_loss = TF.mse_loss(s, y)
    elif kind == "logistic_01":
        mean_loss = TF.binary_cross_entropy_with_logits(s, y)
    elif kind == "logistic_pm1":
        mean_loss = TF.soft_margin_loss(s, y)
    else:
        mean_loss = (1 - y * s).clamp(min=0).mean()  # hinge, by expression
    return mean_loss + 0.5 * l2 * (w * w).sum()


@pytest.mark.parametrize("kind", KINDS)
def test_cost_and_gradients_match_torch(kind, device):
    model, X, y = make_model(kind)
    Xt, yt = as_tensor(X, device), as_tensor(y, device)
    w = as_tensor(model.w, device, requires_grad=True)
    b = as_tensor(model.b, device, requires_grad=True)
    cost = torch_cost(kind, Xt @ w + b, yt, w, model.l2)
    cost.backward()
    assert model.loss(X, y) == pytest.approx(cost.item(), rel=TORCH_TOL, abs=TORCH_TOL)
    grads = model.gradients(X, y)
    np.testing.assert_allclose(grads["w"], to_numpy(w.grad), rtol=TORCH_TOL, atol=TORCH_TOL)
    np.testing.assert_allclose(grads["b"], to_numpy(b.grad), rtol=TORCH_TOL, atol=TORCH_TOL)


def test_closed_form_matches_torch_lstsq(device):
    torch = pytest.importorskip("torch")
    X, y = regression_data()
    model = LinearRegression(3).fit_closed_form(X, y)
    A = as_tensor(np.column_stack([X, np.ones(len(X))]), device)
    theta = torch.linalg.lstsq(A, as_tensor(y[:, None], device),
                               driver="gelsd" if device == "cpu" else None).solution
    theta = to_numpy(theta)[:, 0]
    np.testing.assert_allclose(model.w, theta[:3], rtol=1e-10)
    np.testing.assert_allclose(model.b, theta[3], rtol=1e-10)


# ---- bad inputs ---------------------------------------------------------------------------

def test_X_and_y_length_mismatch():
    model = LinearRegression(3)
    with pytest.raises(ValueError, match=r"expected y of shape \(5,\) .* got y of shape \(4,\)"):
        model.loss(np.ones((5, 3)), np.ones(4))


def test_wrong_number_of_features():
    with pytest.raises(ValueError, match=r"LogisticRegression.scores expected X of shape \(N, 2\); "
                                         r"got shape \(5, 3\)"):
        LogisticRegression(2).scores(np.ones((5, 3)))


@pytest.mark.parametrize("model, y, expected", [
    (LogisticRegression(2), np.array([0, 1, -1]), r"\{0, 1\}"),
    (LogisticRegression(2, labels=(-1, 1)), np.array([0, 1, 1]), r"\{-1, 1\}"),
    (LinearSVM(2), np.array([0, 1, 1]), r"\{-1, 1\}"),
])
def test_labels_outside_the_label_set(model, y, expected):
    with pytest.raises(ValueError, match=f"expected labels in {expected}; got values"):
        model.fit_gd(np.ones((3, 2)), y, lr=0.1, steps=1)


def test_bad_constructor_and_fit_arguments():
    with pytest.raises(ValueError, match="labels"):
        LogisticRegression(2, labels=(1, 2))
    with pytest.raises(ValueError, match="l2"):
        LinearSVM(2, l2=-1.0)
    with pytest.raises(ValueError, match="n_features"):
        LinearRegression(0)
    X, y = regression_data()
    with pytest.raises(ValueError, match="LinearRegression.fit_gd expected lr"):
        LinearRegression(3).fit_gd(X, y, lr=-0.1, steps=5)
    with pytest.raises(ValueError, match="steps"):
        LinearRegression(3).fit_gd(X, y, lr=0.1, steps=0)
    with pytest.raises(TypeError, match="X"):
        LinearRegression(3).loss(np.array([["a", "b", "c"]]), np.ones(1))
