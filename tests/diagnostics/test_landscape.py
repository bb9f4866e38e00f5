"""Tests of dlbook.diagnostics.landscape (chapter 10): filter-normalised directions and loss slices."""

import numpy as np
import pytest

from dlbook.diagnostics.landscape import (
    filter_axis,
    filter_normalize,
    filter_norms,
    loss_line,
    loss_surface,
    random_direction,
)
from dlbook.layers import BatchNorm1d, CrossEntropyLoss, Layer, Linear, ReLU, Sequential
from dlbook.models.resnet import resnet
from dlbook.train import evaluate

STEPS = np.linspace(-1.0, 1.0, 5)


def small_resnet(residual=True, dtype=np.float64):
    """A 6n+2 network with n = 1 on 8 x 8 inputs, its BatchNorm statistics moved off 0 and 1."""
    model = resnet(1, (2, 3, 4), in_channels=1, num_classes=3, input_size=8, residual=residual,
                   rng=0, dtype=dtype)
    rng = np.random.default_rng(1)
    for _ in range(3):  # training-mode passes: running statistics that are not the defaults
        model(rng.normal(size=(6, 1, 8, 8)).astype(dtype))
    return model


def data(n=10, seed=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 1, 8, 8)), np.arange(n) % 3


def mlp():
    """Linear (with bias), BatchNorm1d, ReLU, Linear: weights of both layouts, biases, BN."""
    return Sequential(Linear(4, 5, rng=0, dtype=np.float64), BatchNorm1d(5, dtype=np.float64),
                      ReLU(), Linear(5, 3, rng=1, dtype=np.float64))


def ce_loss(X, y):
    loss_fn = CrossEntropyLoss()
    return lambda model: evaluate(model, loss_fn, X, y)[0]


class Quadratic(Layer):
    """No forward pass: the toy 'model' is its parameters, L = 0.5 |W - W*|^2 + c . b."""

    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(3)
        self.add_param("W", rng.normal(size=(3, 4)))
        self.add_param("b", rng.normal(size=4))
        self.W_star, self.c = rng.normal(size=(3, 4)), rng.normal(size=4)

    def loss(self):
        return 0.5 * np.sum((self.params["W"] - self.W_star) ** 2) + self.c @ self.params["b"]


def test_filter_norms_of_the_normalised_direction_equal_the_weights():
    for model in (small_resnet(), mlp()):
        d = random_direction(model, rng=0)
        checked = 0
        for prefix, layer in model.named_modules():
            for key, param in layer._params.items():
                name = f"{prefix}.{key}" if prefix else key
                axis = filter_axis(layer, key, param)
                if axis is None:
                    continue
                np.testing.assert_allclose(filter_norms(d[name], axis), filter_norms(param, axis),
                                           rtol=1e-12)
                checked += 1
        assert checked >= 2
    # a Linear W (D, H) is normalised per output unit: its columns, torch's rows
    model = mlp()
    d = random_direction(model, rng=5)
    np.testing.assert_allclose(np.linalg.norm(d["0.W"], axis=0),
                               np.linalg.norm(model.params["0.W"], axis=0), rtol=1e-12)
    assert not np.allclose(np.linalg.norm(d["0.W"], axis=1),
                           np.linalg.norm(model.params["0.W"], axis=1))
    # a Conv2d W (F, C, kh, kw) per output channel
    net = small_resnet()
    d = random_direction(net, rng=5)
    np.testing.assert_allclose(np.linalg.norm(d["0.W"].reshape(2, -1), axis=1),
                               np.linalg.norm(net.params["0.W"].reshape(2, -1), axis=1))


def test_bias_and_batchnorm_directions_are_zero_and_weights_are_not():
    for model in (small_resnet(), mlp()):
        for normalization in ("filter", "none"):
            d = random_direction(model, rng=0, normalization=normalization)
            assert list(d) == [name for name, _ in model.named_parameters()]
            for name, param in model.named_parameters():
                if name.rsplit(".", 1)[-1] in ("b", "gamma", "beta"):
                    assert not d[name].any(), name
                else:
                    assert param.ndim >= 2 and np.all(d[name] != 0), name


def test_directions_are_seeded_and_none_is_the_raw_draw():
    model = mlp()
    a, b = random_direction(model, rng=4), random_direction(model, rng=4)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    raw = random_direction(model, rng=4, normalization="none")
    again = filter_normalize(raw, model)
    assert all(np.allclose(again[k], a[k]) for k in a)
    assert np.std(raw["0.W"]) > 0.5 and not np.allclose(raw["0.W"], a["0.W"])


def test_grid_centre_is_the_model_loss_in_evaluation_mode():
    model, (X, y) = small_resnet(), data()
    loss = ce_loss(X, y)
    expected = loss(model)
    model.train()
    grid = loss_surface(model, loss, random_direction(model, rng=1), random_direction(model, rng=2),
                        STEPS)
    assert grid.shape == (5, 5)
    assert grid[2, 2] == expected                       # eval mode: BatchNorm's running statistics
    assert all(layer.training for layer in model.modules())  # the modes are restored
    assert np.all(np.isfinite(grid)) and grid.max() > grid[2, 2]
    line = loss_line(model, loss, random_direction(model, rng=1), STEPS)
    assert line[2] == expected
    assert np.array_equal(line, grid[2, :])             # b = 0 row: the same points as the line


