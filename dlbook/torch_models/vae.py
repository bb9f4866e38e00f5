"""Training the variational autoencoder in PyTorch (chapter 19).

:class:`dlbook.models.vae.VAE` is the numpy model and ``dlbook.twins.to_torch``
its twin (``forward(x, eps) -> (logits, mu, logvar)``); this loop trains the
twin with Adam on the negative ELBO, the same loss as
:func:`dlbook.models.vae.negative_elbo`. The mini-batch order and the noise
``eps`` are drawn with numpy from one seed, so a run does not depend on torch's
generators or the device. It imports torch.
"""

from __future__ import annotations

import numpy as np

from dlbook.torch_models.loop import check_epochs_and_batch_size, fit_arrays_torch, model_tensor


def negative_elbo_torch(logits, x, mu, logvar):
    """-ELBO per example in torch: sum_d BCE-with-logits + 1/2 sum_j (e^logvar + mu^2 - 1 - logvar).

    Shapes: logits, x (N, D), mu, logvar (N, L) tensors -> (N,) tensor, in nats (chapter 19).
    """
    import torch
    import torch.nn.functional as TF

    nll = TF.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    return nll + 0.5 * torch.sum(torch.exp(logvar) + mu ** 2 - 1.0 - logvar, dim=1)


def train_vae_torch(model, X_train: np.ndarray, X_val: np.ndarray | None = None,
                    epochs: int = 10, batch_size: int = 100, lr: float = 1e-3, seed: int = 0,
                    device=None) -> dict[str, list[float]]:
    """Minimise the mean -ELBO with Adam; returns the per-epoch losses in nats per example.

    Shapes: X_train (N, D), X_val (M, D) or None, pixels in [0, 1] (binarised
    digits in chapter 19); ``model`` is a :class:`dlbook.models.vae.VAE` twin
    with latent size ``model.fc_mu.out_features``. Batch order and eps come from
    ``numpy.random.default_rng(seed)``; X_val is scored with one eps draw per
    example from ``default_rng(seed + 1)`` after each epoch. Returns
    ``{"train_loss": [...], "val_loss": [...]}`` (mean -ELBO; empty val_loss without X_val).
    """
    check_epochs_and_batch_size(epochs, batch_size, "train_vae_torch")
    if not all(hasattr(model, name) for name in ("enc", "fc_mu", "fc_logvar", "dec")):
        raise TypeError(f"train_vae_torch expected the torch twin of a dlbook VAE "
                        f"(dlbook.twins.to_torch(VAE(...))); got {type(model).__name__}")
    D, L = model.enc.in_features, model.fc_mu.out_features
    for name, X in (("X_train", X_train), ("X_val", X_val)):
        if X is not None and (np.ndim(X) != 2 or np.shape(X)[1] != D):
            raise ValueError(f"train_vae_torch expected {name} of shape (N, {D}); "
                             f"got shape {np.shape(X)}")

    def loss(model, x, rng):
        x = model_tensor(model, x)
        logits, mu, logvar = model(x, model_tensor(model, rng.standard_normal((len(x), L))))
        return negative_elbo_torch(logits, x, mu, logvar).mean()

    def val_loss(model, x):  # the same eps every epoch
        return loss(model, x, np.random.default_rng(seed + 1)).item()

    return fit_arrays_torch(model, X_train, X_val, loss, val_loss, epochs=epochs,
                            batch_size=batch_size, lr=lr, seed=seed, device=device)
