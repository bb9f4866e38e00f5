"""A generative adversarial network for 28x28 digits in PyTorch, its losses written out (chapter 20).

The discriminator D outputs a logit l; D(x) = sigmoid(l) is its probability
that x is real. With softplus(l) = log(1 + e^l) the two log-probabilities are
log D = -softplus(-l) and log(1 - D) = -softplus(l), so every loss of the game
is a sum of softplus terms of the logits (never log of a rounded probability)::

    L_D        = E_x[softplus(-l_real)] + E_z[softplus(l_fake)]
               = BCE(l_real, 1) + BCE(l_fake, 0)                 (discriminator)
    L_G^sat    = E_z[log(1 - D(G(z)))] = -E_z[softplus(l_fake)]    (the minimax game)
    L_G^ns     = -E_z[log D(G(z))]     =  E_z[softplus(-l_fake)]   (non-saturating)

The generator minimises one of the last two. Their gradients with respect to
a fake logit are -sigmoid(l) and sigmoid(l) - 1: when D confidently rejects
the fakes (D(G(z)) -> 0, early in training) the minimax gradient vanishes and
the non-saturating one does not (Goodfellow et al., 2014).

softplus is computed as a stable log-sum-exp of (0, l). The networks are
small MLPs with LeakyReLU; images are scaled to [-1, 1] for the generator's
tanh output. Everything runs on :func:`dlbook.twins.default_device` unless a
device is given; torch is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LATENT_DIM = 64
"""Length of the latent vector z ~ N(0, I) the generator starts from."""
IMAGE_PIXELS = 28 * 28
"""A digit as a flat vector."""
LEAKY_SLOPE = 0.2
"""Negative slope of the LeakyReLU units (the usual choice for GANs)."""
GENERATOR_LOSSES = ("non-saturating", "saturating")
"""The two generator losses :func:`generator_loss` implements."""


def softplus(logits):
    """log(1 + e^l) = m + log(e^-m + e^(l - m)), m = max(l, 0): a stable log-sum-exp of (0, l).

    Shapes: (...) -> (...). Neither exponent is positive, so nothing
    overflows, and the gradient is sigmoid(l) everywhere, l = 0 included
    (the shift m drops out of the derivative).
    """
    import torch

    m = torch.clamp(logits, min=0)
    return m + torch.log(torch.exp(-m) + torch.exp(logits - m))


def bce_with_logits(logits, targets):
    """mean(softplus(l) - t l) = mean(-t log sigmoid(l) - (1 - t) log(1 - sigmoid(l))).

    Shapes: logits (...), targets (...) in [0, 1] -> scalar tensor. The same
    number as ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """
    if tuple(logits.shape) != tuple(targets.shape):
        raise ValueError(f"bce_with_logits expected logits and targets of the same shape; "
                         f"got {tuple(logits.shape)} and {tuple(targets.shape)}")
    return (softplus(logits) - targets * logits).mean()


def discriminator_loss(real_logits, fake_logits):
    """L_D = mean softplus(-l_real) + mean softplus(l_fake) = -E log D(x) - E log(1 - D(G(z))).

    Shapes: real_logits (N, ...) , fake_logits (M, ...) -> scalar tensor.
    """
    return softplus(-real_logits).mean() + softplus(fake_logits).mean()


def generator_loss(fake_logits, kind: str = "non-saturating"):
    """L_G^ns = mean softplus(-l_fake) = -E log D(G(z)); L_G^sat = -mean softplus(l_fake).

    Shapes: fake_logits (M, ...) -> scalar tensor. ``kind`` is
    ``"non-saturating"`` (what GANs are trained with) or ``"saturating"`` (the
    generator's side of the minimax game, E log(1 - D(G(z)))). Chapter 20.
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"generator_loss expected kind to be one of {GENERATOR_LOSSES}; "
                         f"got {kind!r}")
    if kind == "non-saturating":
        return softplus(-fake_logits).mean()
    return -softplus(fake_logits).mean()


def gan_mlp(latent_dim: int = LATENT_DIM, hidden: int = 256):
    """(generator, discriminator): two-layer MLPs in ``torch.nn`` (float32, PyTorch init).

    Shapes: generator z (N, latent_dim) -> images (N, 784) in (-1, 1) (tanh);
    discriminator images (N, 784) -> logits (N, 1). Hidden units use LeakyReLU(0.2).
    Seed with ``torch.manual_seed`` before calling for reproducible weights.
    """
    from torch import nn

    for name, value in (("latent_dim", latent_dim), ("hidden", hidden)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"gan_mlp expected {name} to be a positive int; got {value!r}")
    generator = nn.Sequential(nn.Linear(latent_dim, hidden), nn.LeakyReLU(LEAKY_SLOPE),
                              nn.Linear(hidden, IMAGE_PIXELS), nn.Tanh())
    discriminator = nn.Sequential(nn.Linear(IMAGE_PIXELS, hidden), nn.LeakyReLU(LEAKY_SLOPE),
                                  nn.Linear(hidden, 1))
    return generator, discriminator


def latent_vectors(n: int, latent_dim: int = LATENT_DIM, seed: int = 0, device=None):
    """z ~ N(0, I) drawn on the CPU from its own seeded generator, then moved to ``device``.

    Shapes: -> (n, latent_dim) float32 tensor; the same numbers on every device (chapter 20).
    """
    import torch

    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, latent_dim, generator=gen).to(device or "cpu")


def generate(generator, z) -> np.ndarray:
    """Images of G(z) as numpy grey levels in [0, 1] (chapter 20). Shapes: z (N, L) -> (N, 28, 28)."""
    import torch

    generator.eval()
    with torch.no_grad():
        images = generator(z).cpu().numpy()
    generator.train()
    return ((images + 1) / 2).reshape(-1, 28, 28)  # tanh range (-1, 1) -> (0, 1)


