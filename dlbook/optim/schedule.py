"""Learning-rate schedules: step decay, cosine annealing and linear warm-up (chapter 7).

A schedule owns an optimizer and sets its ``lr`` attribute. As in
``torch.optim.lr_scheduler``, constructing it sets the epoch-0 rate, and you
call ``step()`` once after each epoch (or each iteration, if you count in
iterations). Every schedule here is a closed-form function of the epoch
counter and the optimizer's learning rate at construction (``base_lr``);
torch's StepLR and CosineAnnealingLR compute the same values recursively,
and ``tests/optim/test_optim_misc.py`` checks they agree. Unlike torch's chainable
schedulers, ours overwrite ``lr``: use one schedule per optimizer.
"""

from __future__ import annotations

import math

from dlbook._checks import check_positive_int
from dlbook.optim.optimizer import check_hyper


class LRScheduler:
    """Base class: ``optimizer.lr = lr_at(epoch)``, epoch = 0, 1, 2, ... advanced by ``step()``.

    Shapes: none (scalars only). Subclasses implement :meth:`lr_at`.
    Works with any object that has a settable float attribute ``lr``.
    """

    def __init__(self, optimizer) -> None:
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"{type(self).__name__} expected an optimizer with an lr attribute; "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = check_hyper(optimizer.lr, type(self).__name__, "optimizer.lr")
        self.last_epoch = 0
        self.optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        """The learning rate for ``epoch`` (0-based)."""
        raise NotImplementedError(f"{type(self).__name__} must implement lr_at")

    def step(self) -> None:
        """Advance one epoch and set the optimizer's ``lr`` for it."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> float:
        """The rate set by the latest ``step()`` (torch returns a list, one per group)."""
        return self.optimizer.lr


class StepLR(LRScheduler):
    """lr_t = base_lr * gamma ** floor(t / step_size): divide by 1/gamma every step_size epochs.

    Shapes: none (scalars only). Chapter 7 compares it with cosine annealing.
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_positive_int(step_size, "StepLR", "step_size")
        self.gamma = check_hyper(gamma, "StepLR", "gamma")
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2.

    Shapes: none (scalars only). Half a cosine from ``base_lr`` at t = 0 down
    to ``eta_min`` at t = T_max (Loshchilov and Hutter's SGDR without the
    restarts). Past ``T_max`` the formula keeps going, so the rate climbs back
    up, exactly as torch's CosineAnnealingLR does; :class:`WarmupCosineLR`
    holds ``eta_min`` instead. Chapter 7.
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = check_positive_int(T_max, "CosineAnnealingLR", "T_max")
        self.eta_min = check_hyper(eta_min, "CosineAnnealingLR", "eta_min")
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine


class LinearWarmup(LRScheduler):
    """lr_t = base_lr * min(1, (t + 1) / warmup_steps): a linear ramp, then constant.

    Shapes: none (scalars only). Epoch 0 uses ``base_lr / warmup_steps`` and
    epoch ``warmup_steps - 1`` reaches ``base_lr``. Equal to torch's
    ``LinearLR(start_factor=1/warmup_steps, total_iters=warmup_steps - 1)``.
    A warm-up keeps the first updates small while Adam's moment estimates
    and BatchNorm's statistics are still noisy (chapter 7).
    """

    def __init__(self, optimizer, warmup_steps: int) -> None:
        self.warmup_steps = check_positive_int(warmup_steps, "LinearWarmup", "warmup_steps")
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * min(1.0, (epoch + 1) / self.warmup_steps)


class WarmupCosineLR(LRScheduler):
    """Linear warm-up for ``warmup_steps`` epochs, then cosine annealing to ``eta_min``.

    Shapes: none (scalars only). With W = warmup_steps and T = total_steps::

        lr_t = base_lr * (t + 1) / W                                      t < W
        lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi (t - W) / (T - W))) / 2
                                                                          W <= t <= T
        lr_t = eta_min                                                    t > T

    The schedule of most Transformer recipes (chapter 18); chapter 7
    introduces it. Equal, for t <= T, to torch's
    ``SequentialLR([LinearLR(1/W, total_iters=W-1), CosineAnnealingLR(T-W, eta_min)], [W])``.
    """

    def __init__(self, optimizer, warmup_steps: int, total_steps: int,
                 eta_min: float = 0.0) -> None:
        self.warmup_steps = check_positive_int(warmup_steps, "WarmupCosineLR", "warmup_steps")
        self.total_steps = check_positive_int(total_steps, "WarmupCosineLR", "total_steps")
        if self.total_steps <= self.warmup_steps:
            raise ValueError(f"WarmupCosineLR expected total_steps > warmup_steps; got "
                             f"total_steps={total_steps}, warmup_steps={warmup_steps}")
        self.eta_min = check_hyper(eta_min, "WarmupCosineLR", "eta_min")
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        if epoch < self.warmup_steps:
            return self.base_lr * (epoch + 1) / self.warmup_steps
        progress = min(epoch - self.warmup_steps, self.total_steps - self.warmup_steps)
        cosine = (1 + math.cos(math.pi * progress / (self.total_steps - self.warmup_steps))) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine
