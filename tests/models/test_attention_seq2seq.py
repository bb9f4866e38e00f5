"""The attention encoder-decoder of chapter 17: gradients, masking, decoding, PyTorch parity."""

from __future__ import annotations

import numpy as np
import pytest
import seq2seq_checks as checks
from seq2seq_checks import (BOS, E, EOS, H, MODEL_TOL, PAD, SRC, TGT, V, loss_and_backward,
                            numeric_errors)

from dlbook.models.attention_seq2seq import AttentionDecoder, AttentionSeq2Seq, source_mask
from dlbook.models.seq2seq_train import exact_match_ids, seq2seq_step
from dlbook.optim import Adam
from dlbook.train import Minibatches, fit

VARIANTS = {
    "lstm": {},
    "gru": {"cell": "gru"},
    "lstm-reversed": {"reverse_source": True},
    "lstm-scaled": {"scale": None},  # 1/sqrt(H), the Transformer's choice (chapter 18)
}


def make_model(kwargs, seed=0, scale=0.5) -> AttentionSeq2Seq:
    return checks.make_model(AttentionSeq2Seq, kwargs, seed, scale)


@pytest.mark.parametrize("variant", VARIANTS)
def test_whole_model_gradients_match_central_differences(variant):
    errors = numeric_errors(make_model(VARIANTS[variant]), SRC, TGT)
    assert max(errors.values()) < MODEL_TOL, errors


@pytest.mark.parametrize("variant", VARIANTS)
def test_matches_a_torch_twin_using_torch_scaled_dot_product_attention(variant, device):
    pytest.importorskip("torch")
    checks.assert_matches_torch(make_model(VARIANTS[variant], seed=4), device)


def test_padded_source_positions_get_zero_weight_and_the_weights_sum_to_one():
    model = make_model({})
    model.forward(SRC, TGT[:, :-1])
    w = model.attn_weights
    assert w.shape == (4, TGT.shape[1] - 1, SRC.shape[1])
    pad = np.broadcast_to((SRC == PAD)[:, None, :], w.shape)
    assert np.all(w[pad] == 0.0) and np.all(w[~pad] > 0.0)
    np.testing.assert_allclose(w.sum(axis=2), 1.0, atol=1e-12)


def test_encoder_outputs_at_padded_positions_get_exactly_zero_gradient():
    model = make_model({})
    seen, original = [], model.encoder.rnn.backward
    model.encoder.rnn.backward = lambda dout, *a: (seen.append(dout.copy()), original(dout, *a))[1]
    loss_and_backward(model, SRC, TGT)
    pad = SRC == PAD
    assert np.all(seen[0][pad] == 0.0)
    assert np.all(np.abs(seen[0][~pad]).sum(axis=1) > 0)  # every real position is attended


def test_extra_source_padding_changes_nothing():
    checks.assert_extra_padding_changes_nothing(make_model({"cell": "gru"}), 3, 1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_greedy_decoding_agrees_with_teacher_forcing_and_records_the_weights(variant):
    model = make_model(VARIANTS[variant], scale=1.0)
    out = model.generate(SRC, 6)
    gen_w = model.last_attention
    assert gen_w.shape == (4, 6, SRC.shape[1])
    tgt_in = np.concatenate([np.full((4, 1), BOS), out[:, :-1]], axis=1)
    pred = model(SRC, tgt_in).argmax(axis=2)
    live = np.cumsum(out == EOS, axis=1) - (out == EOS) == 0  # up to and including <eos>
    assert np.array_equal(pred[live], out[live])
    np.testing.assert_allclose(gen_w[live], model.attn_weights[live], atol=1e-12)
    assert np.all(gen_w[~live] == 0.0)  # nothing recorded after <eos>
    np.testing.assert_allclose(gen_w[live].sum(axis=1), 1.0, atol=1e-12)


def test_generate_stops_at_eos():
    model = make_model({})
    model.decoder.out.params["b"][EOS] = 100.0
    assert model.generate(SRC, 4).tolist() == [[EOS, PAD, PAD, PAD]] * 4
    assert np.all(model.last_attention[:, 1:] == 0.0)


def test_source_mask_and_parameters():
    assert source_mask(np.array([2, 1]), 3).tolist() == [[[True, True, False]], [[True, False, False]]]
    model = make_model({})
    assert model.params["decoder.out.W"].shape == (2 * H, V)  # [c_t; h_t] -> scores
    assert model.decoder.scale == 1.0 and not model.peeky
    assert isinstance(model.decoder, AttentionDecoder)


def test_bad_inputs():
    model = make_model({})
    with pytest.raises(ValueError, match="AttentionSeq2Seq expected right padding"):
        model.forward(np.array([[0, 4]]), TGT[:1, :-1])
    with pytest.raises(ValueError, match="AttentionDecoder expected cell in"):
        AttentionDecoder(V, E, H, cell="lstm2")
    with pytest.raises(RuntimeError, match="AttentionDecoder.backward called before forward"):
        AttentionDecoder(V, E, H).backward(np.zeros((1, 2, V)))
    with pytest.raises(ValueError, match="AttentionSeq2Seq.forward expected every row of tgt_in"):
        model.forward(SRC, TGT[:, 1:])


def test_attention_learns_to_reverse_a_sequence():
    """Reversal needs the source position that mirrors the target position: attention finds it."""
    rng = np.random.default_rng(0)
    n, L = 300, 4
    seqs = rng.integers(4, V, size=(n, L))
    src = seqs
    tgt = np.concatenate([np.full((n, 1), BOS), seqs[:, ::-1], np.full((n, 1), EOS)], axis=1)
    model = AttentionSeq2Seq(V, 8, 24, rng=1)
    history = fit(model, Minibatches(src, tgt, 32, rng=2), Adam(list(model.parameters()), lr=0.02),
                  epochs=10, step=seq2seq_step, clip_norm=5.0)
    assert history.epoch_loss[-1] < 0.3 * history.epoch_loss[0]
    assert exact_match_ids(model, src[:100], tgt[:100]) > 0.8
    model.generate(src[:50], L + 1)
    first = model.last_attention[:, 0].argmax(axis=1)  # where the first output looks
    assert np.mean(first == L - 1) > 0.5
