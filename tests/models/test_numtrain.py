"""dlbook.models.numtrain: mini-batch SGD with numerical gradients (chapter 4)."""

import math

import numpy as np
import pytest

from dlbook.data import make_moons
from dlbook.models.mlp import MLP
from dlbook.models.numtrain import evaluate, train_numerical

N = 12


@pytest.fixture
def data():
    X, y = make_moons(N, noise=0.1, rng=0)
    return X.astype(np.float64), y


def test_evaluate_matches_model(data):
    X, y = data
    net = MLP([2, 3, 2], rng=0)
    loss, acc = evaluate(net, X, y)
    assert isinstance(loss, float) and isinstance(acc, float)
    assert loss == net.loss(X, y)
    assert acc == net.accuracy(X, y)


@pytest.mark.parametrize("batch_size, per_epoch", [(None, 1), (4, 3), (5, 3), (12, 1), (50, 1)])
def test_history_lengths(data, batch_size, per_epoch):
    X, y = data
    hist = train_numerical(MLP([2, 3, 2], rng=0), X, y, lr=0.1, epochs=2, batch_size=batch_size,
                           rng=0)
    assert len(hist["batch_loss"]) == 2 * per_epoch == 2 * math.ceil(N / (batch_size or N))
    assert len(hist["train_loss"]) == len(hist["train_acc"]) == 3  # epoch 0 + 2 epochs
    assert "val_loss" not in hist and "val_acc" not in hist


def test_validation_history(data):
    X, y = data
    X_val, y_val = make_moons(8, noise=0.1, rng=1)
    net = MLP([2, 3, 2], rng=0)
    before = evaluate(net, X_val, y_val)
    hist = train_numerical(net, X, y, lr=0.1, epochs=3, batch_size=4, rng=0,
                           X_val=X_val, y_val=y_val)
    assert len(hist["val_loss"]) == len(hist["val_acc"]) == 4
    assert (hist["val_loss"][0], hist["val_acc"][0]) == before
    assert (hist["val_loss"][-1], hist["val_acc"][-1]) == evaluate(net, X_val, y_val)


def test_full_batch_equals_manual_gradient_descent(data):
    X, y = data
    net, manual = MLP([2, 4, 2], rng=3), MLP([2, 4, 2], rng=3)
    hist = train_numerical(net, X, y, lr=0.5, epochs=5, rng=0)
    losses = [manual.loss(X, y)]
    for _ in range(5):
        manual.sgd_step(manual.numerical_gradients(X, y), 0.5)
        losses.append(manual.loss(X, y))
    for name in net.params:  # shuffling the full batch only reorders a sum
        np.testing.assert_allclose(net.params[name], manual.params[name], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(hist["train_loss"], losses, rtol=1e-8)


def test_training_lowers_the_loss(data):
    X, y = data
    hist = train_numerical(MLP([2, 8, 2], rng=0), X, y, lr=1.0, epochs=40, batch_size=4, rng=0)
    assert hist["train_loss"][-1] < 0.6 * hist["train_loss"][0]


def test_deterministic_for_a_seed(data):
    X, y = data
    runs = []
    for seed in (7, np.random.default_rng(7)):
        net = MLP([2, 3, 2], rng=0)
        runs.append((train_numerical(net, X, y, lr=0.3, epochs=2, batch_size=5, rng=seed), net))
    assert runs[0][0] == runs[1][0]
    for name in runs[0][1].params:
        np.testing.assert_array_equal(runs[0][1].params[name], runs[1][1].params[name])


class RecordingModel:
    """A stand-in model that records the arguments train_numerical passes."""

    def __init__(self):
        self.calls = []

    def numerical_gradients(self, x, y, h):
        self.calls.append((len(x), h))
        return {}

    def sgd_step(self, grads, lr):
        self.calls.append(("step", lr))

    def loss(self, x, y):
        return 1.0

    def accuracy(self, x, y):
        return 0.5


def test_passes_h_lr_and_batches_to_the_model(data):
    X, y = data
    model = RecordingModel()
    train_numerical(model, X, y, lr=0.25, epochs=1, batch_size=5, rng=0, h=1e-4)
    assert model.calls == [(5, 1e-4), ("step", 0.25), (5, 1e-4), ("step", 0.25),
                           (2, 1e-4), ("step", 0.25)]


def test_matches_torch_sgd(data, device):
    """Same batches, torch autograd + torch.optim.SGD: identical trajectory up to h^2 error."""
    torch = pytest.importorskip("torch")
    X, y = data
    net = MLP([2, 5, 2], rng=2)
    theta = {k: torch.tensor(v, dtype=torch.float64, device=device, requires_grad=True)
             for k, v in net.params.items()}
    train_numerical(net, X, y, lr=0.3, epochs=3, batch_size=5, rng=11)

    opt = torch.optim.SGD(list(theta.values()), lr=0.3)
    gen = np.random.default_rng(11)  # the permutations train_numerical drew
    Xt = torch.tensor(X, dtype=torch.float64, device=device)
    yt = torch.tensor(y, dtype=torch.long, device=device)
    for _ in range(3):
        order = torch.tensor(gen.permutation(N), device=device)
        for start in range(0, N, 5):
            idx = order[start:start + 5]
            z = torch.relu(Xt[idx] @ theta["W1"] + theta["b1"]) @ theta["W2"] + theta["b2"]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(z, yt[idx]).backward()
            opt.step()
    for name, p in theta.items():
        np.testing.assert_allclose(net.params[name], p.detach().cpu().numpy(), atol=1e-8)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": -0.1}, ValueError, "lr > 0"),
    ({"lr": float("nan")}, ValueError, "lr > 0"),
    ({"lr": "0.1"}, TypeError, "lr to be a real number"),
    ({"lr": True}, TypeError, "lr to be a real number"),
    ({"epochs": 0}, ValueError, "epochs >= 1"),
    ({"epochs": 1.5}, TypeError, "epochs to be an int"),
    ({"batch_size": 0}, ValueError, "batch_size >= 1"),
    ({"X_val": np.zeros((3, 2))}, ValueError, "both X_val and y_val"),
    ({"y_val": np.zeros(3, dtype=int)}, ValueError, "both X_val and y_val"),
    ({"X_val": np.zeros((3, 2)), "y_val": np.zeros(4, dtype=int)}, ValueError, "validation data"),
])
def test_bad_arguments(data, kwargs, error, match):
    X, y = data
    args = {"lr": 0.1, "epochs": 1, **kwargs}
    with pytest.raises(error, match=match):
        train_numerical(MLP([2, 3, 2], rng=0), X, y, **args)


@pytest.mark.parametrize("X, y", [
    (np.zeros(5), np.zeros(5, dtype=int)),
    (np.zeros((5, 2)), np.zeros(4, dtype=int)),
    (np.zeros((0, 2)), np.zeros(0, dtype=int)),
    (np.zeros((5, 2)), np.zeros((5, 1), dtype=int)),
])
def test_bad_training_data(X, y):
    with pytest.raises(ValueError, match="train_numerical expected training data"):
        train_numerical(MLP([2, 3, 2], rng=0), X, y, lr=0.1, epochs=1)
