"""Chapter 18 backward passes against float64 numerical gradients (dlbook.diagnostics.gradcheck.check_layer).

``check_layer`` differentiates a layer with one input x. Attention layers
take several (query, key, value; tgt, memory), so :class:`ArgumentView`
exposes one argument as x while the others stay fixed, and forwards
``params``/``grads`` to the wrapped layer; every parameter is checked in each
view. ``argument=SELF`` feeds x as query, key and value at once and sums the
three gradients (self-attention). The GPT takes integer ids, which have no
gradient: its view takes a dummy x and checks the parameters end to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer
from dlbook.layers.attention import ScaledDotProductAttention, causal_mask
from dlbook.layers.base import Layer
from dlbook.layers.multihead import MultiheadAttention
from dlbook.layers.positional import PositionalEncoding
from dlbook.layers.transformer import FeedForward, TransformerDecoderLayer, TransformerEncoderLayer
from dlbook.models.gpt import GPT
from dlbook.models.transformer_seq2seq import TransformerSeq2Seq
from layer_protocol import (assert_accumulates_until_zero_grad,
                            assert_backward_returns_input_gradients, assert_dout_unchanged)

F64 = np.float64
SELF = "self"
RETRY_STEP = 1e-4
"""Second central-difference step for layers that contain attention. Behind a saturated
softmax (or a query that may attend only to itself) W_q and W_k can get gradients 1e-3 of the
others', where the rounding noise of h = 1e-6, ~1e-16 |f| / h, reaches the tolerance; at
h = 1e-4 it does not. The larger step is not used alone: its truncation error (~h^2 times a
third derivative) is too big where LayerNorm curves sharply. A parameter passes when either
step agrees; a wrong backward pass disagrees at both (errors of 1e-2 or more)."""
ZERO_GRAD = 1e-12
"""An analytic gradient that is 0 in exact arithmetic stays below this in float64."""
N, T, S, E, H, FF = 2, 3, 4, 4, 2, 6


class ArgumentView(Layer):
    """forward(x) = layer.forward(*args with args[argument] = x, **kwargs); backward -> that gradient."""

    def __init__(self, layer, args: tuple, argument, kwargs: dict | None = None):
        super().__init__()
        self.layer, self.args, self.argument, self.kwargs = layer, args, argument, kwargs or {}

    def forward(self, x):
        if self.argument == SELF:
            args = (x, x, x)
        else:
            args = list(self.args)
            args[self.argument] = x
        return self.layer.forward(*args, **self.kwargs)

    def backward(self, dout):
        grads = self.layer.backward(dout)
        if not isinstance(grads, tuple):  # a one-input layer (the encoder layer)
            return grads
        return sum(grads) if self.argument == SELF else grads[self.argument]


class GPTView(Layer):
    """forward(dummy x) = model(ids): checks every GPT parameter; dx is 0 (ids are integers)."""

    def __init__(self, model: GPT, ids: np.ndarray):
        super().__init__()
        self.model, self.ids = model, ids
        self._x = None

    def forward(self, x):
        self._x = x
        return self.model.forward(self.ids)

    def backward(self, dout):
        self.model.backward(dout)
        return np.zeros_like(self._x)


class Seq2SeqView(Layer):
    """forward(dummy x) = model(src, tgt_in): every TransformerSeq2Seq parameter, ids fixed."""

    def __init__(self, model: TransformerSeq2Seq, src: np.ndarray, tgt_in: np.ndarray):
        super().__init__()
        self.model, self.src, self.tgt_in = model, src, tgt_in
        self._x = None

    def forward(self, x):
        self._x = x
        return self.model.forward(self.src, self.tgt_in)

    def backward(self, dout):
        self.model.backward(dout)
        return np.zeros_like(self._x)


@dataclass(frozen=True)
class Case:
    name: str
    factory: Callable[[np.random.Generator], Layer]  # rng -> layer with float64 parameters
    shape: tuple[int, ...]  # the shape of x
    retry: bool = False  # contains attention: a parameter may also pass at RETRY_STEP


def rand(rng, *shape):
    return rng.normal(size=shape)


def padding(n_pad: int, length: int) -> np.ndarray:
    kpm = np.zeros((N, length), dtype=bool)
    kpm[1, length - n_pad:] = True  # example 1 ends in n_pad padding positions
    return kpm


def partial_mask(shape, rng) -> np.ndarray:
    """A random bool mask (True = may attend) with one fully masked query row."""
    m = rng.random(shape) > 0.5
    m[..., 0, :] = False
    return m


def sdpa(argument, masked: bool):
    def factory(rng):
        q, k, v = rand(rng, N, H, T, 3), rand(rng, N, H, S, 3), rand(rng, N, H, S, 4)
        mask = partial_mask((T, S), rng) if masked else None
        return ArgumentView(ScaledDotProductAttention(), (q, k, v), argument, {"mask": mask})
    return factory


def mha(argument, masked: bool):
    def factory(rng):
        layer = MultiheadAttention(E, H, rng=rng, dtype=F64)
        if argument == SELF:
            kwargs = {"key_padding_mask": padding(1, T), "attn_mask": causal_mask(T)} if masked else {}
            return ArgumentView(layer, (), SELF, kwargs)
        args = (rand(rng, N, T, E), rand(rng, N, S, E), rand(rng, N, S, E))
        kwargs = {"key_padding_mask": padding(2, S)} if masked else {}
        return ArgumentView(layer, args, argument, kwargs)
    return factory


def encoder(norm_first: bool, dropout: float = 0.0):
    def factory(rng):
        layer = TransformerEncoderLayer(E, H, FF, dropout=dropout, norm_first=norm_first, rng=rng, dtype=F64)
        kwargs = {"src_key_padding_mask": padding(1, T), "is_causal": True}
        return ArgumentView(layer, (None,), 0, kwargs)
    return factory


def decoder(argument, norm_first: bool):
    def factory(rng):
        layer = TransformerDecoderLayer(E, H, FF, norm_first=norm_first, rng=rng, dtype=F64)
        args = (rand(rng, N, T, E), rand(rng, N, S, E))
        return ArgumentView(layer, args, argument, {"memory_key_padding_mask": padding(2, S)})
    return factory


def gpt(positional: str):
    def factory(rng):
        model = GPT(7, block_size=T, d_model=4, nhead=2, num_layers=2, dim_feedforward=6,
                    positional=positional, rng=rng, dtype=F64)
        return GPTView(model, rng.integers(0, 7, size=(N, T)))
    return factory


def seq2seq(positional: str, norm_first: bool, layers: int):
    def factory(rng):
        model = TransformerSeq2Seq(7, 4, 2, layers, layers, 6, norm_first=norm_first,
                                   positional=positional, max_len=S, rng=rng, dtype=F64)
        src = np.array([[4, 5, 6, 1], [5, 4, 0, 0]])  # the second source ends in 2 pads
        return Seq2SeqView(model, src, rng.integers(1, 7, size=(N, T)))
    return factory


REGISTRY = [
    *(Case(f"attention-d{a}{'-masked' if m else ''}", sdpa(i, m), shape)
      for m in (False, True)
      for i, (a, shape) in enumerate((("q", (N, H, T, 3)), ("k", (N, H, S, 3)), ("v", (N, H, S, 4))))),
    Case("MultiheadAttention-self", mha(SELF, False), (N, T, E), retry=True),
    Case("MultiheadAttention-self-causal-padding", mha(SELF, True), (N, T, E), retry=True),
    *(Case(f"MultiheadAttention-cross-d{a}-padding", mha(i, True), shape, retry=True)
      for i, (a, shape) in enumerate((("query", (N, T, E)), ("key", (N, S, E)), ("value", (N, S, E))))),
    Case("MultiheadAttention-cross-dkey", mha(1, False), (N, S, E), retry=True),
    Case("PositionalEncoding", lambda rng: PositionalEncoding(E), (N, T, E)),
    Case("PositionalEncoding-dropout", lambda rng: PositionalEncoding(E, dropout=0.3, rng=rng), (N, T, E)),
    Case("FeedForward", lambda rng: FeedForward(E, FF, rng=rng, dtype=F64), (N, T, E)),
    Case("FeedForward-dropout", lambda rng: FeedForward(E, FF, dropout=0.3, rng=rng, dtype=F64), (N, T, E)),
    Case("TransformerEncoderLayer-post-norm", encoder(False), (N, T, E), retry=True),
    Case("TransformerEncoderLayer-pre-norm", encoder(True), (N, T, E), retry=True),
    Case("TransformerEncoderLayer-dropout", encoder(True, 0.2), (N, T, E), retry=True),
    *(Case(f"TransformerDecoderLayer-{'pre' if nf else 'post'}-norm-d{a}", decoder(i, nf), shape,
           retry=True)
      for nf in (False, True) for i, (a, shape) in enumerate((("tgt", (N, T, E)), ("memory", (N, S, E))))),
    Case("GPT-learned", gpt("learned"), (1,), retry=True),
    Case("GPT-sinusoidal", gpt("sinusoidal"), (1,), retry=True),
    # two layers each (the memory's gradient sums over decoder layers); post-norm with one
    # layer each: deeper post-norm stacks at these random weights saturate the softmax
    # (W_q, W_k gradients ~1e-3 of the rest), and the float64 twin test covers them instead
    Case("TransformerSeq2Seq-learned-pre-norm", seq2seq("learned", True, 2), (1,), retry=True),
    Case("TransformerSeq2Seq-sinusoidal-post-norm", seq2seq("sinusoidal", False, 1), (1,),
         retry=True),
]


def build(case: Case):
    """The case's layer with random parameters (gamma = 1, beta = 0 would hide bugs) and input."""
    rng = np.random.default_rng(0)
    layer = case.factory(rng)
    for param in layer.params.values():
        param[...] = 0.7 * rng.normal(size=param.shape)
    return layer, rng.normal(size=case.shape), rng


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.name)
def test_gradients_match_numerical_gradients(case):
    layer, x, rng = build(case)
    errors = check_layer(layer, x, rng=rng)  # also raises if dout or x is modified
    if case.retry and any(not e < GRADCHECK_TOL for e in errors.values()):
        layer, x, rng = build(case)
        again = check_layer(layer, x, rng=rng, h=RETRY_STEP)
        errors = {k: min(e, again[k]) for k, e in errors.items()}
    assert set(errors) == {"x", *layer.params}
    # The key bias shifts every score of a query by the same q . b_k, which the softmax
    # ignores: its true gradient is 0, so a relative error compares two rounding noises.
    key_biases = {k for k in errors if k.endswith("k_proj.b")}
    for k in key_biases:
        assert np.abs(layer.grads[k]).max() < ZERO_GRAD, k
    bad = {k: f"{e:.1e}" for k, e in errors.items() if k not in key_biases and not e < GRADCHECK_TOL}
    assert not bad, f"{case.name}: relative errors above {GRADCHECK_TOL}: {bad}"


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.name)
def test_backward_leaves_dout_unchanged(case):
    layer, x, rng = build(case)
    assert_dout_unchanged(layer, x, rng)


