"""The optimizer base class: (param, grad) pairs in, in-place updates out (chapter 7).

An optimizer holds *references* to the parameter arrays of the layers and to
the gradient arrays their ``backward`` fills. ``step()`` updates every
parameter in place (``param -= ...``, never a rebinding), so the layers see the
new values without being told; ``zero_grad()`` fills every gradient with 0 in
place, ready for the next ``backward`` to accumulate into.

Each subclass writes one method, :meth:`Optimizer._update`, the rule for a
single parameter; the per-parameter ``state`` dict holds whatever the rule
remembers between steps (a momentum buffer, moment estimates, a step count).
The hyperparameters follow ``torch.optim`` by name and by formula, and
``tests/optim/test_optim_torch.py`` checks the trajectories step by step.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from dlbook._checks import check_hyper  # noqa: F401  (optimizers validate their hyperparameters)

ParamPairs = Iterable[tuple[np.ndarray, np.ndarray]]
"""What an optimizer is built from: ``layer.parameters()`` or a list of (param, grad) pairs."""


def check_bool(value: Any, where: str, name: str) -> bool:
    """Return ``value`` as a bool; raise ``TypeError`` for anything but True/False."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where} expected {name} to be a bool; got {type(value).__name__}")
    return bool(value)


def check_betas(betas: Any, where: str) -> tuple[float, float]:
    """Return ``(beta1, beta2)`` as floats, each in [0, 1); else ``TypeError``/``ValueError``."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"{where} expected betas to be a pair (beta1, beta2); got {betas!r}")
    return (check_hyper(betas[0], where, "betas[0]", 0.0, 1.0),
            check_hyper(betas[1], where, "betas[1]", 0.0, 1.0))


def _check_pair(pair: Any, index: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One (param, grad) pair: two writeable float ndarrays of the same shape and dtype."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{where} expected parameter {index} to be a (param, grad) pair of "
                        f"arrays; got {type(pair).__name__}")
    param, grad = pair
    for name, arr in (("param", param), ("grad", grad)):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{where} expected the {name} of pair {index} to be a numpy array "
                            f"(updated in place); got {type(arr).__name__}")
        if not np.issubdtype(arr.dtype, np.floating):
            raise TypeError(f"{where} expected the {name} of pair {index} to have a float dtype; "
                            f"got {arr.dtype}")
        if not arr.flags.writeable:
            raise ValueError(f"{where} expected the {name} of pair {index} to be writeable; "
                             f"got a read-only array")
    if param.shape != grad.shape:
        raise ValueError(f"{where} expected param and grad of pair {index} to have the same "
                         f"shape; got {param.shape} and {grad.shape}")
    if param.dtype != grad.dtype:
        raise TypeError(f"{where} expected param and grad of pair {index} to have the same "
                        f"dtype; got {param.dtype} and {grad.dtype}")
    return param, grad


class Optimizer:
    """Base class: updates each ``param`` in place from its ``grad`` (chapter 7).

    Shapes: every (param, grad) pair shares one shape, any shape; the state
    arrays of a parameter have that shape too.

    Attributes:
        params, grads: the arrays given, in order (references, never copies).
        state: one dict per parameter, filled lazily by the update rule.
        lr: the learning rate; a schedule (``dlbook.optim.schedule``) changes it
            between steps.
    """

    def __init__(self, params: ParamPairs, lr: float):
        where = type(self).__name__
        if isinstance(params, np.ndarray) or isinstance(params, (str, bytes)):
            raise TypeError(f"{where} expected an iterable of (param, grad) pairs; "
                            f"got {type(params).__name__}")
        try:
            pairs = list(params)
        except TypeError:
            raise TypeError(f"{where} expected an iterable of (param, grad) pairs; "
                            f"got {type(params).__name__}") from None
        if not pairs:
            raise ValueError(f"{where} expected at least one (param, grad) pair; got none")
        checked = [_check_pair(pair, i, where) for i, pair in enumerate(pairs)]
        seen: set[int] = set()
        for i, (param, _) in enumerate(checked):
            if id(param) in seen:
                raise ValueError(f"{where} expected each parameter once; parameter {i} repeats "
                                 f"an earlier one")
            seen.add(id(param))
        self.params: list[np.ndarray] = [p for p, _ in checked]
        self.grads: list[np.ndarray] = [g for _, g in checked]
        self.state: list[dict[str, Any]] = [{} for _ in checked]
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate used by the next ``step()`` (a float >= 0)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_hyper(value, type(self).__name__, "lr")

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The (param, grad) pairs this optimizer updates."""
        return list(zip(self.params, self.grads))

    def step(self) -> None:
        """Apply the update rule once to every parameter, in place."""
        for param, grad, state in zip(self.params, self.grads, self.state):
            self._update(param, grad, state)

    def zero_grad(self) -> None:
        """Fill every gradient array with 0 in place (the layers keep the same arrays)."""
        for grad in self.grads:
            grad.fill(0)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        """The rule for one parameter; subclasses override it. Must not modify ``grad``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"
