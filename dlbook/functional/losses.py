"""Loss functions and their gradients (chapters 2 and 3).

Conventions follow PyTorch: every loss returns the *mean* over the batch
(a Python float), and each ``*_grad`` returns dLoss/dinput for that mean.
Losses that take scores ("logits") never form a probability that could round
to 0 or 1 first, so they stay finite for scores as large as 1e4.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, as_label_array, check_ndim, check_same_shape
from dlbook.functional.activations import log_softmax, sigmoid, softmax, softplus

LOG_CLAMP = -100.0
"""Lower bound on log(p) in :func:`binary_cross_entropy`, the same clamp PyTorch uses."""


def one_hot(targets: np.ndarray, num_classes: int) -> np.ndarray:
    """One-hot encode integer labels.

    Shapes: targets (N,) int in [0, C) -> (N, C) float64.
    """
    y = as_label_array(targets, "one_hot")
    check_ndim(y, 1, "one_hot", "targets", "(N,)")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"one_hot expected labels in [0, {num_classes}); got min {y.min()}, max {y.max()}"
        )
    out = np.zeros((y.shape[0], num_classes))
    out[np.arange(y.shape[0]), y] = 1.0
    return out


def _logits_and_labels(logits, targets, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate (N, C) logits against (N,) integer labels in [0, C)."""
    z = as_float_array(logits, where, "logits")
    y = as_label_array(targets, where)
    check_ndim(z, 2, where, "logits", "(N, C)")
    if z.shape[0] == 0:  # a mean over no rows is 0/0: NaN and numpy warnings, never a loss
        raise ValueError(f"{where} expected a non-empty batch of logits (N, C) with N >= 1; "
                         f"got shape {z.shape}")
    if y.shape != (z.shape[0],):
        raise ValueError(f"{where} expected targets of shape ({z.shape[0]},); got shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= z.shape[1]):
        raise ValueError(
            f"{where} expected labels in [0, {z.shape[1]}); got min {y.min()}, max {y.max()}"
        )
    return z, y


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    """Softmax cross-entropy, mean over the batch: -(1/N) sum_n log softmax(z_n)[y_n].

    Shapes: logits (N, C), targets (N,) integer labels -> scalar.
    Computed from log_softmax, so a confident wrong answer costs a large but
    finite loss instead of log(0) = -inf.
    """
    z, y = _logits_and_labels(logits, targets, "cross_entropy")
    return float(-np.mean(log_softmax(z, axis=1)[np.arange(len(y)), y]))


def cross_entropy_grad(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Gradient of :func:`cross_entropy` with respect to the logits: (p - onehot(y)) / N.

    Shapes: logits (N, C), targets (N,) -> (N, C). Derived in chapter 3.
    """
    z, y = _logits_and_labels(logits, targets, "cross_entropy_grad")
    g = softmax(z, axis=1)
    g[np.arange(len(y)), y] -= 1.0
    return g / len(y)


def _scores_and_targets(scores, targets, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate two float arrays of identical shape (scores and per-element targets)."""
    s = as_float_array(scores, where, "input")
    t = as_float_array(targets, where, "targets")
    check_same_shape(s, t, where, ("input", "targets"))
    if s.size == 0:
        raise ValueError(f"{where} expected a non-empty input; got shape {s.shape}")
    return s, t


def binary_cross_entropy_with_logits(logits: np.ndarray, targets: np.ndarray) -> float:
    """Log loss for labels y in {0, 1} given scores z: mean(softplus(z) - y z).

    Shapes: logits (...), targets (...) same shape -> scalar.
    Equal to -[y log s(z) + (1-y) log(1-s(z))] but never takes log of 0.
    """
    z, y = _scores_and_targets(logits, targets, "binary_cross_entropy_with_logits")
    return float(np.mean(softplus(z) - y * z))


def binary_cross_entropy_with_logits_grad(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Gradient of :func:`binary_cross_entropy_with_logits`: (sigmoid(z) - y) / numel.

    Shapes: logits (...), targets (...) -> (...).
    """
    z, y = _scores_and_targets(logits, targets, "binary_cross_entropy_with_logits_grad")
    return (sigmoid(z) - y) / z.size


def binary_cross_entropy(probs: np.ndarray, targets: np.ndarray) -> float:
    """Log loss from probabilities p in [0, 1]: -mean(y log p + (1-y) log(1-p)).

    Shapes: probs (...), targets (...) same shape -> scalar.
    Each log is clamped below at ``LOG_CLAMP`` (as in PyTorch) so p = 0 or 1
    gives a large finite loss. Prefer the ``_with_logits`` form when you have scores.
    """
    p, y = _scores_and_targets(probs, targets, "binary_cross_entropy")
    if np.any((p < 0) | (p > 1)):
        raise ValueError(
            f"binary_cross_entropy expected probabilities in [0, 1]; got min {p.min()}, max {p.max()}"
        )
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), LOG_CLAMP)
        log_q = np.maximum(np.log1p(-p), LOG_CLAMP)
    return float(-np.mean(y * log_p + (1 - y) * log_q))


def logistic_loss(scores: np.ndarray, targets: np.ndarray) -> float:
    """Log loss for labels y in {-1, +1}: mean(log(1 + exp(-y s))) = mean(softplus(-y s)).

    Shapes: scores (N,), targets (N,) in {-1, +1} -> scalar.
    The same loss as the {0, 1} form with y01 = (y + 1) / 2 (shown in chapter 2).
    """
    s, y = _scores_and_targets(scores, targets, "logistic_loss")
    _check_pm1(y, "logistic_loss")
    return float(np.mean(softplus(-y * s)))


def logistic_loss_grad(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Gradient of :func:`logistic_loss`: -y sigmoid(-y s) / N. Shapes: (N,) -> (N,)."""
    s, y = _scores_and_targets(scores, targets, "logistic_loss_grad")
    _check_pm1(y, "logistic_loss_grad")
    return -y * sigmoid(-y * s) / s.size


def hinge_loss(scores: np.ndarray, targets: np.ndarray) -> float:
    """Hinge loss of the linear SVM: mean(max(0, 1 - y s)) for y in {-1, +1}.

    Shapes: scores (N,), targets (N,) -> scalar.
    """
    s, y = _scores_and_targets(scores, targets, "hinge_loss")
    _check_pm1(y, "hinge_loss")
    return float(np.mean(np.maximum(0.0, 1.0 - y * s)))


def hinge_loss_grad(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """A subgradient of :func:`hinge_loss`: -y / N where the margin y s < 1, else 0."""
    s, y = _scores_and_targets(scores, targets, "hinge_loss_grad")
    _check_pm1(y, "hinge_loss_grad")
    return np.where(y * s < 1.0, -y, 0.0) / s.size


def mse_loss(input: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error mean((input - target)^2) over every element.

    Shapes: input (...), target (...) same shape -> scalar.
    """
    x, t = _scores_and_targets(input, target, "mse_loss")
    return float(np.mean((x - t) ** 2))


def mse_loss_grad(input: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Gradient of :func:`mse_loss`: 2 (input - target) / numel. Shapes: (...) -> (...)."""
    x, t = _scores_and_targets(input, target, "mse_loss_grad")
    return 2.0 * (x - t) / x.size


def kl_divergence(p: np.ndarray, q: np.ndarray, axis: int = -1) -> np.ndarray:
    """KL(p || q) = sum_j p_j (log p_j - log q_j) along ``axis`` (0 log 0 taken as 0).

    Shapes: p (..., C), q (..., C) -> (...). Chapter 3 shows that
    cross-entropy H(p, q) = H(p) + KL(p || q).
    """
    p, q = _scores_and_targets(p, q, "kl_divergence")
    if np.any(p < 0) or np.any(q < 0):
        raise ValueError("kl_divergence expected non-negative probabilities in p and q")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    return np.sum(terms, axis=axis)


def accuracy(scores: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of rows whose arg-max score equals the label.

    Shapes: scores (N, C) and targets (N,) -> float in [0, 1]; a 1-D
    ``scores`` is taken as already-predicted labels.
    """
    s = np.asarray(scores)
    y = as_label_array(targets, "accuracy")
    pred = s.argmax(axis=1) if s.ndim == 2 else s
    if pred.shape != y.shape:
        raise ValueError(f"accuracy expected {y.shape[0]} predictions; got shape {s.shape}")
    if y.size == 0:
        raise ValueError(f"accuracy expected a non-empty batch; got scores of shape {s.shape}")
    return float(np.mean(pred == y))


def _check_pm1(y: np.ndarray, where: str) -> None:
    """Raise unless every target is -1 or +1."""
    if not np.all((y == 1) | (y == -1)):
        raise ValueError(f"{where} expected targets in {{-1, +1}}; got values {np.unique(y)[:5]}")
