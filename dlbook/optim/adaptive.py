"""Adaptive per-coordinate step sizes: Adagrad, RMSprop, Adam and AdamW (chapter 7).

Each optimizer divides a (possibly averaged) gradient by the square root of an
accumulated *squared gradient*, coordinate by coordinate, so coordinates with
large gradients take smaller steps. The formulas, the place of ``eps`` (added
*after* the square root) and Adam's bias correction follow ``torch.optim``
exactly; ``tests/optim/test_optim_torch.py`` checks 50-step trajectories against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlbook.optim.optimizer import Optimizer, ParamPairs, check_betas, check_bool, check_hyper

ADAGRAD_EPS = 1e-10
"""torch.optim.Adagrad's default eps."""
RMSPROP_EPS = 1e-8
"""torch.optim.RMSprop's default eps."""
ADAM_EPS = 1e-8
"""torch.optim.Adam's (and AdamW's) default eps."""
ADAMW_WEIGHT_DECAY = 1e-2
"""torch.optim.AdamW's default (decoupled) weight decay."""


class Adagrad(Optimizer):
    """theta <- theta - lr_t * g / (sqrt(s) + eps), where s = s0 + sum of all past g**2.

    Shapes: each param and its grad share one shape; the sum ``s`` has it too.

    One step (t = 1, 2, ...), with ``g = grad + weight_decay * theta``::

        lr_t  = lr / (1 + (t - 1) * lr_decay)
        s     = s + g * g                      (s starts at initial_accumulator_value)
        theta = theta - lr_t * g / (sqrt(s) + eps)

    Duchi, Hazan and Singer (2011). Because ``s`` only grows, every
    coordinate's effective step ``lr / sqrt(s)`` shrinks like ``1 / sqrt(t)``
    even when the gradient does not: chapter 7 shows the step dying on a long
    run, the problem RMSprop fixes.
    """

    def __init__(self, params: ParamPairs, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = ADAGRAD_EPS):
        where = type(self).__name__
        self.lr_decay = check_hyper(lr_decay, where, "lr_decay")
        self.weight_decay = check_hyper(weight_decay, where, "weight_decay")
        self.initial_accumulator_value = check_hyper(
            initial_accumulator_value, where, "initial_accumulator_value")
        self.eps = check_hyper(eps, where, "eps")
        super().__init__(params, lr)
        for param, state in zip(self.params, self.state):  # torch fills s at construction
            state["step"] = 0
            state["sum"] = np.full_like(param, self.initial_accumulator_value)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        state["step"] += 1
        g = grad + self.weight_decay * param if self.weight_decay != 0 else grad
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        s = state["sum"]
        s += g * g
        param -= clr * (g / (np.sqrt(s) + self.eps))


class RMSprop(Optimizer):
    """theta <- theta - lr * g / (sqrt(r) + eps), where r = alpha * r + (1 - alpha) * g**2.

    Shapes: each param and its grad share one shape; the averages have it too.

    One step, with ``g = grad + weight_decay * theta`` and all averages starting at 0::

        r     = alpha * r + (1 - alpha) * g * g
        v     = r                 (or, centered: gbar = alpha * gbar + (1 - alpha) * g,
                                   v = r - gbar**2, an estimate of the variance)
        d     = g / (sqrt(v) + eps)
        b     = momentum * b + d  (only if momentum > 0; then d = b)
        theta = theta - lr * d

    Hinton's lecture 6e (2012). It is the *gradient* ``g`` that is divided by
    ``sqrt(r) + eps``; ``r`` is an exponential moving average of squared
    gradients, so unlike Adagrad's sum it forgets old gradients and the step
    size does not die. There is no bias correction: ``r`` starts at 0, so the
    first steps are larger than ``lr`` (by ``1 / sqrt(1 - alpha)`` on step 1).
    """

    def __init__(self, params: ParamPairs, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = RMSPROP_EPS, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False):
        where = type(self).__name__
        self.alpha = check_hyper(alpha, where, "alpha", 0.0, 1.0)
        self.eps = check_hyper(eps, where, "eps")
        self.weight_decay = check_hyper(weight_decay, where, "weight_decay")
        self.momentum = check_hyper(momentum, where, "momentum")
        self.centered = check_bool(centered, where, "centered")
        super().__init__(params, lr)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if self.centered:
                state["grad_avg"] = np.zeros_like(param)
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
        state["step"] += 1
        g = grad + self.weight_decay * param if self.weight_decay != 0 else grad
        r = state["square_avg"]
        r *= self.alpha
        r += (1 - self.alpha) * (g * g)
        if self.centered:
            gbar = state["grad_avg"]
            gbar += (1 - self.alpha) * (g - gbar)
            denom = np.sqrt(r - gbar * gbar) + self.eps
        else:
            denom = np.sqrt(r) + self.eps
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g / denom
            param -= self.lr * buf
        else:
            param -= self.lr * (g / denom)


