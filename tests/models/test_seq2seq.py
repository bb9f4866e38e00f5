"""The encoder-decoder of chapter 16: gradients, padding, decoding, PyTorch parity, training.

Gradient checks run on whole models, for every variant (LSTM / GRU, reversed
source, peeky decoder); the batch and tolerances are in seq2seq_checks.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import seq2seq_checks as checks
from seq2seq_checks import (BOS, E, EOS, H, MODEL_TOL, PAD, SRC, TGT, V, loss_and_backward,
                            numeric_errors)

from dlbook.layers import Layer
from dlbook.models.seq2seq import Decoder, Encoder, Seq2Seq, reverse_padded, source_lengths
from dlbook.models.seq2seq_train import (exact_match_ids, exact_match_on, generate_batched,
                                         seq2seq_step, token_accuracies, trim_padding)
from dlbook.optim import SGD, Adam
from dlbook.train import History, Minibatches, fit

VARIANTS = {
    "lstm": {},
    "gru": {"cell": "gru"},
    "lstm-reversed": {"reverse_source": True},
    "lstm-peeky": {"peeky": True},
    "lstm-reversed-peeky": {"reverse_source": True, "peeky": True},
    "gru-reversed-peeky": {"cell": "gru", "reverse_source": True, "peeky": True},
}


def make_model(kwargs, seed=0, scale=0.5) -> Seq2Seq:
    return checks.make_model(Seq2Seq, kwargs, seed, scale)


@pytest.mark.parametrize("variant", VARIANTS)
def test_whole_model_gradients_match_central_differences(variant):
    model = make_model(VARIANTS[variant])
    errors = numeric_errors(model, SRC, TGT)
    assert max(errors.values()) < MODEL_TOL, errors


@pytest.mark.parametrize("variant", VARIANTS)
def test_matches_a_torch_twin_with_copied_weights(variant, device):
    pytest.importorskip("torch")
    checks.assert_matches_torch(make_model(VARIANTS[variant], seed=3), device)


def capture_backward(layer):
    """Record the upstream gradient a layer's backward receives."""
    seen, original = [], layer.backward

    def spy(dout, *args, **kwargs):
        seen.append(np.array(dout, copy=True))
        return original(dout, *args, **kwargs)

    layer.backward = spy
    return seen


@pytest.mark.parametrize("variant", VARIANTS)
def test_padded_positions_get_exactly_zero_gradient(variant):
    model = make_model(VARIANTS[variant])
    enc_seen = capture_backward(model.encoder.embed)
    dec_seen = capture_backward(model.decoder.embed)
    loss_and_backward(model, SRC, TGT)
    src_pad = SRC == PAD  # the reversal keeps the padding at the end
    assert np.all(enc_seen[0][src_pad] == 0.0)
    assert np.all(np.abs(enc_seen[0][~src_pad]).sum(axis=1) > 0)
    # a decoder input at or after <eos> feeds only ignored (padding) labels
    dead = np.cumsum(TGT[:, :-1] == EOS, axis=1) > 0
    assert np.all(dec_seen[0][dead] == 0.0)
    assert np.all(np.abs(dec_seen[0][~dead]).sum(axis=1) > 0)


@pytest.mark.parametrize("variant", ["lstm", "gru-reversed-peeky"])
def test_extra_padding_columns_change_nothing(variant):
    checks.assert_extra_padding_changes_nothing(make_model(VARIANTS[variant]), 3, 2)


def test_context_of_a_padded_row_equals_the_context_of_the_row_alone():
    model = make_model({})
    _, context = model.encoder.forward(SRC, source_lengths(SRC, PAD))
    for n, L in enumerate(source_lengths(SRC, PAD)):
        _, alone = model.encoder.forward(SRC[n:n + 1, :L], np.array([L]))
        np.testing.assert_allclose(context[n], alone[0], atol=1e-14)


def test_gradients_accumulate_until_zero_grad():
    model = make_model({"peeky": True})
    model.zero_grad()
    loss_and_backward(model, SRC, TGT)
    once = {k: v.copy() for k, v in model.grads.items()}
    loss_and_backward(model, SRC, TGT, dout=2.0)  # dout scales the gradient
    for k, g in model.grads.items():
        np.testing.assert_allclose(g, 3 * once[k], atol=1e-14, err_msg=k)
    model.zero_grad()
    assert all(np.all(g == 0) for g in model.grads.values())


def test_reverse_padded_and_source_lengths():
    lengths = source_lengths(SRC, PAD)
    assert lengths.tolist() == [4, 2, 1, 3]
    assert reverse_padded(SRC, lengths).tolist() == [[7, 6, 5, 4], [4, 5, 0, 0], [6, 0, 0, 0],
                                                      [4, 7, 7, 0]]
    assert np.array_equal(reverse_padded(reverse_padded(SRC, lengths), lengths), SRC)


