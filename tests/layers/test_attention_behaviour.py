"""Chapter 18 behaviour: masks (exact zeros), causality, positional encoding, generation, errors, plots."""

import numpy as np
import pytest

from dlbook.layers.attention import (ScaledDotProductAttention, causal_mask, masked_softmax,
                                     scaled_dot_product_attention,
                                     scaled_dot_product_attention_backward)
from dlbook.layers.multihead import MultiheadAttention
from dlbook.layers.positional import PositionalEncoding, sinusoidal_positional_encoding
from dlbook.layers.transformer import FeedForward, TransformerDecoderLayer, TransformerEncoderLayer
from dlbook.models.gpt import GPT
from dlbook.plot.attention import plot_attention

F64 = np.float64
RNG = np.random.default_rng(0)


# masks: exact zeros, no NaN ----------------------------------------------------------

def test_causal_mask():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    assert causal_mask(2, 4).shape == (2, 4) and causal_mask(4).dtype == bool


def test_masked_positions_get_exactly_zero_weight_and_gradient():
    q, k, v = RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 5, 3)), RNG.normal(size=(2, 5, 2))
    mask = RNG.random((2, 4, 5)) > 0.5
    mask[:, :, 0] = True
    mask[:, :, 4] = False  # key 4 is never attended to
    out, w = scaled_dot_product_attention(q, k, v, mask)
    assert np.all(w[~mask] == 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0)
    dq, dk, dv = scaled_dot_product_attention_backward(RNG.normal(size=out.shape), (q, k, v, w, None))
    assert np.all(dk[:, 4] == 0.0) and np.all(dv[:, 4] == 0.0)
    k2, v2 = k.copy(), v.copy()
    k2[:, 4], v2[:, 4] = 1e6, -1e6  # what a masked key holds cannot matter
    np.testing.assert_array_equal(scaled_dot_product_attention(q, k2, v2, mask)[0], out)


def test_fully_masked_row_gives_zeros_not_nan():
    q, k, v = RNG.normal(size=(3, 2)), RNG.normal(size=(4, 2)), RNG.normal(size=(4, 2))
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    out, w = scaled_dot_product_attention(q, k, v, mask)
    assert np.isfinite(out).all() and np.all(w[1] == 0) and np.all(out[1] == 0)
    dq, dk, dv = scaled_dot_product_attention_backward(np.ones_like(out), (q, k, v, w, None))
    assert np.all(dq[1] == 0) and np.isfinite(dk).all()
    assert np.all(masked_softmax(np.zeros((2, 3)), np.zeros((2, 3), dtype=bool)) == 0)


def test_multihead_padding_keys_get_zero_weight_and_gradient():
    mha = MultiheadAttention(8, 2, rng=0, dtype=F64)
    x = RNG.normal(size=(2, 5, 8))
    kpm = np.zeros((2, 5), dtype=bool)
    kpm[0, 3:] = True
    mha(x, x, x, key_padding_mask=kpm)
    assert np.all(mha.attn_weights[0, :, :, 3:] == 0)
    _, dkey, dvalue = mha.backward(RNG.normal(size=(2, 5, 8)))
    assert np.all(dkey[0, 3:] == 0) and np.all(dvalue[0, 3:] == 0)
    assert np.any(dkey[1, 3:] != 0)


def test_default_scale_is_one_over_sqrt_d_and_rows_sum_to_one():
    q, k, v = RNG.normal(size=(4, 9)), RNG.normal(size=(6, 9)), RNG.normal(size=(6, 2))
    out, w = scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out, scaled_dot_product_attention(q, k, v, scale=1 / 3)[0])
    np.testing.assert_allclose(w.sum(axis=-1), 1.0)
    layer = ScaledDotProductAttention()
    np.testing.assert_allclose(layer(q, k, v), out)
    np.testing.assert_allclose(layer.attn_weights, w)


def test_attention_without_positions_is_permutation_equivariant():
    x, perm = RNG.normal(size=(1, 6, 8)), RNG.permutation(6)
    mha = MultiheadAttention(8, 2, rng=1, dtype=F64)
    np.testing.assert_allclose(mha(x, x, x)[:, perm], mha(x[:, perm], x[:, perm], x[:, perm]))


# causality: output t depends only on inputs <= t -------------------------------------

def changed_positions(f, x, t):
    """Positions of f(x) that change when input position t is perturbed (not by a constant:
    LayerNorm would remove that)."""
    x2 = x.copy()
    x2[:, t] += np.linspace(-1.0, 2.0, x.shape[-1])
    diff = np.abs(f(x2) - f(x)).reshape(x.shape[0], x.shape[1], -1).max(axis=(0, 2))
    return set(np.flatnonzero(diff).tolist())


