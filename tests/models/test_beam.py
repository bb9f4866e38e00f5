"""Beam search for the encoder-decoders of chapters 16 and 17 (dlbook.models.beam).

Width 1 must equal greedy decoding exactly; a hand-made model with a trap
shows beam search finding the more probable answer that greedy misses; the
returned scores are recomputed by teacher forcing; a width as large as the
vocabulary searches two steps exhaustively.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import seq2seq_checks as checks
from seq2seq_checks import BOS, EOS, PAD, SRC, V

from dlbook.functional import log_softmax
from dlbook.models.attention_seq2seq import AttentionSeq2Seq
from dlbook.models.beam import BeamSearchResult, beam_search
from dlbook.models.seq2seq import Seq2Seq
from dlbook.models.seq2seq_train import generate_batched

MODELS = {
    "lstm": (Seq2Seq, {}),
    "gru-reversed-peeky": (Seq2Seq, {"cell": "gru", "reverse_source": True, "peeky": True}),
    "attention": (AttentionSeq2Seq, {}),
    "attention-gru": (AttentionSeq2Seq, {"cell": "gru"}),
}


def make_model(name, seed=0, scale=1.0):
    cls, kwargs = MODELS[name]
    return checks.make_model(cls, kwargs, seed, scale)


def sequence_log_probs(model, src, ids, lengths) -> np.ndarray:
    """log p(y | x) by teacher forcing: the decoder reads <bos> y_1 ... and scores y_1 ... y_L."""
    tgt_in = np.concatenate([np.full((len(ids), 1), BOS), ids[:, :-1]], axis=1)
    log_p = log_softmax(model(src, tgt_in), axis=2)  # (N, T, V)
    picked = np.take_along_axis(log_p, ids[:, :, None], axis=2)[:, :, 0]
    real = np.arange(ids.shape[1]) < lengths[:, None]  # the written tokens, <eos> included
    return np.where(real, picked, 0.0).sum(axis=1)


@pytest.mark.parametrize("name", MODELS)
def test_width_one_is_greedy_decoding_exactly(name):
    model = make_model(name)
    for max_len in (1, 3, 6):
        greedy = generate_batched(model, SRC, max_len, batch_size=3)
        beams = beam_search(model, SRC, 1, max_len, batch_size=3)
        assert np.array_equal(beams.ids[:, 0], greedy)


def test_width_one_is_greedy_decoding_exactly_in_float32():
    model = Seq2Seq(V, 5, 16, peeky=True, rng=0)  # float32, the chapters' dtype
    rng = np.random.default_rng(1)
    for p, _ in model.parameters():
        p[...] = rng.standard_normal(p.shape).astype(np.float32)
    src = rng.integers(4, V, size=(50, 6))
    src[::3, 4:] = PAD
    assert np.array_equal(beam_search(model, src, 1, 7, batch_size=20).ids[:, 0],
                          generate_batched(model, src, 7, batch_size=20))


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_scores_are_the_summed_log_probs_of_the_returned_sequences(name, alpha):
    model = make_model(name)
    K, T = 4, 5
    beams = beam_search(model, SRC, K, T, length_penalty=alpha)
    assert isinstance(beams, BeamSearchResult)
    assert beams.ids.shape == (len(SRC), K, T) and beams.log_probs.shape == (len(SRC), K)
    for k in range(K):
        expected = sequence_log_probs(model, SRC, beams.ids[:, k], beams.lengths[:, k])
        np.testing.assert_allclose(beams.log_probs[:, k], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(beams.scores, beams.log_probs / beams.lengths ** alpha, rtol=1e-12)
    assert np.all(np.diff(beams.scores, axis=1) <= 0)  # best first
    for n in range(len(SRC)):  # K different hypotheses, each ending at its first <eos> or at T
        hyps = {tuple(beams.ids[n, k, :beams.lengths[n, k]]) for k in range(K)}
        assert len(hyps) == K
        for k in range(K):
            written = beams.ids[n, k, :beams.lengths[n, k]]
            assert EOS not in written[:-1] and (written[-1] == EOS or len(written) == T)
            assert np.all(beams.ids[n, k, beams.lengths[n, k]:] == PAD)


@pytest.mark.parametrize("name", ["lstm", "attention-gru"])
def test_scores_match_the_torch_twin_teacher_forced_on_the_returned_sequences(name, device):
    torch = pytest.importorskip("torch")
    from dlbook.twins import to_torch

    model = make_model(name)
    beams = beam_search(model, SRC, 3, 5)
    twin = to_torch(model, device=device)
    for k in range(3):
        ids = torch.as_tensor(beams.ids[:, k], device=device)
        tgt_in = torch.cat([torch.full((len(SRC), 1), BOS, device=device), ids[:, :-1]], dim=1)
        with torch.no_grad():
            log_p = torch.log_softmax(twin(torch.as_tensor(SRC, device=device), tgt_in), dim=2)
        picked = log_p.gather(2, ids[:, :, None])[:, :, 0].cpu().numpy()
        real = np.arange(ids.shape[1]) < beams.lengths[:, k][:, None]
        np.testing.assert_allclose(np.where(real, picked, 0.0).sum(axis=1), beams.log_probs[:, k],
                                   rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", MODELS)
def test_the_recorded_search_tree_leads_back_to_the_returned_sequences(name):
    beams = beam_search(make_model(name), SRC, 3, 5)
    N, T, K = beams.tokens.shape
    for n in range(N):
        for k in range(K):
            path, beam = [], k
            for t in range(T - 1, -1, -1):  # follow the back-pointers from the last step
                path.append(beams.tokens[n, t, beam])
                beam = beams.parents[n, t, beam]
            assert path[::-1] == beams.ids[n, k].tolist()
    np.testing.assert_array_equal(beams.cum_log_probs[:, -1], beams.log_probs)
    assert np.all(beams.finished[:, -1] == (beams.ids == EOS).any(axis=2))


@pytest.mark.parametrize("name", ["lstm", "attention"])
def test_width_of_the_whole_vocabulary_searches_two_steps_exhaustively(name):
    model = make_model(name, scale=1.5)
    beams = beam_search(model, SRC, V, 2)
    # every answer of at most 2 tokens: <eos>; a <eos>; or two tokens cut off at max_len
    answers = [[EOS]] + [[a, b] for a, b in itertools.product(range(V), repeat=2) if a != EOS]
    for n in range(len(SRC)):
        ids = np.array([a + [PAD] * (2 - len(a)) for a in answers])
        lengths = np.array([len(a) for a in answers])
        scores = sequence_log_probs(model, np.repeat(SRC[n:n + 1], len(answers), axis=0), ids,
                                    lengths)
        assert beams.log_probs[n, 0] == pytest.approx(scores.max(), abs=1e-12)
        assert answers[int(np.argmax(scores))] == beams.ids[n, 0, :beams.lengths[n, 0]].tolist()


# a hand-made model with a trap --------------------------------------------------------------

A, B = 4, 5  # two "characters" of a 6-token vocabulary: <pad> <unk> <bos> <eos> A B
TRAP = {  # p(next | previous): each decoder step depends only on the previous token
    BOS: {A: 0.55, B: 0.45},  # greedy takes A ...
    A: {EOS: 0.40, A: 0.30, B: 0.30},  # ... but after A the answer is uncertain
    B: {EOS: 0.90, A: 0.05, B: 0.05},  # after B it is almost surely over
}
TINY = 1e-9
GATE = 30.0  # saturates the LSTM's gates: i = o = 1, f = 0


def trap_model(cls) -> Seq2Seq:
    """A float64 model whose decoder is a bigram table: h_t depends on y_{t-1} only.

    The decoder's LSTM ignores its previous state (W_h = 0, forget gate shut) and
    writes the one-hot embedding of its input, scaled by tanh(tanh(1)), into h_t;
    the output layer maps that to log TRAP[y_{t-1}].
    """
    Vt = 6
    model = cls(Vt, Vt, Vt, rng=0, dtype=np.float64)
    dec = model.decoder
    for p, _ in model.parameters():
        p[...] = 0.0
    dec.embed.params["W"][...] = np.eye(Vt)
    dec.rnn.params["W_x"][:, 2 * Vt:3 * Vt] = np.eye(Vt)  # candidate g = tanh(onehot)
    dec.rnn.params["b"][:Vt], dec.rnn.params["b"][Vt:2 * Vt] = GATE, -GATE  # i = 1, f = 0
    dec.rnn.params["b"][3 * Vt:] = GATE  # o = 1
    scale = np.tanh(np.tanh(1.0))  # h_t = onehot(y_{t-1}) * scale
    table = np.full((Vt, Vt), np.log(TINY))
    for prev, row in TRAP.items():
        for nxt, p in row.items():
            table[prev, nxt] = np.log(p)
    W = dec.out.params["W"]
    W[W.shape[0] - Vt:] = table / scale  # the attention model's rows for c_t stay 0
    return model


@pytest.mark.parametrize("cls", [Seq2Seq, AttentionSeq2Seq])
def test_beam_search_escapes_the_trap_that_greedy_falls_into(cls):
    model = trap_model(cls)
    src = np.array([[4, 5, 4]])
    greedy = model.generate(src, 4)[0]
    beams = beam_search(model, src, 2, 4)
    assert greedy.tolist() == [A, EOS, PAD, PAD]  # p = 0.55 * 0.40 = 0.22
    assert beams.ids[0, 0].tolist() == [B, EOS, PAD, PAD]  # p = 0.45 * 0.90 = 0.405
    assert beams.ids[0, 1].tolist() == [A, EOS, PAD, PAD]
    np.testing.assert_allclose(np.exp(beams.log_probs[0]), [0.405, 0.22], rtol=1e-6)
    assert beam_search(model, src, 1, 4).ids[0, 0].tolist() == greedy.tolist()


def test_a_length_penalty_favours_longer_answers():
    model = trap_model(Seq2Seq)
    src = np.array([[4]])
    plain = beam_search(model, src, 6, 3, length_penalty=0.0)
    long = beam_search(model, src, 6, 3, length_penalty=3.0)
    assert plain.lengths[0, 0] == 2
    assert long.lengths[0, 0] == 3 and long.scores[0, 0] > long.log_probs[0, 0]


def test_decoding_leaves_modes_and_attention_record_alone():
    model = make_model("attention")
    model.train()
    model.generate(SRC, 4)
    weights = model.last_attention.copy()
    beam_search(model, SRC, 3, 4)
    assert model.training and model.decoder.rnn.training
    np.testing.assert_array_equal(model.last_attention, weights)
    assert model._gen is None  # beam search's steps keep no attention record


@pytest.mark.parametrize("width,error,match", [
    (0, ValueError, "beam_search expected beam_width >= 1; got 0"),
    (-2, ValueError, "beam_search expected beam_width >= 1; got -2"),
    (V + 1, ValueError, f"beam_search expected beam_width <= vocab_size={V}"),
    (2.0, TypeError, "beam_search expected beam_width to be an int; got float"),
    (True, TypeError, "beam_search expected beam_width to be an int; got bool"),
    (None, TypeError, "beam_search expected beam_width to be an int; got NoneType"),
])
def test_bad_beam_widths(width, error, match):
    with pytest.raises(error, match=match):
        beam_search(make_model("lstm"), SRC, width, 4)


def test_other_bad_arguments():
    model = make_model("lstm")
    with pytest.raises(ValueError, match="beam_search expected max_len >= 1"):
        beam_search(model, SRC, 2, 0)
    with pytest.raises(ValueError, match="beam_search expected length_penalty >= 0.0"):
        beam_search(model, SRC, 2, 4, length_penalty=-1.0)
    with pytest.raises(ValueError, match=r"beam_search expected src of shape \(N, Ts\)"):
        beam_search(model, SRC[0], 2, 4)
    with pytest.raises(ValueError, match="expected right padding"):
        beam_search(model, np.array([[0, 4]]), 2, 4)
