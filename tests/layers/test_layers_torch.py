"""PyTorch parity of the chapter 5 and 8 layers: outputs, input and parameter gradients.

Each test builds the same layer twice, in dlbook and in ``torch.nn`` (float64,
on every available device), copies the parameters across explicitly, and
compares the forward output, dx and every parameter gradient to 1e-10.
Name map: Linear ``W`` (D, H) = ``weight.T``, ``b`` = ``bias``; the norms'
``gamma`` = ``weight``, ``beta`` = ``bias``.
"""

import numpy as np
import pytest

from dlbook.layers import (BatchNorm1d, CrossEntropyLoss, Dropout, LayerNorm, Linear, MSELoss,
                           ReLU, Sequential, Sigmoid, Tanh)

torch = pytest.importorskip("torch")
from dlbook.twins import as_tensor, to_numpy  # noqa: E402  (imports torch)

from parity import assert_close, torch_forward_backward  # noqa: E402

TOL = 1e-10
F64 = np.float64
RNG = np.random.default_rng(5)


def copy_params(ours, theirs, mapping):
    """Overwrite torch parameters with ours: mapping is {our name: (torch name, transpose?)}."""
    with torch.no_grad():
        for name, (torch_name, transpose) in mapping.items():
            value = ours.params[name].T if transpose else ours.params[name]
            getattr(theirs, torch_name).copy_(as_tensor(value, getattr(theirs, torch_name).device))


LINEAR_MAP = {"W": ("weight", True), "b": ("bias", False)}
NORM_MAP = {"gamma": ("weight", False), "beta": ("bias", False)}


def randomise(layer):
    for p in layer.params.values():
        p[...] = RNG.normal(size=p.shape)
    return layer


@pytest.mark.parametrize("shape", [(5, 4), (2, 5, 4)])
def test_linear(shape, device):
    ours = randomise(Linear(4, 3, rng=0, dtype=F64))
    ref = torch.nn.Linear(4, 3, dtype=torch.float64, device=device)
    copy_params(ours, ref, LINEAR_MAP)
    x, dout = RNG.normal(size=shape), RNG.normal(size=shape[:-1] + (3,))
    yt, dxt = torch_forward_backward(ref, x, dout, device)
    assert_close(ours(x), yt, "y")
    assert_close(ours.backward(dout), dxt, "dx")
    assert_close(ours.grads["W"], ref.weight.grad.T, "dW")
    assert_close(ours.grads["b"], ref.bias.grad, "db")


@pytest.mark.parametrize("ours, ref", [(ReLU, torch.nn.ReLU), (Sigmoid, torch.nn.Sigmoid),
                                       (Tanh, torch.nn.Tanh)], ids=["ReLU", "Sigmoid", "Tanh"])
def test_activations(ours, ref, device):
    x, dout = 3 * RNG.normal(size=(6, 5)), RNG.normal(size=(6, 5))
    x[0, :2] = [40.0, -40.0]  # saturated units
    layer = ours()
    yt, dxt = torch_forward_backward(ref(), x, dout, device)
    assert_close(layer(x), yt, "y")
    assert_close(layer.backward(dout), dxt, "dx")


def test_cross_entropy_loss(device):
    logits, targets, dout = 3 * RNG.normal(size=(7, 4)), RNG.integers(0, 4, size=7), 0.7
    zt = as_tensor(logits, device, requires_grad=True)
    loss_t = torch.nn.CrossEntropyLoss()(zt, torch.as_tensor(targets, device=zt.device))
    loss_t.backward(as_tensor(dout, device))
    ours = CrossEntropyLoss()
    assert abs(ours(logits, targets) - loss_t.item()) < TOL
    assert_close(ours.backward(dout), zt.grad, "dlogits")


def test_mse_loss(device):
    x, t, dout = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3)), 1.3
    xt = as_tensor(x, device, requires_grad=True)
    loss_t = torch.nn.MSELoss()(xt, as_tensor(t, device))
    loss_t.backward(as_tensor(dout, device))
    ours = MSELoss()
    assert abs(ours(x, t) - loss_t.item()) < TOL
    assert_close(ours.backward(dout), xt.grad, "dx")