@pytest.mark.parametrize("which", ["attention", "multihead", "encoder-post", "encoder-pre", "decoder"])
def test_causal_outputs_depend_only_on_the_past(which):
    T = 6
    x = RNG.normal(size=(2, T, 8))
    memory = RNG.normal(size=(2, 3, 8))
    f = {
        "attention": lambda z: scaled_dot_product_attention(z, z, z, causal_mask(T))[0],
        "multihead": lambda z: MultiheadAttention(8, 2, rng=0)(z, z, z, attn_mask=causal_mask(T)),
        "encoder-post": lambda z: TransformerEncoderLayer(8, 2, 16, rng=0)(z, is_causal=True),
        "encoder-pre": lambda z: TransformerEncoderLayer(8, 2, 16, norm_first=True, rng=0)(z, is_causal=True),
        "decoder": lambda z: TransformerDecoderLayer(8, 2, 16, rng=0)(z, memory),
    }[which]
    for t in range(T):
        assert changed_positions(f, x, t) == set(range(t, T)), f"perturbing position {t}"


def test_gpt_logits_at_t_ignore_later_tokens():
    model = GPT(10, block_size=6, d_model=8, nhead=2, num_layers=2, rng=0)
    ids = RNG.integers(0, 10, size=(2, 6))
    for t in range(6):
        ids2 = ids.copy()
        ids2[:, t] = (ids2[:, t] + 1) % 10
        diff = np.abs(model(ids2) - model(ids)).max(axis=(0, 2))
        assert np.all(diff[:t] == 0) and np.all(diff[t:] > 0)


def test_encoder_without_mask_is_not_causal():
    x = RNG.normal(size=(1, 4, 8))
    f = TransformerEncoderLayer(8, 2, 16, rng=0)
    assert changed_positions(f, x, 3) == {0, 1, 2, 3}


# positional encoding ---------------------------------------------------------------

def test_sinusoidal_positional_encoding():
    pe = sinusoidal_positional_encoding(50, 8, dtype=F64)
    np.testing.assert_allclose(pe[0], [0, 1] * 4)  # sin 0 = 0, cos 0 = 1
    np.testing.assert_allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, 1.0)  # points on circles
    np.testing.assert_allclose(pe[7, 2:4], [np.sin(7 / 10000 ** 0.25), np.cos(7 / 10000 ** 0.25)])
    assert sinusoidal_positional_encoding(3, 5).shape == (3, 5)
    assert sinusoidal_positional_encoding(3, 5).dtype == np.float32
    # PE[t + k] is a rotation of PE[t] that depends on k only
    omega = 10000 ** (-np.arange(0, 8, 2) / 8)
    for t, k in [(3, 5), (10, 5), (20, 2)]:
        c, s = np.cos(k * omega), np.sin(k * omega)
        sin_t, cos_t = pe[t, 0::2], pe[t, 1::2]
        np.testing.assert_allclose(pe[t + k, 0::2], sin_t * c + cos_t * s, atol=1e-12)
        np.testing.assert_allclose(pe[t + k, 1::2], cos_t * c - sin_t * s, atol=1e-12)


def test_positional_encoding_layer_adds_the_table_and_passes_gradients():
    layer = PositionalEncoding(6, max_len=10)
    x = RNG.normal(size=(2, 4, 6)).astype(np.float32)
    np.testing.assert_allclose(layer(x), x + sinusoidal_positional_encoding(4, 6))
    dout = RNG.normal(size=(2, 4, 6))
    np.testing.assert_array_equal(layer.backward(dout), dout)
    drop = PositionalEncoding(6, dropout=0.5, rng=0)
    assert np.any(drop(x) == 0) and np.all(drop.eval()(x) != 0)


# Transformer layers and containers ----------------------------------------------------

def test_post_norm_output_is_normalised_and_train_eval_reach_sublayers():
    layer = TransformerEncoderLayer(8, 2, 16, dropout=0.5, rng=0, dtype=F64)
    x = RNG.normal(size=(2, 3, 8))
    y = layer.eval()(x)
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=-1), 1, atol=1e-4)  # LayerNorm with gamma 1, beta 0
    assert not any(m.training for m in layer.modules())
    np.testing.assert_array_equal(layer(x), y)  # no dropout in evaluation
    assert layer.train().ff.dropout.training
    assert "self_attn.q_proj.W" in layer.params and "ff.linear1.W" in layer.params
    assert "norm2.gamma" in layer.grads and len(list(layer.parameters())) == len(layer.params)


def test_feed_forward_acts_on_each_position_alone():
    ff = FeedForward(4, 8, rng=0, dtype=F64)
    x = RNG.normal(size=(2, 5, 4))
    np.testing.assert_allclose(ff(x)[:, 2], ff(x[:, 2:3])[:, 0])


# GPT -------------------------------------------------------------------------------

def test_gpt_generate_is_seeded_and_restores_the_mode():
    model = GPT(12, block_size=5, d_model=8, nhead=2, num_layers=1, dropout=0.1, rng=0)
    prompt = np.array([1, 2, 3])
    a = model.generate(prompt, 9, rng=7)
    assert a.shape == (12,) and np.all(a[:3] == prompt) and a.max() < 12
    np.testing.assert_array_equal(a, model.generate(prompt, 9, rng=7))
    assert model.training  # back in training mode
    batch = model.generate(np.array([[1, 2], [3, 4]]), 4, temperature=0.5, rng=1)
    assert batch.shape == (2, 6)
    greedy = model.generate(prompt, 1, top_k=1, rng=3)[-1]
    model.eval()
    assert greedy == np.argmax(model(prompt[None])[0, -1])


