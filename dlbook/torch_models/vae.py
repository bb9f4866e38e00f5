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
    import torch

    from dlbook.twins import default_device

    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"train_vae_torch expected {name} to be a positive int; got {value!r}")
    if not all(hasattr(model, name) for name in ("enc", "fc_mu", "fc_logvar", "dec")):
        raise TypeError(f"train_vae_torch expected the torch twin of a dlbook VAE "
                        f"(dlbook.twins.to_torch(VAE(...))); got {type(model).__name__}")
    D = model.enc.in_features
    for name, X in (("X_train", X_train), ("X_val", X_val)):
        if X is not None and (np.ndim(X) != 2 or np.shape(X)[1] != D):
            raise ValueError(f"train_vae_torch expected {name} of shape (N, {D}); "
                             f"got shape {np.shape(X)}")
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    L, dtype = model.fc_mu.out_features, next(model.parameters()).dtype
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    as_tensor = lambda a: torch.as_tensor(np.asarray(a), device=device, dtype=dtype)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    for _ in range(epochs):
        model.train()
        order, total = rng.permutation(len(X_train)), 0.0
        for start in range(0, len(X_train), batch_size):
            xb = as_tensor(X_train[order[start:start + batch_size]])
            eps = as_tensor(rng.standard_normal((len(xb), L)))
            logits, mu, logvar = model(xb, eps)
            loss = negative_elbo_torch(logits, xb, mu, logvar).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        history["train_loss"].append(total / len(X_train))
        if X_val is not None:
            model.eval()
            eps = np.random.default_rng(seed + 1).standard_normal((len(X_val), L))
            with torch.no_grad():
                xv = as_tensor(X_val)
                logits, mu, logvar = model(xv, as_tensor(eps))
                val_loss = negative_elbo_torch(logits, xv, mu, logvar).mean().item()
            history["val_loss"].append(val_loss)
    return history