def test_sequential_with_loss(device):
    ours = Sequential(Linear(4, 8, rng=0, dtype=F64), Tanh(), Linear(8, 6, rng=1, dtype=F64),
                      ReLU(), Linear(6, 3, rng=2, dtype=F64))
    ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 6),
                              torch.nn.ReLU(), torch.nn.Linear(6, 3)).to(device, torch.float64)
    for i in (0, 2, 4):
        copy_params(randomise(ours[i]), ref[i], LINEAR_MAP)
    x, targets = RNG.normal(size=(10, 4)), RNG.integers(0, 3, size=10)
    xt = as_tensor(x, device, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(ref(xt), torch.as_tensor(targets, device=xt.device))
    loss_t.backward()
    criterion = CrossEntropyLoss()
    assert abs(criterion(ours(x), targets) - loss_t.item()) < TOL
    assert_close(ours.backward(criterion.backward()), xt.grad, "dx")
    torch_grads = dict(ref.named_parameters())
    for name, grad in ours.grads.items():  # "0.W" <-> "0.weight".T
        index, ours_name = name.split(".")
        torch_name, transpose = LINEAR_MAP[ours_name]
        theirs = torch_grads[f"{index}.{torch_name}"].grad
        assert_close(grad, theirs.T if transpose else theirs, name)


def test_dropout_given_the_same_mask(device):
    p, x, dout = 0.3, RNG.normal(size=(8, 6)), RNG.normal(size=(8, 6))
    ours = Dropout(p, rng=0)
    y, dx = ours(x), ours.backward(dout)
    keep = ours.mask != 0
    # torch's dropout is x * keep / (1 - p) for its own keep-mask; apply ours
    keep_t = as_tensor(keep, device)
    xt = as_tensor(x, device, requires_grad=True)
    yt = xt * keep_t / (1 - p)
    yt.backward(as_tensor(dout, device))
    assert_close(y, yt, "y")
    assert_close(dx, xt.grad, "dx")
    # torch.nn.Dropout's own output obeys the same rule: 0 or x / (1 - p)
    torch.manual_seed(0)
    ys = to_numpy(torch.nn.Dropout(p)(as_tensor(x, device)))
    kept = ys != 0
    assert_close(ys[kept], x[kept] / (1 - p))
    assert_close(y[keep], x[keep] / (1 - p))


def test_dropout_statistics_and_eval_match_torch(device):
    p, n = 0.3, 200_000
    ones = np.ones(n)
    ours = Dropout(p, rng=1)(ones)
    torch.manual_seed(1)
    theirs = to_numpy(torch.nn.Dropout(p)(as_tensor(ones, device)))
    tol = 5 * np.sqrt(p * (1 - p) / n)  # 5 standard errors of a Bernoulli fraction
    for y in (ours, theirs):
        assert abs(np.mean(y == 0) - p) < tol  # a fraction p dropped
        assert abs(np.mean(y) - 1.0) < tol / (1 - p)  # inverted scaling keeps the mean
    x = RNG.normal(size=(4, 5))
    assert_close(Dropout(p, rng=2).eval()(x), torch.nn.Dropout(p).eval()(as_tensor(x, device)))


def test_batchnorm_train_steps_running_stats_and_eval(device):
    ours = randomise(BatchNorm1d(4, momentum=0.2, dtype=F64))
    ref = torch.nn.BatchNorm1d(4, momentum=0.2, dtype=torch.float64, device=device)
    copy_params(ours, ref, NORM_MAP)
    for step in range(4):
        x, dout = RNG.normal(3.0, 2.0, size=(6, 4)), RNG.normal(size=(6, 4))
        ours.zero_grad()
        ref.zero_grad()
        yt, dxt = torch_forward_backward(ref, x, dout, device)
        assert_close(ours(x), yt, f"y, step {step}")
        assert_close(ours.backward(dout), dxt, f"dx, step {step}")
        assert_close(ours.grads["gamma"], ref.weight.grad, f"dgamma, step {step}")
        assert_close(ours.grads["beta"], ref.bias.grad, f"dbeta, step {step}")
    assert_close(ours.running_mean, ref.running_mean, "running_mean")
    assert_close(ours.running_var, ref.running_var, "running_var (unbiased)")
    ours.eval()
    ref.eval()
    ours.zero_grad()
    ref.zero_grad()
    x, dout = RNG.normal(3.0, 2.0, size=(3, 4)), RNG.normal(size=(3, 4))
    yt, dxt = torch_forward_backward(ref, x, dout, device)
    assert_close(ours(x), yt, "eval y")
    assert_close(ours.backward(dout), dxt, "eval dx")
    assert_close(ours.grads["gamma"], ref.weight.grad, "eval dgamma")


@pytest.mark.parametrize("affine", [True, False])
def test_layernorm(affine, device):
    ours = randomise(LayerNorm(5, elementwise_affine=affine, dtype=F64))
    ref = torch.nn.LayerNorm(5, elementwise_affine=affine, dtype=torch.float64, device=device)
    if affine:
        copy_params(ours, ref, NORM_MAP)
    x, dout = RNG.normal(1.0, 3.0, size=(2, 3, 5)), RNG.normal(size=(2, 3, 5))
    yt, dxt = torch_forward_backward(ref, x, dout, device)
    assert_close(ours(x), yt, "y")
    assert_close(ours.backward(dout), dxt, "dx")
    if affine:
        assert_close(ours.grads["gamma"], ref.weight.grad, "dgamma")
        assert_close(ours.grads["beta"], ref.bias.grad, "dbeta")