@pytest.mark.parametrize("src,match", [
    (np.array([[0, 4, 5]]), "expected right padding"),
    (np.array([[4, 5], [0, 0]]), "row 1 is all padding"),
    (np.array([4, 5]), r"expected integer ids of shape \(N, T\)"),
    (np.array([[4.0, 5.0]]), r"expected integer ids of shape \(N, T\)"),
])
def test_bad_sources(src, match):
    with pytest.raises(ValueError, match=match):
        make_model({}).forward(src, TGT[:len(src), :-1])


@pytest.mark.parametrize("tgt_in,match", [
    (TGT[:, 1:], "expected every row of tgt_in to start with bos_index=2"),
    (TGT[:2], r"expected tgt_in \(N=4, Tt >= 1\)"),
    (TGT[:, :0], r"expected tgt_in \(N=4, Tt >= 1\)"),
    (TGT.astype(float), "expected integer decoder inputs"),
])
def test_bad_decoder_inputs(tgt_in, match):
    with pytest.raises(ValueError, match=match):
        make_model({}).forward(SRC, tgt_in)


def test_forward_returns_logits_and_backward_returns_none():
    model = make_model({"peeky": True})
    logits = model(SRC, TGT[:, :-1])
    assert logits.shape == (4, TGT.shape[1] - 1, V)
    assert model.backward(np.ones_like(logits)) is None  # token ids get no gradient


def test_bad_constructor_and_generate_arguments():
    with pytest.raises(ValueError, match="Seq2Seq expected eos_index in"):
        Seq2Seq(V, eos_index=V)
    with pytest.raises(ValueError, match="Encoder expected cell in"):
        Seq2Seq(V, cell="rnn")
    with pytest.raises(ValueError, match="Decoder expected cell in"):
        Decoder(V, E, H, cell="transformer")
    with pytest.raises(ValueError, match="Seq2Seq.generate expected max_len >= 1"):
        make_model({}).generate(SRC, 0)
    with pytest.raises(ValueError, match=r"Embedding.forward expected indices in \[0, 7\]"):
        make_model({}).forward(SRC + 5, TGT[:, :-1])
    with pytest.raises(RuntimeError, match="backward called before forward"):
        Encoder(V, E, H).backward(None, np.zeros((1, H)))


def test_generate_stops_at_eos_and_pads_after_it():
    model = make_model({})
    model.decoder.out.params["b"][EOS] = 100.0  # <eos> always wins
    assert model.generate(SRC, 5).tolist() == [[EOS, PAD, PAD, PAD, PAD]] * 4
    model.decoder.out.params["b"][EOS] = 0.0
    model.decoder.out.params["b"][6] = 100.0  # never stops: max_len tokens
    assert model.generate(SRC, 3).tolist() == [[6, 6, 6]] * 4


def test_generate_loop_with_a_scripted_decoder():
    """Rows end at their own <eos>; padding follows; the loop ends when all rows are done."""
    model = make_model({})
    script = [[4, 5, 6, 7], [3, 5, 6, 7], [6, 3, 6, 7], [7, 7, 3, 3]]  # per step, per row
    calls = []

    def step(tokens, state, context):
        calls.append(tokens.copy())
        logits = np.zeros((4, V))
        logits[np.arange(4), script[len(calls) - 1]] = 1.0
        return logits, state

    model.decoder.step = step
    out = model.generate(SRC, 6)
    assert out.tolist() == [[4, 3, 0, 0, 0, 0], [5, 5, 3, 0, 0, 0], [6, 6, 6, 3, 0, 0],
                            [7, 7, 7, 3, 0, 0]]
    assert len(calls) == 4 and calls[0].tolist() == [BOS] * 4
    assert calls[2].tolist() == [EOS, 5, 6, 7]
    assert calls[3].tolist() == [PAD, EOS, 6, 7]  # a finished row is fed padding


@pytest.mark.parametrize("variant", VARIANTS)
def test_greedy_decoding_agrees_with_teacher_forcing_on_its_own_output(variant):
    """Step-by-step decoding and the whole-sequence forward compute the same scores."""
    model = make_model(VARIANTS[variant], scale=1.0)
    out = model.generate(SRC, 6)
    tgt_in = np.concatenate([np.full((4, 1), BOS), out[:, :-1]], axis=1)
    pred = model(SRC, tgt_in).argmax(axis=2)
    real = np.cumsum(out == EOS, axis=1) - (out == EOS) == 0  # up to and including <eos>
    assert np.array_equal(pred[real], out[real])


def test_composite_gathers_parameters_by_name_and_propagates_modes():
    model = make_model({"peeky": True})
    assert isinstance(model, Layer)
    assert "encoder.rnn.W_x" in model.params and "decoder.out.b" in model.params
    assert model.params["decoder.rnn.W_x"].shape == (E + H, 4 * H)  # peeky input
    assert model.params["decoder.out.W"].shape == (2 * H, V)
    assert len(list(model.parameters())) == len(model.params)
    for p, g in model.parameters():
        assert p.shape == g.shape
    model.eval()
    assert not model.training and not model.encoder.rnn.training
    model.train()
    assert model.decoder.embed.training
    assert "(encoder): Encoder(" in repr(model) and "(rnn): LSTM(" in repr(model)