VIEW_CASES = [c for c in REGISTRY if c.name.startswith(("MultiheadAttention", "TransformerEncoder",
                                                          "TransformerDecoder"))]


@pytest.mark.parametrize("case", VIEW_CASES, ids=lambda c: c.name)
def test_backward_returns_the_gradients_of_the_forward_inputs(case):
    """(dquery, dkey, dvalue) and (dtgt, dmemory) as a tuple, dsrc alone; no _dmemory attribute."""
    view, x, rng = build(case)
    if view.argument == SELF:
        args = (x, x, x)
    else:
        args = list(view.args)
        args[view.argument] = x
    assert_backward_returns_input_gradients(view.layer, tuple(args), rng, view.kwargs)


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.name)
def test_backward_accumulates_until_zero_grad(case):
    layer, x, rng = build(case)
    assert_accumulates_until_zero_grad(layer, x, rng)


def test_gpt_gradients_train_the_tied_uses_of_one_parameter():
    """A learned position row is shared by the batch; its gradient is the sum over examples."""
    model = GPT(5, block_size=3, d_model=4, nhead=1, num_layers=1, rng=0, dtype=F64)
    ids = np.array([[1, 2, 3], [1, 2, 3]])
    dout = np.random.default_rng(1).normal(size=(1, 3, 5))
    model(ids[:1])
    model.backward(dout)
    single = model.grads["pos_emb.W"].copy()
    model.zero_grad()
    model(ids)
    model.backward(np.concatenate([dout, dout]))
    np.testing.assert_allclose(model.grads["pos_emb.W"], 2 * single, rtol=1e-12)


def test_checker_catches_a_wrong_softmax_backward_at_both_steps(monkeypatch):
    """The two-step rule cannot hide a bug: forgetting the softmax's -sum(dA * A) term fails both."""
    import dlbook.layers.multihead as multihead

    def forgets_the_sum(dout, cache):
        q, k, v, weights, _ = cache
        scale = 1.0 / np.sqrt(q.shape[-1])
        dscores = weights * (dout @ np.swapaxes(v, -1, -2))  # missing: - sum(dA * A)
        return (dscores @ k * scale, np.swapaxes(dscores, -1, -2) @ q * scale,
                np.swapaxes(weights, -1, -2) @ dout)

    monkeypatch.setattr(multihead, "scaled_dot_product_attention_backward", forgets_the_sum)
    for h in (1e-6, RETRY_STEP):
        layer, x, rng = build(REGISTRY[[c.name for c in REGISTRY].index("MultiheadAttention-self")])
        errors = check_layer(layer, x, rng=rng, h=h)
        assert errors["x"] > 1e-3 and errors["layer.q_proj.W"] > 1e-3
