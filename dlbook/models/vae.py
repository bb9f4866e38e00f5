"""A variational autoencoder in numpy: Gaussian KL, reparameterization, the ELBO (chapter 19).

The generative model and the encoder's approximate posterior::

    prior     p(z) = N(0, I_L)
    decoder   p(x | z) = prod_d Bernoulli(x_d; sigmoid(l_d)),
              l = Linear(H, D)(ReLU(Linear(L, H) z))
    encoder   q(z | x) = N(mu, diag(exp(logvar))),  [mu, logvar] = two Linear(H, L) heads on
              ReLU(Linear(D, H) x)
    sample    z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I_L)   (the reparameterization trick)

Every example's evidence lower bound, in nats, is

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))  <=  log p(x),

and training minimises its negative, :func:`negative_elbo`: the Bernoulli
negative log-likelihood summed over pixels (a one-sample estimate of the
expectation) plus the Gaussian KL in closed form (:func:`gaussian_kl`). The
noise ``eps`` is an explicit input of :meth:`VAE.forward`, so a run is
reproducible and the model can be checked against its PyTorch twin with the
same draws; :class:`VAEStep` draws it from a Generator during training.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.functional.activations import sigmoid, softplus
from dlbook.layers.activation import ReLU
from dlbook.layers.base import Layer
from dlbook.layers.container import Sequential
from dlbook.layers.linear import Linear
from dlbook.utils import make_rng


def _pair(mu, logvar, where: str) -> tuple[np.ndarray, np.ndarray]:
    """mu and logvar as float arrays of one shape (N, L)."""
    mu, logvar = as_float_array(mu, where, "mu"), as_float_array(logvar, where, "logvar")
    if mu.ndim != 2 or mu.shape != logvar.shape:
        raise ValueError(f"{where} expected mu and logvar of one shape (N, L); got "
                         f"{mu.shape} and {logvar.shape}")
    return mu, logvar


def _per_example(dout, n: int, where: str) -> np.ndarray:
    """The upstream gradient of a per-example quantity: (N,), ones when None."""
    if dout is None:
        return np.ones(n)
    dout = as_float_array(dout, where, "dout")
    if dout.shape != (n,):
        raise ValueError(f"{where} expected dout of shape ({n},) (one per example); "
                         f"got shape {dout.shape}")
    return dout


def gaussian_kl(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) = 1/2 sum_j (exp(logvar_j) + mu_j^2 - 1 - logvar_j).

    Shapes: mu (N, L), logvar (N, L) -> (N,), in nats, one per example (chapter 19).
    """
    mu, logvar = _pair(mu, logvar, "gaussian_kl")
    return 0.5 * np.sum(np.exp(logvar) + mu ** 2 - 1.0 - logvar, axis=1)