# training helpers ----------------------------------------------------------------------------

def copy_task(n, rng):
    """Copy 1-3 characters: the smallest task an encoder-decoder must learn."""
    lengths = rng.integers(1, 4, size=n)
    seqs = [rng.integers(4, V, size=L) for L in lengths]
    src = np.zeros((n, 3), np.int64)
    tgt = np.zeros((n, 5), np.int64)
    for i, s in enumerate(seqs):
        src[i, :len(s)] = s
        tgt[i, :len(s) + 2] = [BOS, *s, EOS]
    return src, tgt


def test_fit_with_the_seq2seq_step_learns_to_copy():
    rng = np.random.default_rng(0)
    src, tgt = copy_task(300, rng)
    model = Seq2Seq(V, 8, 24, peeky=True, rng=1)
    history = fit(model, Minibatches(src, tgt, 32, rng=2), Adam(list(model.parameters()), lr=0.02),
                  epochs=12, step=seq2seq_step, clip_norm=5.0,
                  metrics=[exact_match_on(val=(src[:100], tgt[:100]))])
    assert isinstance(history, History)
    assert len(history.epoch_loss) == len(history.val_exact) == 12
    assert len(history.loss) == len(history.grad_norm) == 12 * 10  # one per update (300 / 32)
    assert history.epoch_loss[-1] < 0.5 * history.epoch_loss[0]
    assert history.val_exact[-1] > 0.8
    assert exact_match_ids(model, src[:100], tgt[:100]) == pytest.approx(history.val_exact[-1])
    tf, free = token_accuracies(model, src[:100], tgt[:100])
    assert 0.8 < free <= 1.0 and 0.8 < tf <= 1.0
    assert model.training


def test_seq2seq_step_trims_padding_and_backpropagates_the_teacher_forced_loss():
    """The step's loss and gradients equal those of the trimmed batch; fit's update uses them."""
    model = make_model({"peeky": True})
    wide_src, wide_tgt = np.pad(SRC, ((0, 0), (0, 2))), np.pad(TGT, ((0, 0), (0, 3)))
    model.zero_grad()
    value = seq2seq_step(model, (wide_src, wide_tgt))
    grads = {k: g.copy() for k, g in model.grads.items()}
    model.zero_grad()
    assert value == pytest.approx(loss_and_backward(model, SRC, TGT), abs=1e-14)
    for k, g in model.grads.items():
        np.testing.assert_allclose(grads[k], g, atol=1e-14, err_msg=k)
    before = {k: p.copy() for k, p in model.params.items()}
    history = fit(model, [(SRC, TGT)], SGD(list(model.parameters()), lr=0.1), step=seq2seq_step)
    assert history.loss == [pytest.approx(value, abs=1e-14)]
    for k, p in model.params.items():  # one plain SGD step along the step's gradient
        np.testing.assert_allclose(p, before[k] - 0.1 * grads[k], atol=1e-12, err_msg=k)


def test_exact_match_and_token_accuracies_on_known_outputs():
    model = make_model({})
    model.decoder.out.params["b"][EOS] = 100.0  # always answers "" (<eos> at once)
    src = SRC[:2]
    tgt = np.array([[2, 3, 0], [2, 4, 3]])  # "" and "a"
    assert exact_match_ids(model, src, tgt) == 0.5
    tf, free = token_accuracies(model, src, tgt)
    # teacher forcing reads the true "a" and then gets <eos> right; free running never sees "a"
    assert tf == pytest.approx(2 / 3) and free == pytest.approx(1 / 3)
    assert generate_batched(model, SRC, 2, batch_size=3).shape == (4, 2)


def test_trim_padding_and_bad_training_arguments():
    assert trim_padding(np.array([[4, 5, 0, 0], [4, 0, 0, 0]]), 0).tolist() == [[4, 5], [4, 0]]
    assert trim_padding(np.zeros((2, 3), np.int64), 0).shape == (2, 1)
    model = make_model({})
    with pytest.raises(ValueError, match="seq2seq_step expected src"):
        seq2seq_step(model, (SRC, TGT[:2]))
    with pytest.raises(TypeError, match=r"seq2seq_step expected a pair \(src, tgt\)"):
        seq2seq_step(model, SRC)
    with pytest.raises(TypeError, match="of length 3"):
        seq2seq_step(model, (SRC, TGT, TGT))
    with pytest.raises(ValueError, match=r"exact_match_on \(val\) expected src"):
        exact_match_on(val=(SRC, TGT[:1]))
    with pytest.raises(ValueError, match="Minibatches expected X and y with the same length"):
        Minibatches(SRC, TGT[:2])
    with pytest.raises(ValueError, match="exact_match_ids expected src"):
        exact_match_ids(model, SRC[0], TGT[0])
    assert exact_match_on(val=(SRC, TGT), train=(SRC[:2], TGT[:2]))(model).keys() == {
        "val_exact", "train_exact"}
