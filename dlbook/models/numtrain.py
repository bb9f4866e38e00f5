"""Mini-batch SGD driven by numerical gradients (chapter 4).

The loop is :func:`dlbook.train.fit`, the one every later chapter uses; only
the step changes.
Here each step costs ``2 * num_parameters`` forward passes (central
differences), which is why chapter 5 replaces it with backpropagation.
The model is duck-typed: anything with ``numerical_gradients(x, y, h)``,
``sgd_step(grads, lr)``, ``loss(x, y)`` and ``accuracy(x, y)`` works,
such as :class:`dlbook.models.mlp.MLP`.
"""

from __future__ import annotations

import numbers

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.diagnostics.numgrad import DEFAULT_H
from dlbook.train import Minibatches, fit
from dlbook.utils import make_rng

__all__ = ["evaluate", "numerical_step", "train_numerical"]


def evaluate(model, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy loss, accuracy) of ``model`` on a whole dataset.

    Shapes: X (N, D), y (N,) -> two floats.
    """
    return float(model.loss(X, y)), float(model.accuracy(X, y))


def _check_lr(lr, where: str) -> float:
    """Return ``lr`` as a float if it is a positive finite number, else raise."""
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"{where} expected lr to be a real number; got {type(lr).__name__}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"{where} expected lr > 0 and finite; got {lr}")
    return float(lr)


def _check_data(X, y, where: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate one (X, y) pair: 2-D features and one label per row."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(X) == 0:
        raise ValueError(f"{where} expected {split} data X of shape (N, D) and y of shape (N,) "
                         f"with N >= 1; got X {X.shape} and y {y.shape}")
    return X, y


def _record(history: dict[str, list[float]], model, splits) -> None:
    """Append the loss and accuracy of ``model`` on every (name, X, y) split to ``history``."""
    for name, X, y in splits:
        loss, acc = evaluate(model, X, y)
        history.setdefault(f"{name}_loss", []).append(loss)
        history.setdefault(f"{name}_acc", []).append(acc)


def train_numerical(model, X_train: np.ndarray, y_train: np.ndarray, *, lr: float, epochs: int,
                    batch_size: int | None = None, rng: int | np.random.Generator | None = None,
                    X_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
                    h: float = DEFAULT_H) -> dict[str, list[float]]:
    """Train ``model`` in place by mini-batch SGD with central-difference gradients.

    Each epoch shuffles the training set (with ``rng``) and takes one step
    ``p <- p - lr * dL/dp`` per mini-batch of ``batch_size`` rows (``None``:
    the whole set, i.e. full-batch gradient descent).

    Shapes: X_train (N, D), y_train (N,); X_val (M, D), y_val (M,) optional.
    Returns a history: ``"batch_loss"`` (one value per step, measured on the
    batch before its update) and, per epoch with epoch 0 = before training,
    ``"train_loss"``, ``"train_acc"`` and, with validation data, ``"val_loss"``,
    ``"val_acc"``.
    """
    where = "train_numerical"
    X_train, y_train = _check_data(X_train, y_train, where, "training")
    lr = _check_lr(lr, where)
    epochs = check_positive_int(epochs, where, "epochs")
    batch_size = len(X_train) if batch_size is None else check_positive_int(batch_size, where,
                                                                            "batch_size")
    if (X_val is None) != (y_val is None):
        raise ValueError(f"{where} expected both X_val and y_val or neither; "
                         f"got X_val {'None' if X_val is None else 'given'} and "
                         f"y_val {'None' if y_val is None else 'given'}")
    splits = [("train", X_train, y_train)]
    if X_val is not None:
        splits.append(("val", *_check_data(X_val, y_val, where, "validation")))
    history: dict[str, list[float]] = {}
    _record(history, model, splits)  # epoch 0: before any update

    def record(model) -> dict[str, float]:
        _record(history, model, splits)
        return {}

    run = fit(model, Minibatches(X_train, y_train, batch_size, rng=make_rng(rng)), None, epochs,
              step=numerical_step(lr, h), metrics=[record])
    return {"batch_loss": run.loss, **history}


def numerical_step(lr: float, h: float = DEFAULT_H):
    """A ``fit`` step that updates the model itself: p <- p - lr * (central-difference dL/dp)."""

    def step(model, batch) -> float:
        xb, yb = batch
        loss = float(model.loss(xb, yb))  # measured on the batch before its update
        grads = model.numerical_gradients(xb, yb, h)  # 2 * num_parameters forward passes
        model.sgd_step(grads, lr)                     # p <- p - lr * grad, every parameter
        return loss

    return step
