"""The chapter 19 variational autoencoder: the Gaussian KL and its gradient, the
reparameterization, the Bernoulli likelihood, the negative ELBO and its gradients (float64
numerical checks), the numpy VAE against its PyTorch twin, training in numpy and in torch."""

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, norm_relative_error
from dlbook.diagnostics.numgrad import numerical_gradient
from dlbook.models.vae import (VAE, VAEStep, bernoulli_nll, elbo, gaussian_kl,
                               gaussian_kl_backward, latent_grid, negative_elbo,
                               negative_elbo_backward, reparameterize)
from dlbook.optim import Adam
from dlbook.train import Minibatches, fit

torch = pytest.importorskip("torch")
from torch.distributions import Bernoulli, Normal, kl_divergence  # noqa: E402

from dlbook.torch_models.vae import negative_elbo_torch, train_vae_torch  # noqa: E402
from dlbook.twins import as_tensor, copy_weights, to_numpy, to_torch, torch_grads  # noqa: E402

F64 = np.float64


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def binary(*shape, seed=0):
    return (np.random.default_rng(seed).uniform(size=shape) > 0.5).astype(F64)


def small_vae(seed=0, D=6, H=5, L=2):
    """A float64 VAE with N(0, 0.5^2) weights and biases (a zero bias would hide a bug)."""
    model = VAE(D, H, L, rng=seed, dtype=F64)
    rng = np.random.default_rng(seed + 100)
    for p in model.params.values():
        p[...] = 0.5 * rng.normal(size=p.shape)
    return model


# --- the loss pieces ---------------------------------------------------------------------------


def test_gaussian_kl_closed_form_zero_at_the_prior_and_matches_torch():
    mu, logvar = normal(4, 3), normal(4, 3, seed=1)
    ours = gaussian_kl(mu, logvar)
    ref = kl_divergence(Normal(torch.tensor(mu), torch.exp(0.5 * torch.tensor(logvar))),
                        Normal(0.0, 1.0)).sum(dim=1).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    assert ours.shape == (4,) and (ours > 0).all()
    np.testing.assert_array_equal(gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3))), np.zeros(2))


def test_gaussian_kl_gradient_numerically_and_against_torch():
    mu, logvar, dout = normal(5, 3), normal(5, 3, seed=1), normal(5, seed=2)
    dmu, dlogvar = gaussian_kl_backward(mu, logvar, dout)
    objective = lambda _: float(np.sum(dout * gaussian_kl(mu, logvar)))
    assert norm_relative_error(dmu, numerical_gradient(objective, mu)) < GRADCHECK_TOL
    assert norm_relative_error(dlogvar, numerical_gradient(objective, logvar)) < GRADCHECK_TOL
    mu_t, lv_t = torch.tensor(mu, requires_grad=True), torch.tensor(logvar, requires_grad=True)
    kl = kl_divergence(Normal(mu_t, torch.exp(0.5 * lv_t)), Normal(0.0, 1.0)).sum(dim=1)
    (kl * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(dmu, mu_t.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dlogvar, lv_t.grad.numpy(), rtol=1e-12, atol=1e-12)
    ones = gaussian_kl_backward(mu, logvar)  # dout=None: the gradient of each KL_n
    np.testing.assert_allclose(ones[0], mu)
    np.testing.assert_allclose(ones[1], 0.5 * (np.exp(logvar) - 1))


def test_gaussian_kl_is_the_expectation_of_log_q_minus_log_p():
    mu, logvar = np.array([[0.7, -0.3]]), np.array([[0.4, -0.8]])
    eps = np.random.default_rng(0).normal(size=(200_000, 2))
    z = reparameterize(np.repeat(mu, len(eps), 0), np.repeat(logvar, len(eps), 0), eps)
    log_q = Normal(torch.tensor(mu), torch.exp(0.5 * torch.tensor(logvar))).log_prob(torch.tensor(z))
    log_p = Normal(0.0, 1.0).log_prob(torch.tensor(z))
    mc = (log_q - log_p).sum(dim=1).numpy()
    assert abs(mc.mean() - gaussian_kl(mu, logvar)[0]) < 4 * mc.std() / np.sqrt(len(mc))


def test_reparameterize_draws_from_the_posterior():
    mu, logvar = np.array([[1.0, -2.0]]), np.array([[np.log(4.0), np.log(0.25)]])
    eps = np.random.default_rng(1).normal(size=(100_000, 2))
    z = reparameterize(np.repeat(mu, len(eps), 0), np.repeat(logvar, len(eps), 0), eps)
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.02)
    np.testing.assert_allclose(z.std(axis=0), [2.0, 0.5], rtol=0.01)
    np.testing.assert_array_equal(reparameterize(mu, logvar, np.zeros((1, 2))), mu)


