"""The chapter 3-4 MLP: shapes, numerical gradients vs torch autograd, training, bad input."""

import numpy as np
import pytest

import dlbook.functional as F
from dlbook.models.mlp import MLP
from dlbook.diagnostics.numgrad import relative_error

RNG = np.random.default_rng(3)
X = RNG.normal(size=(8, 5))
Y = RNG.integers(0, 3, size=8)


def test_shapes_and_parameter_count():
    net = MLP([5, 7, 4, 3], rng=0)
    outs = net.forward_all(X)
    assert [o.shape for o in outs] == [(8, 5), (8, 7), (8, 4), (8, 3)]
    assert net.num_parameters() == 5 * 7 + 7 + 7 * 4 + 4 + 4 * 3 + 3
    assert net.predict(X).shape == (8,)
    assert 0.0 <= net.accuracy(X, Y) <= 1.0


def test_same_seed_same_weights_and_float32_option():
    a, b = MLP([5, 4, 3], rng=1), MLP([5, 4, 3], rng=1)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert MLP([5, 4, 3], rng=1, dtype=np.float32).forward(X.astype(np.float32)).dtype == np.float32


def test_hidden_activation_applied_but_not_on_output():
    net = MLP([5, 6, 3], rng=0)
    hidden = net.forward_all(X)[1]
    assert hidden.min() >= 0.0  # ReLU
    logits = net.forward(X)
    expected = F.relu(X @ net.params["W1"] + net.params["b1"]) @ net.params["W2"] + net.params["b2"]
    np.testing.assert_allclose(logits, expected)


def test_numerical_gradients_match_torch_autograd(device):
    torch = pytest.importorskip("torch")
    net = MLP([5, 6, 3], activation=F.tanh, rng=0)
    grads = net.numerical_gradients(X, Y)
    p = {k: torch.tensor(v, dtype=torch.float64, device=device, requires_grad=True)
         for k, v in net.params.items()}
    x = torch.tensor(X, dtype=torch.float64, device=device)
    logits = torch.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    torch.nn.functional.cross_entropy(logits, torch.as_tensor(Y, device=device)).backward()
    for k in grads:
        assert relative_error(grads[k], p[k].grad.cpu().numpy()) < 1e-7, k


def test_sgd_with_numerical_gradients_lowers_the_loss():
    net = MLP([5, 8, 3], rng=0)
    before = net.loss(X, Y)
    for _ in range(20):
        net.sgd_step(net.numerical_gradients(X, Y), lr=0.5)
    assert net.loss(X, Y) < 0.5 * before


@pytest.mark.parametrize("sizes, error, match", [
    ([5], ValueError, "at least 2 layer sizes"),
    ([5, 0, 3], ValueError, ">= 1; got 0"),
    ([5, 2.5, 3], TypeError, "an int; got float"),
])
def test_bad_sizes(sizes, error, match):
    with pytest.raises(error, match=match):
        MLP(sizes)


def test_wrong_input_width_names_expected_shape():
    with pytest.raises(ValueError, match=r"MLP.forward expected x of shape \(N, 5\); got shape \(8, 4\)"):
        MLP([5, 3], rng=0).forward(np.zeros((8, 4)))
