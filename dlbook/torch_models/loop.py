"""The one PyTorch loop for models that reconstruct their input (chapter 19).

The autoencoder and the variational autoencoder train the same way: Adam over
mini-batches of a numpy array, shuffled by ``numpy.random.default_rng(seed)``,
and a validation loss after every epoch. Only the loss differs, so each model
passes its own ``batch_loss``. It imports torch.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def check_epochs_and_batch_size(epochs, batch_size, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` unless both are positive ints (chapter 19)."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{where} expected {name} to be a positive int; got {value!r}")


def fit_arrays_torch(model, X_train: np.ndarray, X_val: np.ndarray | None,
                     batch_loss: Callable, val_loss: Callable, *, epochs: int, batch_size: int,
                     lr: float, seed: int, device=None) -> dict[str, list[float]]:
    """Adam on ``batch_loss(model, xb, rng)`` over shuffled mini-batches of X_train (chapter 19).

    Shapes: X_train (N, ...) and X_val (M, ...) or None, numpy arrays; ``xb`` is
    a numpy slice of X_train, ``batch_loss`` returns a scalar tensor (it may draw
    from ``rng``, the generator that also shuffles), ``val_loss(model, X_val)``
    a float, evaluated under ``torch.no_grad()`` in evaluation mode. ``device``
    defaults to :func:`dlbook.twins.default_device`; the model is moved there.
    Returns ``{"train_loss": [...], "val_loss": [...]}``, one entry per epoch
    (the mean batch loss weighted by batch size; empty val_loss without X_val).
    """
    import torch

    from dlbook.twins import default_device

    model.to(torch.device(device) if device is not None else default_device())
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    for _ in range(epochs):
        model.train()
        order, total = rng.permutation(len(X_train)), 0.0
        for start in range(0, len(X_train), batch_size):
            xb = X_train[order[start:start + batch_size]]
            loss = batch_loss(model, xb, rng)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        history["train_loss"].append(total / len(X_train))
        if X_val is not None:
            model.eval()
            with torch.no_grad():
                history["val_loss"].append(float(val_loss(model, X_val)))
    return history


def model_tensor(model, a: np.ndarray):
    """``a`` as a tensor on the model's device, in its parameters' dtype (chapter 19)."""
    import torch

    p = next(model.parameters())
    return torch.as_tensor(np.asarray(a), device=p.device, dtype=p.dtype)
