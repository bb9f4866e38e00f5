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

The twins come from :func:`dlbook.twins.to_torch` (parameter names mapped by
its registry); :func:`dlbook.twins.torch_grads` gives torch's gradients under
our names.
"""

import numpy as np
import pytest

from dlbook.layers.attention import causal_mask, scaled_dot_product_attention_backward
from dlbook.layers.attention import scaled_dot_product_attention as sdpa
from dlbook.layers.loss import CrossEntropyLoss
from dlbook.layers.multihead import MultiheadAttention
from dlbook.layers.transformer import TransformerDecoderLayer, TransformerEncoderLayer
from dlbook.models.gpt import GPT

torch = pytest.importorskip("torch")
from dlbook.twins import as_tensor, to_torch, torch_grads  # noqa: E402  (imports torch)

from parity import assert_close  # noqa: E402

TOL = 1e-10
F64 = np.float64
RNG = np.random.default_rng(18)
N, TQ, TK, E, H = 2, 5, 6, 8, 2


def randomise(layer):
    for p in layer.params.values():
        p[...] = 0.5 * RNG.normal(size=p.shape)
    return layer


def assert_grads_match(layer, module, tol=TOL):
    """Every parameter gradient of the twin (under our names) equals ours."""
    theirs = torch_grads(layer, module)
    assert set(theirs) == set(layer.grads)
    for name, g in theirs.items():
        assert_close(layer.grads[name], g, name, tol)


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
    qt, kt, vt = (as_tensor(a, device, requires_grad=True) for a in (q, k, v))
    kwargs = {"is_causal": True} if kind == "causal" else {
        "attn_mask": None if mask is None else torch.as_tensor(mask, device=qt.device), "scale": scale}
    out_t = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, **kwargs)
    out_t.backward(as_tensor(dout, device))
    assert_close(out, out_t, "out")
    for name, ours, t in zip("qkv", grads, (qt, kt, vt)):
        assert_close(ours, t.grad, f"d{name}")


# multi-head attention -------------------------------------------------------------------

@pytest.mark.parametrize("cross", [False, True], ids=["self", "cross"])
@pytest.mark.parametrize("masks", ["none", "padding", "attn", "both"])
@pytest.mark.parametrize("average", [True, False], ids=["averaged", "per-head"])
def test_multihead_attention(cross, masks, average, device):
    ours = randomise(MultiheadAttention(E, H, rng=0, dtype=F64))
    ref = to_torch(ours, device)
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
    xt = as_tensor(x, device, requires_grad=True)
    kt, vt = ((as_tensor(key, device, requires_grad=True), as_tensor(value, device, requires_grad=True))
              if cross else (xt, xt))
    as_t = lambda m: None if m is None else torch.as_tensor(m, device=xt.device)  # noqa: E731
    out_t, w_t = ref(xt, kt, vt, key_padding_mask=as_t(kpm),
                     attn_mask=None if attn is None else as_t(~attn),  # torch: True = NOT allowed
                     need_weights=True, average_attn_weights=average)
    out_t.backward(as_tensor(dout, device))
    assert_close(out, out_t, "out")
    assert_close(ours.attn_weights.mean(axis=1) if average else ours.attn_weights, w_t, "weights")
    if cross:
        assert_close(dq, xt.grad, "dquery")
        assert_close(dk, kt.grad, "dkey")
        assert_close(dv, vt.grad, "dvalue")
    else:
        assert_close(dq + dk + dv, xt.grad, "dx")
    assert_grads_match(ours, ref)


# Transformer layers --------------------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("masks", [False, True], ids=["no-mask", "masks"])
def test_transformer_encoder_layer(norm_first, masks, device):
    ours = randomise(TransformerEncoderLayer(E, H, dim_feedforward=12, norm_first=norm_first,
                                             rng=0, dtype=F64))
    ref = to_torch(ours, device)  # torch.nn.TransformerEncoderLayer(batch_first=True)
    x, dout = RNG.normal(size=(N, TQ, E)), RNG.normal(size=(N, TQ, E))
    mask = kpm = None
    if masks:
        mask, kpm = random_allowed((TQ, TQ)), np.zeros((N, TQ), dtype=bool)
        kpm[0, -1] = True
    out = ours(x, src_mask=mask, src_key_padding_mask=kpm)
    dx = ours.backward(dout)
    xt = as_tensor(x, device, requires_grad=True)
    as_t = lambda m: None if m is None else torch.as_tensor(m, device=xt.device)  # noqa: E731
    out_t = ref(xt, src_mask=None if mask is None else as_t(~mask), src_key_padding_mask=as_t(kpm))
    out_t.backward(as_tensor(dout, device))
    assert_close(out, out_t, "out")
    assert_close(dx, xt.grad, "dx")
    assert_grads_match(ours, ref)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_transformer_decoder_layer(norm_first, device):
    ours = randomise(TransformerDecoderLayer(E, H, dim_feedforward=12, norm_first=norm_first,
                                             rng=0, dtype=F64))
    ref = to_torch(ours, device)  # torch.nn.TransformerDecoderLayer(batch_first=True)
    tgt, memory = RNG.normal(size=(N, TQ, E)), RNG.normal(size=(N, TK, E))
    mkpm = np.zeros((N, TK), dtype=bool)
    mkpm[1, -3:] = True
    dout = RNG.normal(size=(N, TQ, E))
    out = ours(tgt, memory, memory_key_padding_mask=mkpm)  # causal self-attention by default
    dtgt, dmem = ours.backward(dout)
    tt, mt = as_tensor(tgt, device, requires_grad=True), as_tensor(memory, device, requires_grad=True)
    out_t = ref(tt, mt, tgt_mask=torch.as_tensor(~causal_mask(TQ), device=tt.device),
                memory_key_padding_mask=torch.as_tensor(mkpm, device=tt.device))
    out_t.backward(as_tensor(dout, device))
    assert_close(out, out_t, "out")
    assert_close(dtgt, tt.grad, "dtgt")
    assert_close(dmem, mt.grad, "dmemory")
    assert_grads_match(ours, ref)


# tiny GPT ------------------------------------------------------------------------

@pytest.mark.parametrize("positional", ["learned", "sinusoidal"])
def test_gpt_matches_its_torch_twin(positional, device):
    ours = randomise(GPT(11, block_size=7, d_model=8, nhead=2, num_layers=2,
                         positional=positional, rng=0, dtype=F64))
    ref = to_torch(ours, device)
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
    assert_grads_match(ours, ref, 1e-9)
