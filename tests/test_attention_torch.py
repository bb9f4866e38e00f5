"""PyTorch parity of the chapter 18 layers: attention, multi-head attention, Transformer layers, tiny GPT.

Everything runs in float64 on every available device and compares outputs,
input gradients and every parameter gradient to 1e-10 (1e-9 for the GPT).

Mask conventions (the one place to be careful):

* ``scaled_dot_product_attention(mask=m)`` and
  ``torch.nn.functional.scaled_dot_product_attention(attn_mask=m)``: bool True = may attend.
* Our ``MultiheadAttention(attn_mask=m)`` / ``Transformer*Layer(src_mask=m)``
  also use True = may attend, but ``torch.nn.MultiheadAttention`` and
  ``torch.nn.Transformer*Layer`` read a bool mask as True = NOT allowed, so
  their twin gets ``~m``.
* ``key_padding_mask``: True = padding in both.

Parameter names are mapped with :func:`dlbook.models.gpt.multihead_state_dict`
and friends; gradients are mapped the same way by copying them into a clone's
parameters (:func:`grads_state`).
"""

import copy

import numpy as np
import pytest

from dlbook.layers.attention import causal_mask, scaled_dot_product_attention_backward
from dlbook.layers.attention import scaled_dot_product_attention as sdpa
from dlbook.layers.loss import CrossEntropyLoss
from dlbook.layers.multihead import MultiheadAttention
from dlbook.layers.transformer import TransformerDecoderLayer, TransformerEncoderLayer
from dlbook.models.gpt import (GPT, copy_gpt_to_torch, copy_torch_to_gpt,
                               encoder_layer_state_dict, gpt_state_dict, gpt_torch,
                               multihead_state_dict)

torch = pytest.importorskip("torch")
from dlbook.torch_ref import to_numpy, to_torch  # noqa: E402  (imports torch)

TOL = 1e-10
F64 = np.float64
RNG = np.random.default_rng(18)
N, TQ, TK, E, H = 2, 5, 6, 8, 2


def assert_close(ours, theirs, what="", tol=TOL):
    theirs = to_numpy(theirs) if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, err_msg=what)


def randomise(layer):
    for p in layer.params.values():
        p[...] = 0.5 * RNG.normal(size=p.shape)
    return layer


def load(module, state, device):
    """Load our numpy state (torch names) into a float64 torch module on device."""
    module.to(device, torch.float64)
    module.load_state_dict({k: to_torch(v, device) for k, v in state.items()}, strict=True)
    return module


def grads_state(layer, state_fn):
    """Our gradients under torch names: a clone whose parameters are overwritten by the grads."""
    clone = copy.deepcopy(layer)
    for k, p in clone.params.items():
        p[...] = layer.grads[k]
    return state_fn(clone)


def assert_grads_match(layer, module, state_fn, tol=TOL):
    ours = grads_state(layer, state_fn)
    theirs = dict(module.named_parameters())
    assert set(ours) == set(theirs)
    for name, g in ours.items():
        assert_close(g, theirs[name].grad, name, tol)


def random_allowed(shape):
    """A random bool mask (True = may attend) with at least one allowed key per query."""
    m = RNG.random(shape) > 0.4
    m[..., 0] = True
    return m


# scaled dot-product attention ------------------------------------------------

@pytest.mark.parametrize("kind", ["none", "bool", "causal", "scale"])
def test_scaled_dot_product_attention(kind, device):
    q, k, v = RNG.normal(size=(N, H, TQ, 4)), RNG.normal(size=(N, H, TK, 4)), RNG.normal(size=(N, H, TK, 3))
    dout = RNG.normal(size=(N, H, TQ, 3))
    mask = {"bool": random_allowed((N, 1, TQ, TK)), "causal": causal_mask(TQ, TK)}.get(kind)
    scale = 0.3 if kind == "scale" else None
    out, weights = sdpa(q, k, v, mask, scale)
    grads = scaled_dot_product_attention_backward(dout, (q, k, v, weights, scale))
    qt, kt, vt = (to_torch(a, device, requires_grad=True) for a in (q, k, v))
    kwargs = {"is_causal": True} if kind == "causal" else {
        "attn_mask": None if mask is None else torch.as_tensor(mask, device=qt.device), "scale": scale}
    out_t = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, **kwargs)
    out_t.backward(to_torch(dout, device))
    assert_close(out, out_t, "out")
    for name, ours, t in zip("qkv", grads, (qt, kt, vt)):
        assert_close(ours, t.grad, f"d{name}")