@dataclass
class GANRun:
    """What :func:`train_gan` returns: the networks, per-step curves and sample grids (chapter 20)."""

    generator: object
    discriminator: object
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)  # mean D(x) on the real batch
    d_fake: list[float] = field(default_factory=list)  # mean D(G(z)) on the fake batch
    samples: dict[int, np.ndarray] = field(default_factory=dict)  # step -> (n, 28, 28) in [0, 1]


def train_gan(X: np.ndarray, steps: int = 2000, batch_size: int = 64, *,
              latent_dim: int = LATENT_DIM, hidden: int = 256, lr: float = 2e-4,
              betas: tuple[float, float] = (0.5, 0.999), loss: str = "non-saturating",
              sample_steps=(), n_samples: int = 64, seed: int = 0, device=None) -> GANRun:
    """Alternate one discriminator step and one generator step, ``steps`` times (chapter 20).

    Shapes: X (N, 784) or (N, 28, 28) real digits in [0, 1] (rescaled to [-1, 1]).
    Each step: a real batch (drawn by ``numpy.random.default_rng(seed)``) and
    a fake batch train D on :func:`discriminator_loss`; then the updated D
    judges the same fakes and G trains on :func:`generator_loss` of kind ``loss``. Adam with ``lr`` and
    ``betas`` for both. At every step in ``sample_steps`` (0 = before
    training) G draws ``n_samples`` images from one fixed set of latent
    vectors. Weights come from ``torch.manual_seed(seed)``; ``device``
    defaults to :func:`dlbook.twins.default_device`.
    """
    import torch

    from dlbook.twins import default_device

    X = np.asarray(X, dtype=np.float32)
    if X.ndim not in (2, 3) or X.reshape(len(X), -1).shape[1] != IMAGE_PIXELS:
        raise ValueError(f"train_gan expected X of shape (N, 784) or (N, 28, 28); "
                         f"got shape {X.shape}")
    for name, value in (("steps", steps), ("batch_size", batch_size), ("n_samples", n_samples)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"train_gan expected {name} to be a positive int; got {value!r}")
    if loss not in GENERATOR_LOSSES:
        raise ValueError(f"train_gan expected loss to be one of {GENERATOR_LOSSES}; got {loss!r}")
    device = torch.device(device) if device is not None else default_device()
    torch.manual_seed(seed)
    G, D = gan_mlp(latent_dim, hidden)
    G, D = G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    data = torch.as_tensor(2 * X.reshape(len(X), -1) - 1, device=device)  # [0, 1] -> [-1, 1]
    rng = np.random.default_rng(seed)
    z_fixed = latent_vectors(n_samples, latent_dim, seed + 1, device)
    noise = torch.Generator().manual_seed(seed + 2)  # the training noise, drawn on the CPU
    run = GANRun(G, D)
    for step in range(steps + 1):
        if step in sample_steps:
            run.samples[step] = generate(G, z_fixed)
        if step == steps:
            break
        real = data[torch.as_tensor(rng.integers(0, len(data), batch_size), device=device)]
        fake = G(torch.randn(batch_size, latent_dim, generator=noise).to(device))
        real_logits, fake_logits = D(real), D(fake.detach())  # detach: D's step leaves G alone
        d_loss = discriminator_loss(real_logits, fake_logits)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        fake_logits = D(fake)  # the updated D judges the same fakes, now with G's graph
        g_loss = generator_loss(fake_logits, loss)
        opt_g.zero_grad()
        g_loss.backward()  # also fills D's grads; opt_d.zero_grad() clears them next step
        opt_g.step()
        run.d_loss.append(d_loss.item())
        run.g_loss.append(g_loss.item())
        run.d_real.append(torch.sigmoid(real_logits).mean().item())
        run.d_fake.append(torch.sigmoid(fake_logits).mean().item())
    return run


def train_digit_classifier(X: np.ndarray, y: np.ndarray, epochs: int = 10, hidden: int = 128,
                           batch_size: int = 64, lr: float = 1e-3, seed: int = 0, device=None):
    """A one-hidden-layer MLP digit classifier in ``torch.nn``, trained with Adam on (X, y).

    Shapes: X (N, 784) or (N, 28, 28) in [0, 1], y (N,) in 0..9 -> a module
    mapping (N, 784) to logits (N, 10), in eval mode. Used to judge generated
    digits (chapter 20): its class histogram over samples reveals mode collapse.
    """
    import torch
    from torch import nn

    from dlbook.twins import default_device

    X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
    y = np.asarray(y)
    if X.shape[1] != IMAGE_PIXELS or y.shape != (len(X),):
        raise ValueError(f"train_digit_classifier expected X (N, 784) and y (N,); "
                         f"got shapes {X.shape} and {y.shape}")
    device = torch.device(device) if device is not None else default_device()
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(IMAGE_PIXELS, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    Xt, yt = torch.as_tensor(X, device=device), torch.as_tensor(y, dtype=torch.long, device=device)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = torch.as_tensor(rng.permutation(len(X)), device=device)
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            loss = nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def classify(classifier, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, its softmax probability) for every image.

    Shapes: images (N, 28, 28) or (N, 784) in [0, 1] -> (N,) int64, (N,) float64 (chapter 20).
    """
    import torch

    device = next(classifier.parameters()).device
    x = torch.as_tensor(np.asarray(images, dtype=np.float32).reshape(len(images), -1),
                        device=device)
    with torch.no_grad():
        probs = torch.softmax(classifier(x), dim=1).cpu().numpy().astype(np.float64)
    return probs.argmax(axis=1), probs.max(axis=1)