def test_weights_and_buffers_are_restored_also_after_an_error():
    model, (X, y) = small_resnet(), data()
    before = model.state_dict()
    d1, d2 = random_direction(model, rng=1), random_direction(model, rng=2)
    loss_surface(model, ce_loss(X, y), d1, d2, STEPS)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    calls = []

    def failing(m):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return 0.0

    with pytest.raises(RuntimeError, match="boom"):
        loss_surface(model, failing, d1, d2, STEPS)
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    with pytest.raises(TypeError, match="loss_surface expected loss"):
        loss_surface(model, lambda m: np.ones(2), d1, d2, STEPS)
    assert all(np.array_equal(before[k], model.state_dict()[k]) for k in before)


def test_quadratic_grid_equals_the_closed_form():
    model = Quadratic()
    rng = np.random.default_rng(9)
    d1 = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    d2 = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    alphas, betas = np.linspace(-2, 1, 7), np.array([-0.5, 0.0, 0.25, 3.0])
    grid = loss_surface(model, lambda m: m.loss(), d1, d2, alphas, betas)
    W, b = model.params["W"], model.params["b"]
    A, B = np.meshgrid(alphas, betas)                   # (4, 7): rows follow betas
    dW = W - model.W_star
    closed = (0.5 * (np.sum(dW**2) + 2 * A * np.sum(dW * d1["W"]) + 2 * B * np.sum(dW * d2["W"])
                     + A**2 * np.sum(d1["W"] ** 2) + 2 * A * B * np.sum(d1["W"] * d2["W"])
                     + B**2 * np.sum(d2["W"] ** 2))
              + model.c @ b + A * (model.c @ d1["b"]) + B * (model.c @ d2["b"]))
    assert grid.shape == (4, 7)
    np.testing.assert_allclose(grid, closed, rtol=1e-12, atol=1e-12)
    line = loss_line(model, lambda m: m.loss(), d1, alphas)
    np.testing.assert_allclose(line, closed[1], rtol=1e-12)  # betas[1] = 0


def test_bad_inputs_raise_clear_errors():
    model, (X, y) = mlp(), (np.zeros((4, 4)), np.arange(4) % 3)
    d = random_direction(model, rng=0)
    loss = ce_loss(X, y)
    with pytest.raises(TypeError, match="random_direction expected model to be a dlbook Layer"):
        random_direction(np.zeros(3))
    with pytest.raises(ValueError, match="normalization in"):
        random_direction(model, normalization="layer")
    with pytest.raises(ValueError, match=r"missing \['3.b'\]"):
        loss_surface(model, loss, {k: v for k, v in d.items() if k != "3.b"}, d, STEPS)
    with pytest.raises(ValueError, match=r"unexpected \['extra'\]"):
        loss_line(model, loss, {**d, "extra": np.zeros(2)}, STEPS)
    with pytest.raises(ValueError, match=r"d2\['0.W'\] of shape \(4, 5\).*got shape \(5, 4\)"):
        loss_surface(model, loss, d, {**d, "0.W": np.zeros((5, 4))}, STEPS)
    with pytest.raises(ValueError, match="finite"):
        filter_normalize({**d, "0.W": np.full((4, 5), np.nan)}, model)
    with pytest.raises(TypeError, match="real array"):
        loss_line(model, loss, {**d, "0.W": np.full((4, 5), "a")}, STEPS)
    with pytest.raises(TypeError, match="dict name -> array"):
        loss_line(model, loss, [d], STEPS)
    with pytest.raises(ValueError, match="alphas to be finite"):
        loss_line(model, loss, d, [0.0, np.inf])
    with pytest.raises(ValueError, match="betas to be a non-empty 1-D"):
        loss_surface(model, loss, d, d, STEPS, [])
    with pytest.raises(ValueError, match="alphas to be a non-empty 1-D"):
        loss_surface(model, loss, d, d, np.zeros((2, 2)))
    with pytest.raises(TypeError, match="alphas to be a 1-D sequence of numbers"):
        loss_line(model, loss, d, ["a", "b"])
    with pytest.raises(TypeError, match="loss_line expected loss to be a function"):
        loss_line(model, 3.0, d, STEPS)
    with pytest.raises(ValueError, match="filter_norms expected an array of 2 or more axes"):
        filter_norms(np.zeros(3), 0)


def test_a_grid_point_matches_the_pytorch_twin(device):
    torch = pytest.importorskip("torch")
    from dlbook.twins import as_tensor, to_torch

    model, (X, y) = small_resnet(), data()
    d1, d2 = random_direction(model, rng=1), random_direction(model, rng=2)
    a, b = 0.3, -0.2
    ours = loss_surface(model, ce_loss(X, y), d1, d2, [a], [b])[0, 0]
    moved = small_resnet()
    for name, param in moved.named_parameters():
        param[...] = param + a * d1[name] + b * d2[name]
    twin = to_torch(moved.eval(), device).eval()
    with torch.no_grad():
        theirs = torch.nn.functional.cross_entropy(
            twin(as_tensor(X, device)), torch.as_tensor(y, device=device)).item()
    assert abs(ours - theirs) < 1e-10
    assert abs(ours - ce_loss(X, y)(model)) > 1e-3      # the point is really off the centre