# multi-head attention -------------------------------------------------------------------

def torch_mha(ours, device):
    ref = torch.nn.MultiheadAttention(E, H, batch_first=True)
    return load(ref, multihead_state_dict(ours), device)


@pytest.mark.parametrize("cross", [False, True], ids=["self", "cross"])
@pytest.mark.parametrize("masks", ["none", "padding", "attn", "both"])
@pytest.mark.parametrize("average", [True, False], ids=["averaged", "per-head"])
def test_multihead_attention(cross, masks, average, device):
    ours = randomise(MultiheadAttention(E, H, rng=0, dtype=F64))
    ref = torch_mha(ours, device)
    Tk = TK if cross else TQ
    x = RNG.normal(size=(N, TQ, E))
    key, value = (RNG.normal(size=(N, Tk, E)), RNG.normal(size=(N, Tk, E))) if cross else (x, x)
    kpm = attn = None
    if masks in ("padding", "both"):
        kpm = np.zeros((N, Tk), dtype=bool)
        kpm[1, -2:] = True  # the last two keys of example 1 are padding
    if masks in ("attn", "both"):
        attn = random_allowed((TQ, Tk)) if cross else causal_mask(TQ)
    dout = RNG.normal(size=(N, TQ, E))
    out = ours(x, key, value, key_padding_mask=kpm, attn_mask=attn)
    dq, dk, dv = ours.backward(dout)
    xt = to_torch(x, device, requires_grad=True)
    kt, vt = ((to_torch(key, device, requires_grad=True), to_torch(value, device, requires_grad=True))
              if cross else (xt, xt))
    as_t = lambda m: None if m is None else torch.as_tensor(m, device=xt.device)  # noqa: E731
    out_t, w_t = ref(xt, kt, vt, key_padding_mask=as_t(kpm),
                     attn_mask=None if attn is None else as_t(~attn),  # torch: True = NOT allowed
                     need_weights=True, average_attn_weights=average)
    out_t.backward(to_torch(dout, device))
    assert_close(out, out_t, "out")
    assert_close(ours.attn_weights.mean(axis=1) if average else ours.attn_weights, w_t, "weights")
    if cross:
        assert_close(dq, xt.grad, "dquery")
        assert_close(dk, kt.grad, "dkey")
        assert_close(dv, vt.grad, "dvalue")
    else:
        assert_close(dq + dk + dv, xt.grad, "dx")
    assert_grads_match(ours, ref, multihead_state_dict)


# Transformer layers --------------------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("masks", [False, True], ids=["no-mask", "masks"])
def test_transformer_encoder_layer(norm_first, masks, device):
    ours = randomise(TransformerEncoderLayer(E, H, dim_feedforward=12, norm_first=norm_first,
                                             rng=0, dtype=F64))
    ref = torch.nn.TransformerEncoderLayer(E, H, dim_feedforward=12, dropout=0.0,
                                           batch_first=True, norm_first=norm_first)
    load(ref, encoder_layer_state_dict(ours), device)
    x, dout = RNG.normal(size=(N, TQ, E)), RNG.normal(size=(N, TQ, E))
    mask = kpm = None
    if masks:
        mask, kpm = random_allowed((TQ, TQ)), np.zeros((N, TQ), dtype=bool)
        kpm[0, -1] = True
    out = ours(x, src_mask=mask, src_key_padding_mask=kpm)
    dx = ours.backward(dout)
    xt = to_torch(x, device, requires_grad=True)
    as_t = lambda m: None if m is None else torch.as_tensor(m, device=xt.device)  # noqa: E731
    out_t = ref(xt, src_mask=None if mask is None else as_t(~mask), src_key_padding_mask=as_t(kpm))
    out_t.backward(to_torch(dout, device))
    assert_close(out, out_t, "out")
    assert_close(dx, xt.grad, "dx")
    assert_grads_match(ours, ref, encoder_layer_state_dict)


