"""A small training loop: mini-batch SGD over epochs with a returned history (chapters 7-8).

``fit`` knows nothing about plotting; ``dlbook.plot.plot_history`` draws the
history it returns. The loop is the one of chapter 4, with backpropagation
in place of numerical gradients::

    model.zero_grad(); loss = loss_fn(model(xb), yb)
    model.backward(loss_fn.backward()); optimizer.step()
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.data.split import iterate_minibatches
from dlbook.optim.clip import clip_grad_norm_
from dlbook.utils import make_rng

EVAL_BATCH = 1024
"""Batch size for evaluation (no gradients are kept, so it can be large)."""


@dataclass
class History:
    """Per-epoch metrics of one ``fit`` run; lists have one entry per epoch."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[float]]:
        """The non-empty metrics by name."""
        return {k: v for k, v in vars(self).items() if v}


def evaluate(model, loss_fn, X: np.ndarray, y: np.ndarray, batch_size: int = EVAL_BATCH) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on (X, y) in evaluation mode, batch by batch.

    Shapes: X (N, ...), y (N,) integer labels. The model's training flag is restored.
    Accuracy is computed for classification logits (N, C); it is NaN otherwise.
    """
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        for start in range(0, len(X), batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            out = model(xb)
            total_loss += loss_fn(out, yb) * len(xb)
            if out.ndim == 2 and np.issubdtype(np.asarray(yb).dtype, np.integer):
                correct += int(np.sum(out.argmax(axis=1) == yb))
            else:
                correct = -1
    finally:
        model.train(was_training)
    acc = correct / len(X) if correct >= 0 else float("nan")
    return total_loss / len(X), acc


def train_epoch(model, loss_fn, optimizer, X, y, batch_size: int, rng: np.random.Generator,
                clip_norm: float | None = None) -> float:
    """One pass over (X, y) in shuffled mini-batches; returns the mean training loss."""
    model.train()
    total = 0.0
    for xb, yb in iterate_minibatches(X, y, batch_size, shuffle=True, rng=rng):
        model.zero_grad()
        loss = loss_fn(model(xb), yb)
        model.backward(loss_fn.backward())
        if clip_norm is not None:
            clip_grad_norm_(list(model.parameters()), clip_norm)
        optimizer.step()
        total += loss * len(xb)
    return total / len(X)


def fit(model, loss_fn, optimizer, X: np.ndarray, y: np.ndarray, epochs: int, batch_size: int = 64,
        X_val: np.ndarray | None = None, y_val: np.ndarray | None = None, scheduler=None,
        clip_norm: float | None = None, rng: int | np.random.Generator | None = None,
        progress: bool = True) -> History:
    """Train ``model`` for ``epochs`` epochs of mini-batch updates; return the ``History``.

    Shapes: X (N, ...), y (N,); X_val, y_val likewise (optional).
    ``scheduler.step()`` runs after each epoch; ``clip_norm`` clips the global
    gradient norm before each step. ``progress`` shows a tqdm bar over epochs
    (chapters turn it off: its timings would change every run).
    """
    epochs = check_positive_int(epochs, "fit", "epochs")
    batch_size = check_positive_int(batch_size, "fit", "batch_size")
    if len(X) != len(y):
        raise ValueError(f"fit expected X and y with the same length; got {len(X)} and {len(y)}")
    if (X_val is None) != (y_val is None):
        raise ValueError("fit expected both X_val and y_val, or neither")
    rng = make_rng(rng, "fit")
    history = History()
    bar = _progress(epochs, progress)
    for _ in range(epochs):
        history.lr.append(float(optimizer.lr))
        train_epoch(model, loss_fn, optimizer, X, y, batch_size, rng, clip_norm)
        loss, acc = evaluate(model, loss_fn, X, y)
        history.train_loss.append(loss)
        history.train_acc.append(acc)
        if X_val is not None:
            val_loss, val_acc = evaluate(model, loss_fn, X_val, y_val)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        if scheduler is not None:
            scheduler.step()
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.4f}", **({"val_acc": f"{history.val_acc[-1]:.4f}"} if X_val is not None else {}))
            bar.update(1)
    if bar is not None:
        bar.close()
    return history


def _progress(total: int, enabled: bool):
    """A tqdm progress bar over epochs, or None."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="epochs", unit="epoch")
