"""Optimizers, learning-rate schedules and gradient clipping (chapter 7).

``from dlbook.optim import SGD, Adam`` mirrors ``torch.optim``: an optimizer is
built from ``(param, grad)`` pairs (``layer.parameters()``), ``step()``
updates the parameters in place and ``zero_grad()`` clears the gradients.
"""

from dlbook.optim.adaptive import Adagrad, Adam, AdamW, RMSprop
from dlbook.optim.clip import clip_grad_norm_
from dlbook.optim.optimizer import Optimizer
from dlbook.optim.schedule import (
    CosineAnnealingLR,
    LinearWarmup,
    LRScheduler,
    StepLR,
    WarmupCosineLR,
)
from dlbook.optim.sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "LRScheduler", "StepLR", "CosineAnnealingLR", "LinearWarmup", "WarmupCosineLR",
    "clip_grad_norm_",
]
