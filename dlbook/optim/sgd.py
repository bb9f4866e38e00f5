"""Stochastic gradient descent with momentum and Nesterov momentum (chapter 7).

The update rule is exactly ``torch.optim.SGD``'s, including how the momentum
buffer starts: on the first step it is the gradient itself (not ``(1 -
dampening)`` times it, and not zero).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlbook.optim.optimizer import Optimizer, ParamPairs, check_bool, check_hyper

DEFAULT_SGD_LR = 1e-3
"""torch.optim.SGD's default learning rate."""


class SGD(Optimizer):
    """theta <- theta - lr * g, with optional weight decay, momentum and Nesterov momentum.

    Shapes: each param and its grad share one shape; the momentum buffer has it too.

    With ``g = grad + weight_decay * theta`` (L2 weight decay folded into the
    gradient), one step for each parameter is::

        b = g                                       (first step)
        b = momentum * b + (1 - dampening) * g      (later steps)
        d = g + momentum * b    if nesterov else    b
        theta = theta - lr * d

    and ``d = g`` when ``momentum == 0``. The momentum term is Polyak's
    heavy-ball method (1964): the buffer ``b`` is a running sum of past
    gradients, so steps build up along directions where gradients agree and
    cancel across a zig-zag ravine. PyTorch keeps ``lr`` outside the buffer
    (Sutskever et al. 2013 put it inside); the two agree while ``lr`` is
    constant and differ once a schedule changes it.

    The Nesterov form ``d = g + momentum * b`` is Nesterov's accelerated
    gradient after a change of variables (Sutskever et al. 2013; Bengio et
    al. 2013): Nesterov evaluates the gradient at a look-ahead point
    ``phi = theta + momentum * v``; storing ``phi`` as the parameter instead
    of ``theta``, the gradient is taken at the stored parameter and the update
    becomes "one heavy-ball step plus a further ``momentum`` times the new
    buffer". It needs ``momentum > 0`` and ``dampening == 0``.

    Chapter 7 derives both from the zig-zag of plain SGD on an elongated bowl.
    """

    def __init__(self, params: ParamPairs, lr: float = DEFAULT_SGD_LR, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        where = type(self).__name__
        self.momentum = check_hyper(momentum, where, "momentum")
        self.dampening = check_hyper(dampening, where, "dampening")
        self.weight_decay = check_hyper(weight_decay, where, "weight_decay")
        self.nesterov = check_bool(nesterov, where, "nesterov")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(f"{where} expected momentum > 0 and dampening == 0 with "
                             f"nesterov=True; got momentum={self.momentum}, "
                             f"dampening={self.dampening}")
        super().__init__(params, lr)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        # numpy arithmetic on 0-d arrays returns scalars, which in-place ops would
        # rebind instead of update: every array kept or updated here is a real ndarray.
        g = grad
        if self.weight_decay != 0:
            g = grad.copy()                      # a new array: the layer's grad stays as it was
            g += self.weight_decay * param
        if self.momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()  # first step: the buffer is g itself
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
        param -= self.lr * g

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, dampening={self.dampening:g}, "
                f"weight_decay={self.weight_decay:g}, nesterov={self.nesterov})")