def test_bernoulli_nll_is_minus_the_log_probability_and_stable():
    logits, x = normal(3, 7), binary(3, 7)
    ref = -Bernoulli(logits=torch.tensor(logits)).log_prob(torch.tensor(x)).sum(dim=1).numpy()
    np.testing.assert_allclose(bernoulli_nll(logits, x), ref, rtol=1e-12)
    extreme = bernoulli_nll(np.array([[1000.0, -1000.0]]), np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(extreme, [2000.0])
    np.testing.assert_allclose(bernoulli_nll(np.array([[1000.0, -1000.0]]), np.array([[1.0, 0.0]])),
                               [0.0], atol=1e-12)


def test_negative_elbo_backward_numerically():
    logits, x, mu, logvar = normal(4, 6), binary(4, 6), normal(4, 2, seed=1), normal(4, 2, seed=2)
    dout = normal(4, seed=3)
    grads = negative_elbo_backward(logits, x, mu, logvar, dout)
    objective = lambda _: float(np.sum(dout * negative_elbo(logits, x, mu, logvar)))
    for g, a in zip(grads, (logits, mu, logvar)):
        assert norm_relative_error(g, numerical_gradient(objective, a)) < GRADCHECK_TOL
    loss_t = negative_elbo_torch(*(torch.tensor(a) for a in (logits, x, mu, logvar)))
    np.testing.assert_allclose(negative_elbo(logits, x, mu, logvar), loss_t.numpy(), rtol=1e-12)


# --- the model ---------------------------------------------------------------------------------


def test_vae_shapes_encode_decode_and_mean_code():
    model = VAE(784, 32, 3, rng=0)
    x = binary(5, 784).astype(np.float32)
    logits, mu, logvar = model(x, np.zeros((5, 3), dtype=np.float32))
    assert logits.shape == (5, 784) and mu.shape == logvar.shape == (5, 3)
    assert logits.dtype == np.float32
    np.testing.assert_array_equal(logits, model.decode(mu))  # eps = 0: z = mu
    np.testing.assert_array_equal(mu, model.encode(x)[0])


def test_vae_gradient_check_of_the_mean_negative_elbo():
    model, x, eps = small_vae(), binary(4, 6), normal(4, 2, seed=7)

    def loss(_=None):
        logits, mu, logvar = model(x, eps)
        return float(negative_elbo(logits, x, mu, logvar).mean())

    model.zero_grad()
    logits, mu, logvar = model(x, eps)
    dlogits, dmu, dlogvar = negative_elbo_backward(logits, x, mu, logvar, np.full(4, 0.25))
    dx, deps = model.backward(dlogits, dmu, dlogvar)
    for name, p in model.params.items():
        assert norm_relative_error(model.grads[name], numerical_gradient(loss, p)) < GRADCHECK_TOL, name
    assert norm_relative_error(deps, numerical_gradient(loss, eps)) < GRADCHECK_TOL
    # x is the encoder's input and the likelihood's target: dL/dx = dx (model) - logits / N
    assert norm_relative_error(dx - logits / 4, numerical_gradient(loss, x)) < GRADCHECK_TOL


def test_vae_backward_without_the_kl_gradients():
    model, x, eps = small_vae(1), normal(3, 6), normal(3, 2, seed=2)
    model(x, eps)
    dout = normal(3, 6, seed=3)
    dout_before = dout.copy()
    dx, deps = model.backward(dout)
    np.testing.assert_array_equal(dout, dout_before)
    objective = lambda _: float(np.sum(model(x, eps)[0] * dout))
    assert norm_relative_error(dx, numerical_gradient(objective, x)) < GRADCHECK_TOL
    assert norm_relative_error(deps, numerical_gradient(objective, eps)) < GRADCHECK_TOL


def test_vae_twin_loss_and_every_gradient(device):
    model, x, eps = small_vae(2), binary(4, 6), normal(4, 2, seed=4)
    twin = to_torch(model, device=device)
    model.zero_grad()
    logits, mu, logvar = model(x, eps)
    loss = negative_elbo(logits, x, mu, logvar).mean()
    dx, deps = model.backward(*negative_elbo_backward(logits, x, mu, logvar, np.full(4, 0.25)))
    xt, et = as_tensor(x, device, requires_grad=True), as_tensor(eps, device, requires_grad=True)
    lt, mt, vt = twin(xt, et)
    loss_t = negative_elbo_torch(lt, xt.detach(), mt, vt).mean()
    loss_t.backward()
    assert abs(loss - loss_t.item()) < 1e-12
    for ours, theirs in ((logits, lt), (mu, mt), (logvar, vt), (dx, xt.grad), (deps, et.grad)):
        np.testing.assert_allclose(ours, to_numpy(theirs), rtol=1e-10, atol=1e-12)
    for name, g in torch_grads(model, twin).items():
        np.testing.assert_allclose(model.grads[name], g, rtol=1e-9, atol=1e-12, err_msg=name)


# --- training and evaluation -------------------------------------------------------------------


def blobs(n, seed=0):
    """Binary stand-ins for digits: two kinds of 4x4 patterns with flipped pixels."""
    rng = np.random.default_rng(seed)
    base = np.array([np.eye(4).ravel(), np.fliplr(np.eye(4)).ravel()])
    x = base[rng.integers(0, 2, n)]
    flip = rng.uniform(size=x.shape) < 0.05
    return np.where(flip, 1 - x, x).astype(np.float32)


def test_numpy_training_with_fit_reduces_the_loss():
    X = blobs(200)
    model = VAE(16, 12, 2, rng=0)
    history = fit(model, Minibatches(X, np.zeros(len(X)), 20, rng=1), Adam(model.parameters(), lr=1e-2),
                  epochs=8, step=VAEStep(2))
    assert history.epoch_loss[-1] < 0.7 * history.epoch_loss[0]
    assert elbo(model, X, samples=4, rng=0) > -history.epoch_loss[0]


def test_elbo_is_reproducible_and_below_zero_for_binary_data():
    model, X = VAE(16, 8, 2, rng=3), blobs(50)
    a, b = elbo(model, X, samples=3, rng=5), elbo(model, X, samples=3, rng=5)
    assert a == b and a < 0
    mu, logvar = model.encode(X)
    eps = np.random.default_rng(5).standard_normal(mu.shape).astype(np.float32)
    one = elbo(model, X, samples=1, rng=5, batch_size=50)
    expected = -negative_elbo(model.decode(reparameterize(mu, logvar, eps)), X, mu, logvar).mean()
    assert abs(one - expected) < 1e-4


def test_torch_training_is_deterministic_and_copies_back(one_thread):
    X = blobs(120, seed=1)

    def run():
        model = VAE(16, 12, 2, rng=0)
        twin = to_torch(model, device="cpu")
        return model, twin, train_vae_torch(twin, X[:100], X[100:], epochs=3, batch_size=25,
                                            lr=1e-2, seed=4, device="cpu")

    (model, twin, first), (_, _, second) = run(), run()
    assert first == second and len(first["val_loss"]) == 3
    assert first["train_loss"][-1] < first["train_loss"][0]
    copy_weights(twin, model)
    with torch.no_grad():
        ref = twin(torch.as_tensor(X[:5]), torch.zeros(5, 2))[0].numpy()
    np.testing.assert_allclose(model(X[:5], np.zeros((5, 2), np.float32))[0], ref, rtol=1e-5,
                               atol=1e-5)
    assert train_vae_torch(to_torch(VAE(16, 4, 2, rng=0), device="cpu"), X[:10], epochs=1,
                           device="cpu")["val_loss"] == []


def test_latent_grid_quantiles():
    grid = latent_grid(5, coverage=0.8)
    assert grid.shape == (25, 2)
    np.testing.assert_allclose(grid[0], [-1.2815515655, 1.2815515655], rtol=1e-9)  # top left
    np.testing.assert_allclose(grid[-1], [1.2815515655, -1.2815515655], rtol=1e-9)
    np.testing.assert_allclose(grid[12], [0.0, 0.0], atol=1e-12)
    assert latent_grid(1).shape == (1, 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"mu and logvar of one shape \(N, L\)"):
        gaussian_kl(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"dout of shape \(2,\)"):
        gaussian_kl_backward(np.zeros((2, 3)), np.zeros((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="eps of the shape of mu"):
        reparameterize(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"logits and x of one shape \(N, D\)"):
        bernoulli_nll(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(TypeError, match="latent_dim to be an int"):
        VAE(4, 3, 2.0)
    with pytest.raises(ValueError, match=r"hidden >= 1"):
        VAE(4, 0, 2)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        VAE(4, 3, 2, rng=0).backward(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="samples >= 1"):
        elbo(VAE(4, 3, 2, rng=0), np.zeros((2, 4)), samples=0)
    with pytest.raises(ValueError, match=r"coverage in \(0, 1\)"):
        latent_grid(3, coverage=1.0)
    twin = to_torch(VAE(4, 3, 2, rng=0), device="cpu")
    with pytest.raises(ValueError, match=r"X_train of shape \(N, 4\)"):
        train_vae_torch(twin, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="epochs to be a positive int"):
        train_vae_torch(twin, np.zeros((3, 4)), epochs=0)
    with pytest.raises(TypeError, match="the torch twin of a dlbook VAE"):
        train_vae_torch(torch.nn.Linear(4, 4), np.zeros((3, 4)))
