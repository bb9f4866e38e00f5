"""PyTorch parity: every activation and loss, value and gradient, on every device.

The same float64 inputs go through dlbook (analytic ``*_grad`` functions) and
through torch (autograd); values and gradients must agree to 1e-10.
"""

import numpy as np
import pytest

import dlbook.functional as F
from dlbook import twins

torch = pytest.importorskip("torch")
from parity import assert_close  # noqa: E402

TOL = 1e-10
RNG = np.random.default_rng(2)
X = RNG.normal(scale=4.0, size=(5, 6))
X[0, :3] = [1e3, -1e3, 0.5]  # extreme values in the same batch
DOUT = RNG.normal(size=X.shape)

ACTIVATIONS = [
    ("sigmoid", F.sigmoid, F.sigmoid_grad),
    ("tanh", F.tanh, F.tanh_grad),
    ("relu", F.relu, F.relu_grad),
    ("softplus", F.softplus, F.sigmoid),
]


@pytest.mark.parametrize("name, fn, grad", ACTIVATIONS)
def test_activation_value_and_grad(name, fn, grad, device):
    y, (dx,) = twins.value_and_grad(twins.REFERENCE[name], [X], device, dout=DOUT)
    assert_close(fn(X), y)
    assert_close(grad(X) * DOUT, dx)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_normalisers_value_and_vjp(name, device):
    ours = getattr(F, name)(X)
    dout = RNG.normal(size=ours.shape)
    y, (dx,) = twins.value_and_grad(twins.REFERENCE[name], [X], device, dout=dout)
    assert_close(ours, y)
    # vector-Jacobian products derived from the math of chapter 3
    p = F.softmax(X)
    if name == "softmax":
        ours_dx = p * (dout - np.sum(dout * p, axis=-1, keepdims=True))
    elif name == "log_softmax":
        ours_dx = dout - p * dout.sum(axis=-1, keepdims=True)
    else:
        ours_dx = dout[:, None] * p
    assert_close(ours_dx, dx)


def test_cross_entropy(device):
    labels = RNG.integers(0, X.shape[1], size=len(X))
    logits = twins.as_tensor(X, device, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(labels, device=logits.device))
    loss.backward()
    assert F.cross_entropy(X, labels) == pytest.approx(loss.item(), rel=TOL)
    assert_close(F.cross_entropy_grad(X, labels), twins.to_numpy(logits.grad))


SCORES = X.ravel()
Y01 = RNG.integers(0, 2, size=SCORES.shape).astype(float)
YPM = 2 * Y01 - 1
BINARY = [
    ("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
     F.binary_cross_entropy_with_logits_grad, SCORES, Y01),
    ("logistic_loss", F.logistic_loss, F.logistic_loss_grad, SCORES, YPM),
    ("hinge_loss", F.hinge_loss, F.hinge_loss_grad, SCORES, YPM),
    ("mse_loss", F.mse_loss, F.mse_loss_grad, SCORES, Y01),
]


@pytest.mark.parametrize("name, loss, grad, s, t", BINARY)
def test_binary_losses(name, loss, grad, s, t, device):
    st = twins.as_tensor(s, device, requires_grad=True)
    value = twins.REFERENCE[name](st, twins.as_tensor(t, device))
    value.backward()
    assert loss(s, t) == pytest.approx(value.item(), rel=TOL)
    assert_close(grad(s, t), twins.to_numpy(st.grad))


def test_binary_cross_entropy_on_probabilities_including_0_and_1(device):
    p = np.concatenate([F.sigmoid(SCORES[:10]), [0.0, 1.0, 0.0, 1.0]])
    t = np.concatenate([Y01[:10], [0.0, 1.0, 1.0, 0.0]])
    ref = twins.REFERENCE["binary_cross_entropy"](twins.as_tensor(p, device), twins.as_tensor(t, device))
    assert F.binary_cross_entropy(p, t) == pytest.approx(ref.item(), rel=TOL)


def test_float32_extremes_match_torch(device):
    z = np.array([[1e4, -1e4, 3.0], [-1e4, 1e4, 0.0]], dtype=np.float32)
    labels = np.array([1, 0])
    ref = torch.nn.functional.cross_entropy(twins.as_tensor(z, device, torch.float32),
                                            torch.as_tensor(labels, device=device))
    assert F.cross_entropy(z, labels) == pytest.approx(ref.item(), rel=1e-6)
    assert np.isfinite(ref.item())
