"""The chapter 20 GAN: losses against torch's BCE-with-logits, saturation, training, classifier."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

from dlbook.torch_models.gan import (GENERATOR_LOSSES, LATENT_DIM, GANRun, bce_with_logits,  # noqa: E402
                               classify, discriminator_loss, gan_mlp, generate,
                               generator_loss, latent_vectors, softplus, train_digit_classifier,
                               train_gan)

LOGITS = torch.tensor([-800.0, -40.0, -3.0, -0.5, 0.0, 0.7, 5.0, 60.0, 900.0], dtype=torch.float64)


def fake_digits(n, seed=0):
    """Two kinds of 28x28 images in [0, 1]: a bar on the left (class 0), on the right (class 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = 0.1 * rng.uniform(size=(n, 28, 28))
    X[y == 0, :, 4:10] += 0.8
    X[y == 1, :, 18:24] += 0.8
    return X.astype(np.float32), y


def test_softplus_is_stable_and_matches_torch():
    ours = softplus(LOGITS)
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours, TF.softplus(LOGITS), rtol=1e-12, atol=1e-15)
    assert ours[0] == 0 and ours[-1] == 900


@pytest.mark.parametrize("targets", ["ones", "zeros", "soft"])
def test_bce_with_logits_matches_torch(targets, device):
    logits = LOGITS.to(device)
    t = {"ones": torch.ones_like(logits), "zeros": torch.zeros_like(logits),
         "soft": torch.linspace(0, 1, len(logits), dtype=torch.float64, device=device)}[targets]
    torch.testing.assert_close(bce_with_logits(logits, t),
                               TF.binary_cross_entropy_with_logits(logits, t),
                               rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        bce_with_logits(logits, t[:3])


def test_gan_losses_are_binary_cross_entropies(device):
    gen = torch.Generator().manual_seed(0)
    real = (3 * torch.randn(7, 1, generator=gen, dtype=torch.float64)).to(device)
    fake = (3 * torch.randn(5, 1, generator=gen, dtype=torch.float64)).to(device)
    bce = TF.binary_cross_entropy_with_logits
    torch.testing.assert_close(discriminator_loss(real, fake),
                               bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake)))
    torch.testing.assert_close(generator_loss(fake), bce(fake, torch.ones_like(fake)))
    torch.testing.assert_close(generator_loss(fake, "saturating"),
                               -bce(fake, torch.zeros_like(fake)))
    d = torch.sigmoid(fake)  # the loss definitions written with probabilities
    torch.testing.assert_close(generator_loss(fake), -torch.log(d).mean())
    torch.testing.assert_close(generator_loss(fake, "saturating"), torch.log(1 - d).mean())
    with pytest.raises(ValueError, match="kind to be one of"):
        generator_loss(fake, "wasserstein")


def test_non_saturating_gradient_survives_where_the_minimax_one_vanishes():
    fake = torch.tensor([-12.0, -8.0, 0.0, 8.0], dtype=torch.float64, requires_grad=True)
    grads = {}
    for kind in GENERATOR_LOSSES:
        (g,) = torch.autograd.grad(generator_loss(fake, kind), fake)
        grads[kind] = g.abs() * len(fake)  # per-sample derivative d loss / d logit
    d = torch.sigmoid(fake.detach())
    torch.testing.assert_close(grads["saturating"], d)  # |-sigmoid(l)| = D(G(z))
    torch.testing.assert_close(grads["non-saturating"], 1 - d)  # |sigmoid(l) - 1|
    assert d[0] < 1e-5  # the discriminator is sure the sample is fake
    assert grads["saturating"][0] < 1e-5 and grads["non-saturating"][0] > 0.999
    assert grads["saturating"][3] > grads["non-saturating"][3]  # and the roles swap near D = 1


def test_networks_shapes_and_latent_vectors():
    torch.manual_seed(0)
    G, D = gan_mlp(latent_dim=8, hidden=16)
    z = latent_vectors(5, 8, seed=3)
    torch.testing.assert_close(z, latent_vectors(5, 8, seed=3))
    assert z.shape == (5, 8) and G(z).shape == (5, 784) and D(G(z)).shape == (5, 1)
    images = generate(G, z)
    assert images.shape == (5, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert G.training  # generate leaves the network in training mode
    with pytest.raises(ValueError, match="hidden to be a positive int"):
        gan_mlp(hidden=0)


def test_training_is_seeded_and_records_curves_and_samples():
    X, _ = fake_digits(64)
    runs = [train_gan(X, steps=6, batch_size=16, hidden=32, sample_steps=(0, 3, 6),
                      n_samples=4, seed=1, device="cpu") for _ in range(2)]
    first, second = runs
    assert isinstance(first, GANRun)
    assert first.d_loss == second.d_loss and first.g_loss == second.g_loss
    assert len(first.d_loss) == len(first.d_real) == len(first.d_fake) == 6
    assert sorted(first.samples) == [0, 3, 6]
    np.testing.assert_array_equal(first.samples[6], second.samples[6])
    assert not np.array_equal(first.samples[0], first.samples[6])  # the generator learned something
    other = train_gan(X.reshape(64, -1), steps=2, batch_size=8, hidden=8, seed=2,
                      loss="saturating", device="cpu")
    assert other.samples == {} and other.d_loss != first.d_loss[:2]
    assert all(0 < p < 1 for p in first.d_real + first.d_fake)


def test_training_runs_on_every_device(device):
    X, _ = fake_digits(32)
    run = train_gan(X, steps=2, batch_size=8, hidden=8, sample_steps=(2,), n_samples=3,
                    device=device)
    assert run.samples[2].shape == (3, 28, 28) and np.isfinite(run.g_loss).all()
    assert next(run.generator.parameters()).device.type == device


def test_default_device_is_used_when_none_is_given():
    from dlbook.twins import default_device

    run = train_gan(fake_digits(16)[0], steps=1, batch_size=4, hidden=4)
    assert next(run.discriminator.parameters()).device.type == default_device().type


def test_bad_arguments():
    X, y = fake_digits(8)
    with pytest.raises(ValueError, match=r"X of shape \(N, 784\)"):
        train_gan(np.zeros((4, 10)))
    with pytest.raises(ValueError, match="steps to be a positive int"):
        train_gan(X, steps=0)
    with pytest.raises(ValueError, match="loss to be one of"):
        train_gan(X, loss="hinge")
    with pytest.raises(ValueError, match=r"X \(N, 784\) and y \(N,\)"):
        train_digit_classifier(X, y[:3])


def test_classifier_learns_and_classify_reports_confidence():
    X, y = fake_digits(200)
    clf = train_digit_classifier(X, y, epochs=3, hidden=16, device="cpu")
    assert not clf.training
    pred, conf = classify(clf, X.reshape(200, -1))
    assert pred.shape == conf.shape == (200,) and pred.dtype == np.int64
    assert (pred == y).mean() > 0.95 and ((conf > 0.1) & (conf <= 1)).all()
    assert LATENT_DIM == latent_vectors(2).shape[1]
