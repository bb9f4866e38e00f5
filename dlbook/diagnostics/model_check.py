"""Gradient check of a whole model whose input is token ids (chapters 14-15).

:func:`dlbook.diagnostics.gradcheck.check_layer` differentiates with respect to a float
input, but a language model or a sequence classifier reads integer ids,
which have no gradient. What can be checked is every *parameter*: central
differences of ``dout * loss(model(ids), targets)`` against the gradients
that ``model.backward(loss.backward(dout))`` accumulates, with a random
scalar ``dout``. Each evaluation runs on a fresh copy of the model as it was
before the check, so dropout replays the same masks.
"""

from __future__ import annotations

import copy

import numpy as np

from dlbook.diagnostics.gradcheck import norm_relative_error
from dlbook.diagnostics.numgrad import numerical_gradient
from dlbook.utils import make_rng

MODEL_CHECK_STEP = 1e-5
"""Central-difference step for whole models. A model's loss is O(1) while the gradient of a
deep recurrent weight can be ~1e-3, so the rounding error ~1e-16 |loss| / h of the layer
checker's h = 1e-6 would already be 1e-7 of it; h = 1e-5 trades that for a truncation
error ~h^2 that stays far below."""


def check_model(model, loss_fn, inputs: np.ndarray, targets: np.ndarray,
                rng: int | np.random.Generator | None = 0,
                h: float = MODEL_CHECK_STEP) -> dict[str, float]:
    """Relative error of every parameter gradient of ``model`` against central differences.

    Shapes: inputs (as ``model.forward`` takes them, e.g. ids (N, T)), targets
    (as ``loss_fn.forward`` takes them) -> {parameter name: relative error}.
    The model must hold float64 parameters; its ``grads`` are zeroed and then
    hold the analytic gradients. A tied parameter appears once, under one name,
    and its numerical gradient perturbs every use of it at once, so the check
    passes only if backward *sums* the contributions of all its uses.
    """
    for key, param in model.params.items():
        if param.dtype != np.float64:
            raise TypeError(f"check_model expected float64 parameters (build "
                            f"{type(model).__name__} with dtype=np.float64); "
                            f"got params[{key!r}] of dtype {param.dtype}")
    dout = float(make_rng(rng, "check_model").uniform(0.5, 2.0))
    pristine = copy.deepcopy((model, loss_fn))  # before any forward: copies replay the same masks

    model.zero_grad()
    loss_fn.forward(model.forward(inputs), targets)
    model.backward(loss_fn.backward(dout))

    def objective(_: np.ndarray) -> float:
        fresh_model, fresh_loss = copy.deepcopy(pristine)
        return dout * float(fresh_loss.forward(fresh_model.forward(inputs), targets))

    errors = {}
    for key, param in pristine[0].params.items():  # perturbed in place, then copied by objective
        errors[key] = norm_relative_error(model.grads[key], numerical_gradient(objective, param, h))
    return errors
