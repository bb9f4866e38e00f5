"""The encoder-decoder Transformer (dlbook.models.transformer_seq2seq) and chapter 18's training pieces.

Gradients are checked in tests/layers/test_attention_gradcheck.py, PyTorch parity in
tests/twins/test_twins.py; here: masking, causality, greedy decoding, errors, and
the helpers of dlbook.models.transformer_train (PerUpdate, RandomWindows,
next_token_step) driving dlbook.train.fit.
"""

import numpy as np
import pytest

from dlbook.layers.loss import CrossEntropyLoss
from dlbook.models.gpt import GPT
from dlbook.models.seq2seq_train import exact_match_ids, seq2seq_step
from dlbook.models.transformer_seq2seq import TransformerSeq2Seq
from dlbook.models.transformer_train import PerUpdate, RandomWindows, next_token_step
from dlbook.optim import Adam, WarmupCosineLR
from dlbook.train import Minibatches, fit

F64 = np.float64
SRC = np.array([[4, 5, 6, 7], [5, 4, 0, 0]])
TGT_IN = np.array([[2, 4, 5, 6], [2, 6, 3, 0]])


def model(**kw):
    args = dict(vocab_size=9, d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                dim_feedforward=12, rng=0, dtype=F64)
    return TransformerSeq2Seq(**{**args, **kw})


@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
def test_extra_source_padding_changes_nothing(positional):
    m = model(positional=positional)
    padded = np.concatenate([SRC, np.zeros((2, 3), dtype=SRC.dtype)], axis=1)
    np.testing.assert_allclose(m(padded, TGT_IN), m(SRC, TGT_IN), atol=1e-12)


def test_logits_at_t_ignore_later_target_tokens():
    m = model()
    base = m(SRC, TGT_IN)
    changed = TGT_IN.copy()
    changed[:, 2:] = 8
    np.testing.assert_array_equal(m(SRC, changed)[:, :2], base[:, :2])
    assert not np.allclose(m(SRC, changed)[:, 2:], base[:, 2:])


def test_generate_is_greedy_pads_after_eos_and_restores_mode():
    m = model(dropout=0.2)
    out = m.generate(SRC, 5)
    assert out.shape == (2, 5) and out.dtype == np.int64 and m.training
    m.eval()
    first = m(SRC, np.full((2, 1), m.bos_index)).argmax(axis=-1)[:, 0]
    np.testing.assert_array_equal(out[:, 0], first)  # step 1 is the argmax after <bos>
    for row in out:
        ends = np.flatnonzero(row == m.eos_index)
        if len(ends):
            assert np.all(row[ends[0] + 1:] == m.pad_index)
    assert m.last_cross_attention.shape[:2] == (2, 2) and m.last_cross_attention.shape[3] == 4
    assert np.all(m.last_cross_attention[1, :, :, 2:] == 0)  # padding gets no weight


def test_parameter_names_and_state_dict_round_trip(tmp_path):
    import dlbook

    m = model(positional="learned")
    names = dict(m.named_parameters())
    assert {"src_emb.W", "tgt_pos.W", "encoder_layers.1.self_attn.q_proj.W",
            "decoder_layers.0.multihead_attn.out_proj.b", "encoder_norm.gamma", "head.W"} <= set(names)
    assert "src_pos.W" not in dict(model().named_parameters())
    dlbook.save(m, tmp_path / "m.npz")
    other = model(positional="learned", rng=1)
    other.load_state_dict(dlbook.load(tmp_path / "m.npz"))
    np.testing.assert_array_equal(other(SRC, TGT_IN), m(SRC, TGT_IN))


def test_learns_to_reverse_three_tokens_with_fit_and_a_warmup():
    rng = np.random.default_rng(0)
    body = rng.integers(4, 9, size=(400, 3))
    src = body
    tgt = np.concatenate([np.full((400, 1), 2), body[:, ::-1], np.full((400, 1), 3)], axis=1)
    m = TransformerSeq2Seq(9, 32, 4, 1, 1, 64, rng=0)
    opt = Adam(list(m.parameters()), lr=3e-3)
    hist = fit(m, PerUpdate(Minibatches(src, tgt, 32, rng=1)), opt, epochs=None, max_steps=150,
               step=seq2seq_step, scheduler=WarmupCosineLR(opt, 15, 150), clip_norm=1.0)
    assert len(hist.loss) == 150 and hist.lr[0] == pytest.approx(3e-3 / 15)
    assert np.mean(hist.loss[-10:]) < 0.2 * np.mean(hist.loss[:10])
    assert exact_match_ids(m, src[:100], tgt[:100]) > 0.9


@pytest.mark.parametrize("call, error, match", [
    (lambda: model(positional="rotary"), ValueError, "positional in"),
    (lambda: model(max_len=3)(SRC, TGT_IN), ValueError, "max_len = 3"),
    (lambda: model()(SRC[:1], TGT_IN), ValueError, "same batch size"),
    (lambda: model()(SRC[0], TGT_IN), ValueError, r"src ids of shape \(N, T\)"),
    (lambda: model().generate(SRC, 0), ValueError, "max_len"),
])
def test_bad_input_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# transformer_train ------------------------------------------------------------------

def test_per_update_hands_fit_one_batch_per_pass_and_every_example_once_per_epoch():
    X = np.arange(10)[:, None]
    stream = PerUpdate(Minibatches(X, X[:, 0], 4, rng=0))
    seen = [next(iter(stream))[0][:, 0] for _ in range(6)]  # 3 batches per epoch: 4, 4, 2
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]
    for epoch in (seen[:3], seen[3:]):
        assert sorted(np.concatenate(epoch).tolist()) == list(range(10))
    with pytest.raises(ValueError, match="at least one batch"):
        next(iter(PerUpdate([])))


def test_random_windows_and_next_token_step_train_a_gpt():
    ids = np.arange(50) % 7
    windows = RandomWindows(ids, seq_len=5, batch_size=3, rng=0)
    x, y = next(iter(windows))
    assert x.shape == y.shape == (3, 5)
    np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
    gpt = GPT(7, block_size=5, d_model=8, nhead=2, num_layers=1, rng=0, dtype=F64)
    loss = next_token_step()(gpt, (x, y))
    ref = CrossEntropyLoss()(gpt(x).reshape(-1, 7), y.reshape(-1))
    assert loss == pytest.approx(ref)
    assert np.abs(gpt.grads["head.W"]).max() > 0
    small = GPT(7, block_size=5, d_model=16, nhead=2, num_layers=1, rng=0)
    hist = fit(small, RandomWindows(ids, 5, 16, rng=1), Adam(list(small.parameters()), lr=1e-2),
               epochs=None, max_steps=60, step=next_token_step())
    assert len(hist.loss) == 60 and np.mean(hist.loss[-5:]) < 0.5 * np.mean(hist.loss[:5])
    with pytest.raises(ValueError, match="longer than seq_len"):
        RandomWindows(np.arange(5), seq_len=5, batch_size=2)