def gaussian_kl_backward(mu: np.ndarray, logvar: np.ndarray,
                         dout: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """dKL/dmu = mu and dKL/dlogvar = (exp(logvar) - 1) / 2, each scaled by its example's dout.

    Shapes: mu, logvar (N, L), dout (N,) or None (ones) -> (dmu (N, L), dlogvar (N, L)) (chapter 19).
    """
    mu, logvar = _pair(mu, logvar, "gaussian_kl_backward")
    d = _per_example(dout, len(mu), "gaussian_kl_backward")[:, None]  # (N, 1)
    return d * mu, d * 0.5 * (np.exp(logvar) - 1.0)


def reparameterize(mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """z = mu + exp(logvar / 2) * eps: a draw from N(mu, diag exp(logvar)) when eps ~ N(0, I).

    Shapes: mu, logvar, eps (N, L) -> z (N, L) (chapter 19).
    """
    mu, logvar = _pair(mu, logvar, "reparameterize")
    eps = as_float_array(eps, "reparameterize", "eps")
    if eps.shape != mu.shape:
        raise ValueError(f"reparameterize expected eps of the shape of mu, {mu.shape}; "
                         f"got shape {eps.shape}")
    return mu + np.exp(0.5 * logvar) * eps


def bernoulli_nll(logits: np.ndarray, x: np.ndarray) -> np.ndarray:
    """-log p(x | z) = sum_d softplus(l_d) - x_d l_d, for pixels x_d in {0, 1} (or [0, 1]).

    Shapes: logits (N, D), x (N, D) -> (N,), in nats (chapter 19).
    """
    logits = as_float_array(logits, "bernoulli_nll", "logits")
    x = as_float_array(x, "bernoulli_nll")
    if logits.ndim != 2 or logits.shape != x.shape:
        raise ValueError(f"bernoulli_nll expected logits and x of one shape (N, D); got "
                         f"{logits.shape} and {x.shape}")
    return np.sum(softplus(logits) - x * logits, axis=1)


def negative_elbo(logits: np.ndarray, x: np.ndarray, mu: np.ndarray,
                  logvar: np.ndarray) -> np.ndarray:
    """-ELBO = bernoulli_nll(logits, x) + gaussian_kl(mu, logvar), one-sample estimate.

    Shapes: logits, x (N, D), mu, logvar (N, L) -> (N,), in nats (chapter 19).
    """
    return bernoulli_nll(logits, x) + gaussian_kl(mu, logvar)


def negative_elbo_backward(logits: np.ndarray, x: np.ndarray, mu: np.ndarray, logvar: np.ndarray,
                           dout: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Gradients of sum_n dout_n (-ELBO_n): dlogits = dout (sigmoid(l) - x), and the KL's.

    Shapes: as :func:`negative_elbo`, dout (N,) or None (ones) ->
    (dlogits (N, D), dmu (N, L), dlogvar (N, L)) (chapter 19).
    """
    d = _per_example(dout, len(np.asarray(logits)), "negative_elbo_backward")
    dlogits = d[:, None] * (sigmoid(np.asarray(logits)) - np.asarray(x))
    return (dlogits, *gaussian_kl_backward(mu, logvar, d))


class VAE(Layer):
    """The MLP variational autoencoder of the module docstring (chapter 19).

    Shapes: forward(x (N, D), eps (N, L)) -> (logits (N, D), mu (N, L), logvar (N, L));
    backward(dlogits, dmu=None, dlogvar=None) -> (dx (N, D), deps (N, L)), with
    dmu and dlogvar the gradients reaching mu and logvar directly (the KL
    term's); encode(x) -> (mu, logvar); decode(z (N, L)) -> logits (N, D).
    With ``eps = 0`` the code is the mean, z = mu. Weights from ``rng`` (He
    initialisation), in the order enc, fc_mu, fc_logvar, dec.
    """

    def __init__(self, in_features: int = 784, hidden: int = 256, latent_dim: int = 2,
                 rng: int | np.random.Generator | None = None, dtype=np.float32) -> None:
        super().__init__()
        D = check_positive_int(in_features, "VAE", "in_features")
        H = check_positive_int(hidden, "VAE", "hidden")
        self.latent_dim = L = check_positive_int(latent_dim, "VAE", "latent_dim")
        rng = make_rng(rng, "VAE")
        self.enc = Linear(D, H, rng=rng, dtype=dtype)
        self.enc_relu = ReLU()
        self.fc_mu = Linear(H, L, rng=rng, dtype=dtype)
        self.fc_logvar = Linear(H, L, rng=rng, dtype=dtype)
        self.dec = Sequential(Linear(L, H, rng=rng, dtype=dtype), ReLU(),
                              Linear(H, D, rng=rng, dtype=dtype))
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The parameters of q(z | x). (N, D) -> (mu (N, L), logvar (N, L))."""
        h = self.enc_relu(self.enc(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """The logits of p(x | z); sigmoid gives pixel probabilities. (N, L) -> (N, D)."""
        return self.dec(z)

    def forward(self, x: np.ndarray, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Encode, sample z = mu + sigma eps, decode. (N, D), (N, L) -> (logits, mu, logvar)."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, eps)
        self._cache = (np.exp(0.5 * logvar), np.asarray(eps))  # sigma and eps for backward
        return self.decode(z), mu, logvar

    def backward(self, dlogits: np.ndarray, dmu: np.ndarray | None = None,
                 dlogvar: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """dz from the decoder; dmu += dz, dlogvar += dz eps sigma / 2, deps = dz sigma."""
        sigma, eps = self._cached(self._cache)
        dz = self.dec.backward(dlogits)
        dmu = dz if dmu is None else dz + self._check_dout(dmu, sigma.shape)
        dlv = 0.5 * dz * eps * sigma  # z depends on logvar through sigma = exp(logvar / 2)
        dlv = dlv if dlogvar is None else dlv + self._check_dout(dlogvar, sigma.shape)
        dh = self.fc_mu.backward(dmu) + self.fc_logvar.backward(dlv)
        return self.enc.backward(self.enc_relu.backward(dh)), dz * sigma


class VAEStep:
    """The training step for :func:`dlbook.train.fit`: draw eps, forward, -ELBO, backward.

    Shapes: batch x (B, D) or (x, y) with y ignored -> the batch's mean -ELBO
    (a float, nats per example); gradients of that mean are added to the
    model's ``grads``. The noise comes from ``rng`` (chapter 19).
    """

    def __init__(self, rng: int | np.random.Generator | None = None) -> None:
        self.rng = make_rng(rng, "VAEStep")

    def __call__(self, model: VAE, batch) -> float:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        eps = self.rng.standard_normal((len(x), model.latent_dim)).astype(x.dtype)
        logits, mu, logvar = model(x, eps)
        loss = negative_elbo(logits, x, mu, logvar)
        model.backward(*negative_elbo_backward(logits, x, mu, logvar,
                                               np.full(len(x), 1.0 / len(x), dtype=x.dtype)))
        return float(loss.mean())


def elbo(model: VAE, X: np.ndarray, samples: int = 1, rng: int | np.random.Generator | None = 0,
         batch_size: int = 1000) -> float:
    """The mean ELBO per example of X, in nats (a negative number; higher is better).

    Shapes: X (N, D) -> float. The expectation over q is estimated with
    ``samples`` draws of eps per example from ``rng``; the KL is exact (chapter 19).
    """
    samples = check_positive_int(samples, "elbo", "samples")
    rng, total = make_rng(rng, "elbo"), 0.0
    for start in range(0, len(X), batch_size):
        x = X[start:start + batch_size]
        mu, logvar = model.encode(x)
        nll = 0.0
        for _ in range(samples):
            eps = rng.standard_normal(mu.shape).astype(mu.dtype)
            nll = nll + bernoulli_nll(model.decode(reparameterize(mu, logvar, eps)), x)
        total += float(np.sum(nll / samples + gaussian_kl(mu, logvar)))
    return -total / len(X)


def latent_grid(n: int = 15, coverage: float = 0.9) -> np.ndarray:
    """Points of the latent plane at evenly spaced quantiles of N(0, 1) along each axis.

    Shapes: -> (n n, 2), row-major from the top left (z_2 decreasing down the
    rows, z_1 increasing along them), covering the central ``coverage`` of each
    axis' prior mass, so every point is equally likely under the prior's CDF (chapter 19).
    """
    n = check_positive_int(n, "latent_grid", "n")
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"latent_grid expected coverage in (0, 1); got {coverage!r}")
    tail = (1.0 - coverage) / 2
    q = np.array([NormalDist().inv_cdf(p) for p in np.linspace(tail, 1.0 - tail, n)])
    z1, z2 = np.meshgrid(q, q[::-1])  # rows: z_2 from high to low, as on a plot's y axis
    return np.stack([z1.ravel(), z2.ravel()], axis=1)