class Adam(Optimizer):
    """theta <- theta - lr * m_hat / (sqrt(v_hat) + eps), with moving averages m of g and v of g**2.

    Shapes: each param and its grad share one shape; m, v (and vmax) have it too.

    One step (t = 1, 2, ...), with ``g = grad + weight_decay * theta`` (L2
    weight decay, folded into the gradient) and ``m = v = 0`` at the start::

        m     = beta1 * m + (1 - beta1) * g          first moment (mean) of g
        v     = beta2 * v + (1 - beta2) * g * g      second RAW moment of g
        m_hat = m / (1 - beta1**t)                   bias corrections
        v_hat = v / (1 - beta2**t)
        theta = theta - lr * m_hat / (sqrt(v_hat) + eps)

    Kingma and Ba (2015). ``v`` estimates E[g**2], the *uncentred* second
    moment of the gradient. It is not second-order (curvature, Hessian)
    information: it is built from first derivatives only, and it measures how
    large the gradient of a coordinate has been, not how curved the loss is.

    Bias correction: ``m`` and ``v`` start at 0, so their early values are
    biased toward zero (after one step ``m = (1 - beta1) g``, a tenth of
    ``g`` for beta1 = 0.9). Dividing by ``1 - beta**t`` removes exactly that
    bias (for a constant gradient it gives ``m_hat = g``); the factor tends to
    1 within a few hundred steps. It is not a learning-rate decay: it corrects
    the estimates, and on step 1 it makes the step ``lr * g / (|g| + eps)``,
    about ``lr`` per coordinate, rather than a smaller or larger one.

    As in torch, the code computes ``step_size = lr / (1 - beta1**t)`` and
    ``denom = sqrt(v) / sqrt(1 - beta2**t) + eps``, the same formula.
    ``amsgrad=True`` (Reddi et al. 2018) divides by the running maximum of
    ``v`` instead of ``v``. Use :class:`AdamW` for decoupled weight decay.
    """

    _decoupled = False

    def __init__(self, params: ParamPairs, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = ADAM_EPS,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        where = type(self).__name__
        self.betas = check_betas(betas, where)
        self.eps = check_hyper(eps, where, "eps")
        self.weight_decay = check_hyper(weight_decay, where, "weight_decay")
        self.amsgrad = check_bool(amsgrad, where, "amsgrad")
        super().__init__(params, lr)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        t = state["step"]
        g = grad
        if self.weight_decay != 0:
            if self._decoupled:
                param *= 1 - self.lr * self.weight_decay  # AdamW: shrink theta, leave g alone
            else:
                g = grad + self.weight_decay * param      # Adam: L2 penalty's gradient
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (g - m)          # = beta1 * m + (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = self.lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / (1 - beta2 ** t) ** 0.5 + self.eps
        param -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: theta <- (1 - lr * wd) * theta, then the Adam step.

    Shapes: as :class:`Adam`.

    Loshchilov and Hutter (2019). Adam's ``weight_decay`` adds ``wd * theta``
    to the gradient, so the decay passes through ``m`` and is then divided by
    ``sqrt(v_hat)``: weights with large gradients are barely decayed. AdamW
    instead multiplies every weight by ``1 - lr * wd`` before an Adam step on
    the *unmodified* gradient, so each weight decays at the same rate.
    Chapter 7 shows the two trajectories part after a few steps. The default
    ``weight_decay`` is 1e-2, as in torch.
    """

    _decoupled = True

    def __init__(self, params: ParamPairs, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = ADAM_EPS,
                 weight_decay: float = ADAMW_WEIGHT_DECAY, amsgrad: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