def decoder_layer_state_dict(layer):
    """TransformerDecoderLayer -> torch names: the encoder's, plus multihead_attn and norm3."""
    state = encoder_layer_state_dict(layer)  # self_attn, linear1/2 and every norm_i
    state.update(multihead_state_dict(layer.multihead_attn, "multihead_attn."))
    return state


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_transformer_decoder_layer(norm_first, device):
    ours = randomise(TransformerDecoderLayer(E, H, dim_feedforward=12, norm_first=norm_first,
                                             rng=0, dtype=F64))
    ref = torch.nn.TransformerDecoderLayer(E, H, dim_feedforward=12, dropout=0.0,
                                           batch_first=True, norm_first=norm_first)
    load(ref, decoder_layer_state_dict(ours), device)
    tgt, memory = RNG.normal(size=(N, TQ, E)), RNG.normal(size=(N, TK, E))
    mkpm = np.zeros((N, TK), dtype=bool)
    mkpm[1, -3:] = True
    dout = RNG.normal(size=(N, TQ, E))
    out = ours(tgt, memory, memory_key_padding_mask=mkpm)  # causal self-attention by default
    dtgt, dmem = ours.backward(dout)
    tt, mt = to_torch(tgt, device, requires_grad=True), to_torch(memory, device, requires_grad=True)
    out_t = ref(tt, mt, tgt_mask=torch.as_tensor(~causal_mask(TQ), device=tt.device),
                memory_key_padding_mask=torch.as_tensor(mkpm, device=tt.device))
    out_t.backward(to_torch(dout, device))
    assert_close(out, out_t, "out")
    assert_close(dtgt, tt.grad, "dtgt")
    assert_close(dmem, mt.grad, "dmemory")
    assert_grads_match(ours, ref, decoder_layer_state_dict)


# tiny GPT ------------------------------------------------------------------------

@pytest.mark.parametrize("positional", ["learned", "sinusoidal"])
def test_gpt_matches_its_torch_twin(positional, device):
    ours = randomise(GPT(11, block_size=7, d_model=8, nhead=2, num_layers=2,
                         positional=positional, rng=0, dtype=F64))
    ref = gpt_torch(**ours.config).to(device, torch.float64)
    copy_gpt_to_torch(ours, ref)
    ids, targets = RNG.integers(0, 11, size=(3, 7)), RNG.integers(0, 11, size=(3, 7))
    criterion = CrossEntropyLoss()
    logits = ours(ids)
    loss = criterion(logits.reshape(-1, 11), targets.reshape(-1))
    ours.backward(criterion.backward().reshape(logits.shape))
    ids_t = torch.as_tensor(ids, device=device)
    logits_t = ref(ids_t)
    loss_t = torch.nn.functional.cross_entropy(logits_t.reshape(-1, 11),
                                               torch.as_tensor(targets.reshape(-1), device=device))
    loss_t.backward()
    assert_close(logits, logits_t, "logits", 1e-9)
    assert abs(loss - loss_t.item()) < 1e-9
    assert_grads_match(ours, ref, gpt_state_dict, 1e-9)


def test_copy_torch_to_gpt_round_trip():
    ours = GPT(11, block_size=7, d_model=8, nhead=2, num_layers=1, rng=0, dtype=F64)
    ref = gpt_torch(**ours.config).double()  # torch's own random initialisation
    copy_torch_to_gpt(ref, ours)
    for name, value in gpt_state_dict(ours).items():
        assert_close(value, ref.state_dict()[name], name)
    ids = RNG.integers(0, 11, size=(2, 7))
    with torch.no_grad():
        assert_close(ours(ids), ref(torch.as_tensor(ids)), "logits", 1e-9)
