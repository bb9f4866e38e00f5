"""Initialisers: their statistics, orthogonality, and the same formulas as torch.nn.init.

Our dense weights are (fan_in, fan_out); torch's nn.Linear weights are
(out, in), so each comparison transposes the shape.
"""

import math

import numpy as np
import pytest

from dlbook import init

torch = pytest.importorskip("torch")
SHAPE = (600, 400)  # 240,000 draws: the sample std is within ~0.3% of the true one
STD_RTOL = 0.03

FORMULAS = {  # expected std for (fan_in, fan_out) = SHAPE
    "xavier_uniform": math.sqrt(2 / (600 + 400)),
    "xavier_normal": math.sqrt(2 / (600 + 400)),
    "kaiming_normal": math.sqrt(2 / 600),
    "kaiming_uniform": math.sqrt(2 / 600),
}
TORCH_TWIN = {
    "xavier_uniform": torch.nn.init.xavier_uniform_,
    "xavier_normal": torch.nn.init.xavier_normal_,
    "kaiming_normal": lambda t: torch.nn.init.kaiming_normal_(t, nonlinearity="relu"),
    "kaiming_uniform": lambda t: torch.nn.init.kaiming_uniform_(t, nonlinearity="relu"),
}


@pytest.mark.parametrize("name", list(FORMULAS))
def test_std_matches_formula_and_torch(name):
    w = getattr(init, name)(SHAPE, rng=0)
    assert w.shape == SHAPE and w.dtype == np.float32
    assert abs(w.mean()) < 0.01 * FORMULAS[name] * 10
    assert w.std() == pytest.approx(FORMULAS[name], rel=STD_RTOL)
    torch.manual_seed(0)
    t = TORCH_TWIN[name](torch.empty(SHAPE[::-1]))  # torch layout (out, in)
    assert t.std().item() == pytest.approx(w.std(), rel=STD_RTOL)
    if "uniform" in name:  # same support [-a, a], a = sqrt(3) * std
        bound = math.sqrt(3) * FORMULAS[name]
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
        assert t.abs().max().item() == pytest.approx(np.abs(w).max(), rel=0.01)


@pytest.mark.parametrize("shape", [(7, 3), (3, 7), (8, 4, 3, 3), (16, 3, 5)])
def test_fans_match_torch_with_transposed_dense_layout(shape):
    torch_shape = shape[::-1] if len(shape) == 2 else shape  # conv layout is shared
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(torch_shape))
    assert init.fan_in_and_fan_out(shape) == expected


@pytest.mark.parametrize("name, param", [
    ("linear", None), ("sigmoid", None), ("conv2d", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-12)


def test_gain_and_modes_scale_std():
    w = init.xavier_normal(SHAPE, gain=5 / 3, rng=1)
    assert w.std() == pytest.approx(5 / 3 * FORMULAS["xavier_normal"], rel=STD_RTOL)
    w = init.kaiming_normal(SHAPE, mode="fan_out", rng=1)
    assert w.std() == pytest.approx(math.sqrt(2 / 400), rel=STD_RTOL)
    w = init.kaiming_uniform(SHAPE, a=0.2, nonlinearity="leaky_relu", rng=1)
    assert w.std() == pytest.approx(math.sqrt(2 / 1.04 / 600), rel=STD_RTOL)
    conv = init.kaiming_normal((64, 32, 3, 3), rng=1)  # fan_in = 32 * 9
    assert conv.std() == pytest.approx(math.sqrt(2 / 288), rel=STD_RTOL)


def test_normal_from_shape_and_in_place():
    w = init.normal_((500, 300), std=0.01, rng=0)
    assert w.dtype == np.float32 and w.std() == pytest.approx(0.01, rel=STD_RTOL)
    arr = np.zeros((500, 300))
    out = init.normal_(arr, std=2.0, rng=0, mean=1.0)
    assert out is arr and arr.dtype == np.float64
    assert arr.mean() == pytest.approx(1.0, abs=0.02) and arr.std() == pytest.approx(2.0, rel=0.02)
    assert init.normal_((5,), rng=0, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("shape", [(50, 50), (80, 30), (30, 80), (16, 3, 2, 2)])
def test_orthogonal(shape):
    w = init.orthogonal(shape, gain=2.0, rng=0, dtype=np.float64)
    assert w.shape == shape
    m = w.reshape(shape[0], -1)
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T  # orthonormal columns (tall) or rows (wide)
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-10)
    w32 = init.orthogonal((80, 30), rng=0)
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32.T @ w32, np.eye(30), atol=1e-5)


def test_orthogonal_sign_fix_makes_it_haar():
    # LAPACK's Householder QR ties Q's signs to the input (the mean of diag(Q) is about
    # -0.4 for 4x4 without the fix); with the fix diag(Q) is symmetric around 0
    rng = np.random.default_rng(0)
    diag = np.array([np.diag(init.orthogonal((4, 4), rng=rng)) for _ in range(2000)])
    assert np.abs(diag.mean(axis=0)).max() < 0.05


def test_orthogonal_preserves_norms_through_depth():
    x = np.random.default_rng(0).normal(size=(10, 64))
    h = x
    for k in range(50):
        h = h @ init.orthogonal((64, 64), rng=k, dtype=np.float64)
    np.testing.assert_allclose(np.linalg.norm(h, axis=1), np.linalg.norm(x, axis=1), rtol=1e-10)


def test_he_keeps_relu_activations_steady_xavier_halves_them():
    """Chapter 8's point: through 10 ReLU layers He keeps E[h^2] steady, Xavier shrinks it."""
    x = np.random.default_rng(0).normal(size=(2000, 256))

    def second_moment(make):
        h = x
        for k in range(10):
            h = np.maximum(h @ make((256, 256), rng=k).astype(np.float64), 0)
        return float(np.mean(h ** 2))

    base = float(np.mean(x ** 2))
    assert 0.6 < second_moment(init.kaiming_normal) / base < 1.6
    assert second_moment(init.xavier_normal) / base < 0.5 ** 10 * 3


def test_reproducible_with_seed():
    for name in ["xavier_uniform", "xavier_normal", "kaiming_normal", "kaiming_uniform",
                 "orthogonal"]:
        fn = getattr(init, name)
        np.testing.assert_array_equal(fn((5, 4), rng=3), fn((5, 4), rng=3))
        assert not np.array_equal(fn((5, 4), rng=3), fn((5, 4), rng=4))
        assert fn((5, 4), rng=np.random.default_rng(0), dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("call, error, match", [
    (lambda: init.xavier_uniform((5,)), ValueError, "at least 2"),
    (lambda: init.xavier_normal((5, 0)), ValueError, "positive"),
    (lambda: init.kaiming_normal((5, 2.0)), TypeError, "ints"),
    (lambda: init.kaiming_normal(7), TypeError, "shape"),
    (lambda: init.kaiming_normal((5, 4), mode="fan_avg"), ValueError, "mode"),
    (lambda: init.kaiming_uniform((5, 4), nonlinearity="gelu"), ValueError, "gelu"),
    (lambda: init.xavier_normal((5, 4), gain=-1.0), ValueError, "gain"),
    (lambda: init.orthogonal((5, 4), rng="seed"), TypeError, "rng"),
    (lambda: init.normal_(np.zeros(3, dtype=int)), TypeError, "float"),
    (lambda: init.normal_((3, 4), std=-1.0), ValueError, "std"),
    (lambda: init.normal_("shape"), TypeError, "normal_"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
