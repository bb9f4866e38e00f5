"""Stateless math of the book: activations, softmax, losses and their derivatives.

``import dlbook.functional as F`` mirrors ``torch.nn.functional`` where a
PyTorch function exists, so a cross-check is the same line written twice.
"""

from dlbook.functional.activations import (
    log_softmax,
    logsumexp,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_jacobian,
    softplus,
    step,
    tanh,
    tanh_grad,
)
from dlbook.functional.losses import (
    LOG_CLAMP,
    accuracy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    cross_entropy,
    cross_entropy_grad,
    hinge_loss,
    hinge_loss_grad,
    kl_divergence,
    logistic_loss,
    logistic_loss_grad,
    mse_loss,
    mse_loss_grad,
    one_hot,
)

__all__ = [
    "LOG_CLAMP", "accuracy", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad", "cross_entropy", "cross_entropy_grad",
    "hinge_loss", "hinge_loss_grad", "kl_divergence", "log_softmax", "logistic_loss",
    "logistic_loss_grad", "logsumexp", "mse_loss", "mse_loss_grad", "one_hot", "relu",
    "relu_grad", "sigmoid", "sigmoid_grad", "softmax", "softmax_jacobian", "softplus",
    "step", "tanh", "tanh_grad",
]
