"""The batch, tolerances and checks shared by the encoder-decoder tests (chapters 16 and 17).

Gradient checks run on whole models in float64, over a padded batch. Through a
dozen recurrent steps some encoder gradients are ~1e-4, so the central
difference uses h = STEP and the tolerance MODEL_TOL (a wrong backward gives ~1e-2).
"""

from __future__ import annotations

import numpy as np

from dlbook.diagnostics.gradcheck import norm_relative_error
from dlbook.layers.seq_loss import SequenceCrossEntropyLoss
from dlbook.diagnostics.numgrad import numerical_gradient

F64 = np.float64
MODEL_TOL = 1e-6
STEP = 1e-5
TORCH_TOL = 1e-10
V, E, H = 8, 3, 4  # ids: 0 <pad>, 1 <unk>, 2 <bos>, 3 <eos>, 4..7 characters
PAD, BOS, EOS = 0, 2, 3

# a padded batch: sources of lengths 4, 2, 1, 3; targets <bos> y <eos> of lengths 5, 3, 4, 2
SRC = np.array([[4, 5, 6, 7], [5, 4, 0, 0], [6, 0, 0, 0], [7, 7, 4, 0]])
TGT = np.array([[2, 4, 5, 6, 3], [2, 6, 3, 0, 0], [2, 4, 4, 3, 0], [2, 3, 0, 0, 0]])


def make_model(cls, kwargs, seed=0, scale=0.5):
    """A float64 ``cls(V, E, H)`` with N(0, scale^2) parameters (larger than the init: livelier)."""
    model = cls(V, E, H, rng=seed, dtype=F64, **kwargs)
    rng = np.random.default_rng(seed + 100)
    for param, _ in model.parameters():
        param[...] = scale * rng.standard_normal(param.shape)
    return model


def loss(model, src, tgt) -> float:
    """The teacher-forced loss: SequenceCrossEntropyLoss(model(src, tgt[:, :-1]), tgt[:, 1:])."""
    return SequenceCrossEntropyLoss(ignore_index=model.pad_index).forward(
        model(src, tgt[:, :-1]), tgt[:, 1:])


def loss_and_backward(model, src, tgt, dout: float = 1.0) -> float:
    """The loss, then ``model.backward(loss_fn.backward(dout))`` adds into model.grads."""
    loss_fn = SequenceCrossEntropyLoss(ignore_index=model.pad_index)
    value = loss_fn.forward(model(src, tgt[:, :-1]), tgt[:, 1:])
    assert model.backward(loss_fn.backward(dout)) is None  # token ids: no input gradient
    return value


def numeric_errors(model, src, tgt) -> dict[str, float]:
    """Relative error of every parameter's backprop gradient against central differences."""
    model.zero_grad()
    loss_and_backward(model, src, tgt)
    return {name: norm_relative_error(model.grads[name],
                                      numerical_gradient(lambda _: loss(model, src, tgt), p, STEP))
            for name, p in model.params.items()}


def assert_matches_torch(model, device) -> None:
    """Loss and every gradient equal those of the torch twin (dlbook.twins.to_torch)."""
    import torch

    from dlbook.twins import to_torch, torch_grads

    model.zero_grad()
    value = loss_and_backward(model, SRC, TGT)
    twin = to_torch(model, device=device)
    src, tgt = (torch.as_tensor(a, device=device) for a in (SRC, TGT))
    logits = twin(src, tgt[:, :-1])  # (N, Tt - 1, V)
    loss_t = torch.nn.functional.cross_entropy(logits.flatten(0, 1), tgt[:, 1:].flatten(),
                                               ignore_index=model.pad_index)
    loss_t.backward()
    grads_t = torch_grads(model, twin)
    assert abs(value - loss_t.item()) < TORCH_TOL
    assert sorted(grads_t) == sorted(model.grads)
    for name, g in grads_t.items():
        np.testing.assert_allclose(model.grads[name], g, rtol=TORCH_TOL, atol=TORCH_TOL, err_msg=name)


def assert_extra_padding_changes_nothing(model, src_columns: int, tgt_columns: int) -> None:
    """Padding columns added to SRC and TGT leave the loss and every gradient unchanged."""
    model.zero_grad()
    value = loss_and_backward(model, SRC, TGT)
    grads = {k: v.copy() for k, v in model.grads.items()}
    model.zero_grad()
    wide = loss_and_backward(model, np.pad(SRC, ((0, 0), (0, src_columns))),
                             np.pad(TGT, ((0, 0), (0, tgt_columns))))
    assert abs(value - wide) < 1e-12
    for k in grads:
        np.testing.assert_allclose(model.grads[k], grads[k], atol=1e-12, err_msg=k)