def test_gpt_parameter_names_and_count():
    model = GPT(20, block_size=8, d_model=16, nhead=4, num_layers=2, rng=0)
    E, F, V = 16, 64, 20
    block = 4 * E * E + 4 * E + 2 * E * F + F + E + 4 * E
    assert sum(p.size for p in model.params.values()) == V * E + 8 * E + 2 * block + 2 * E + E * V + V
    assert "pos_emb.W" not in GPT(20, 8, 16, 4, 1, positional="sinusoidal", rng=0).params
    pytest.importorskip("torch")
    from dlbook.twins import torch_state_dict
    assert set(torch_state_dict(model)) >= {"tok_emb.weight", "pos_emb.weight", "head.weight",
                                            "blocks.1.self_attn.in_proj_weight"}


# errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, match", [
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 3))),
     ValueError, "q .*, k .*, v"),
    (lambda: scaled_dot_product_attention(np.ones(3), np.ones(3), np.ones(3)), ValueError, "at least 2 axes"),
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 1)),
                                          mask=np.ones((2, 4))), TypeError, "bool mask"),
    (lambda: scaled_dot_product_attention(np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 1)),
                                          mask=np.ones((3, 4), bool)), ValueError, r"broadcastable .*\(2, 4\)"),
    (lambda: scaled_dot_product_attention(np.array([["a"]]), np.ones((1, 1)), np.ones((1, 1))),
     TypeError, "real-valued"),
    (lambda: scaled_dot_product_attention_backward(np.ones((2, 2)), (np.ones((2, 3)), np.ones((4, 3)),
                                                   np.ones((4, 1)), np.ones((2, 4)), None)),
     ValueError, r"dout of shape \(2, 1\)"),
    (lambda: causal_mask(0), ValueError, "T >= 1"),
    (lambda: ScaledDotProductAttention().backward(np.ones((1, 1))), RuntimeError, "before forward"),
    (lambda: MultiheadAttention(6, 4), ValueError, "divisible"),
    (lambda: MultiheadAttention(4, 2)(np.ones((1, 2, 3)), np.ones((1, 2, 4)), np.ones((1, 2, 4))),
     ValueError, r"query of shape \(N, T, 4\)"),
    (lambda: MultiheadAttention(4, 2)(np.ones((1, 2, 4)), np.ones((1, 3, 4)), np.ones((1, 2, 4))),
     ValueError, "key and value"),
    (lambda: MultiheadAttention(4, 2)(*[np.ones((1, 2, 4))] * 3, key_padding_mask=np.ones((1, 3), bool)),
     ValueError, "key_padding_mask of shape"),
    (lambda: MultiheadAttention(4, 2)(*[np.ones((1, 2, 4))] * 3, attn_mask=np.ones((2, 2))),
     ValueError, "attn_mask .* dtype bool"),
    (lambda: MultiheadAttention(4, 2).backward(np.ones((1, 2, 4))), RuntimeError, "before forward"),
    (lambda: PositionalEncoding(4, max_len=3)(np.ones((1, 5, 4))), ValueError, "max_len = 3"),
    (lambda: sinusoidal_positional_encoding(4, 0), ValueError, "E >= 1"),
    (lambda: TransformerEncoderLayer(4, 2, 8)(np.ones((1, 3, 5))), ValueError, r"src of shape \(N, T, 4\)"),
    (lambda: TransformerDecoderLayer(4, 2, 8)(np.ones((1, 3, 4)), np.ones((2, 3, 4))),
     ValueError, "batch size of tgt"),
    (lambda: GPT(5, 4, 8, 2, 1, rng=0)(np.zeros((1, 5), int)), ValueError, "block_size = 4"),
    (lambda: GPT(5, 4, 8, 2, 1, positional="rotary"), ValueError, "positional"),
    (lambda: GPT(5, 4, 8, 2, 1, rng=0).generate(np.array([1]), 2, temperature=0), ValueError, "temperature"),
    (lambda: GPT(5, 4, 8, 2, 1, rng=0)(np.zeros((1, 3))), TypeError, "integer token indices"),
])
def test_bad_input_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# plot ------------------------------------------------------------------------------------

def test_plot_attention(plt):
    w = masked_softmax(RNG.normal(size=(3, 4)), causal_mask(3, 4))
    ax = plot_attention(w, x_labels="abcd", y_labels=["x", "y", "z"], title="causal")
    assert ax.get_title() == "causal" and len(ax.images) == 1
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcd")
    _, ax2 = plt.subplots()
    assert plot_attention(w, ax=ax2, colorbar=False) is ax2
    with pytest.raises(ValueError, match=r"weights of shape \(Tq, Tk\)"):
        plot_attention(np.ones(3))
    with pytest.raises(ValueError, match="4 x_labels"):
        plot_attention(w, x_labels="abc")
