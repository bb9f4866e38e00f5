"""The recurrent language model of chapter 15: gradients, weight tying, training, perplexity, generation.

Gradient checks run the whole model in float64 (dlbook.diagnostics.model_check:
every parameter against central differences of the loss). The PyTorch twin
(nn.Embedding + nn.RNN/LSTM/GRU + nn.Linear, weights copied) must give the
same loss and gradients on every device.
"""

from __future__ import annotations

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL
from dlbook.layers.seq_loss import SequenceCrossEntropyLoss
from dlbook.models.lm_tools import (generate, lm_cross_entropy, lm_nll, next_token_probs,
                                    perplexity, sample_next)
from dlbook.diagnostics.model_check import check_model
from dlbook.layers.embedding import TiedLinear
from dlbook.models.rnnlm import RNNLM, TBPTTStep, lm_batches
from dlbook.train import History, fit
from dlbook.optim import SGD, Adam
from dlbook.text.vocab import Vocab

F64 = np.float64
V, E, H = 7, 4, 4
CASES = [  # (cell, num_layers, dropout, tie_weights)
    ("rnn", 1, 0.0, False), ("lstm", 1, 0.0, False), ("gru", 1, 0.0, False),
    ("lstm", 2, 0.3, False), ("gru", 2, 0.3, True), ("rnn", 2, 0.0, True),
    ("lstm", 1, 0.0, True),
]


def build(cell="lstm", num_layers=1, dropout=0.0, tie=False, seed=0, dtype=F64, scale=1.0):
    """A model with random parameters (biases too, so that no gradient path is hidden)."""
    rng = np.random.default_rng(seed)
    model = RNNLM(V, E, H, cell=cell, num_layers=num_layers, dropout=dropout, tie_weights=tie,
                  rng=seed, dtype=dtype)
    for p in model.params.values():
        p[...] = scale * rng.normal(size=p.shape)
    return model, rng.integers(0, V, size=(3, 4)), rng.integers(0, V, size=(3, 4))


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_gradients_match_numerical_gradients(case):
    model, x, y = build(*case)
    errors = check_model(model, SequenceCrossEntropyLoss(), x, y)
    assert set(errors) == set(model.params)
    bad = {k: f"{e:.1e}" for k, e in errors.items() if not e < GRADCHECK_TOL}
    assert not bad, f"{case}: relative errors above {GRADCHECK_TOL}: {bad}"


def test_tied_weight_gets_the_sum_of_both_gradients_and_saves_parameters():
    tied, x, y = build("lstm", tie=True)
    untied = RNNLM(V, E, H, cell="lstm", rng=0, dtype=F64)
    for key, p in untied.params.items():  # the same network, with the output matrix separate
        p[...] = tied.embedding.params["W"].T if key == "fc.W" else tied.params[key]
    for model in (tied, untied):
        loss = SequenceCrossEntropyLoss()
        model.zero_grad()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
    np.testing.assert_allclose(tied.forward(x), untied.forward(x), rtol=1e-12)
    summed = untied.grads["embedding.W"] + untied.grads["fc.W"].T
    np.testing.assert_allclose(tied.grads["embedding.W"], summed, rtol=1e-12)
    assert "fc.W" not in tied.params
    assert untied.num_parameters() - tied.num_parameters() == V * E


def test_backward_leaves_dout_unchanged_and_accumulates_until_zero_grad():
    model, x, _ = build("gru", num_layers=2, tie=True)
    dout = np.random.default_rng(1).normal(size=model.forward(x).shape)
    before = dout.copy()
    assert model.backward(dout) is None
    np.testing.assert_array_equal(dout, before)
    once = {k: g.copy() for k, g in model.grads.items()}
    model.backward(dout)
    for k, g in model.grads.items():
        np.testing.assert_allclose(g, 2 * once[k], rtol=1e-12, err_msg=k)
    arrays = [g for _, g in model.parameters()]
    model.zero_grad()
    assert all(not g.any() for g in model.grads.values())
    assert all(a is b for a, b in zip(arrays, (g for _, g in model.parameters())))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_carried_state_continues_the_sequence(cell):
    model, _, _ = build(cell, num_layers=2)
    ids = np.random.default_rng(2).integers(0, V, size=(2, 9))
    whole = model.forward(ids)
    first = model.forward(ids[:, :5])
    second = model.forward(ids[:, 5:], model.state_n)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-12)


def test_dropout_is_off_in_eval_mode_and_masks_only_in_training():
    model, x, _ = build("lstm", num_layers=2, dropout=0.5, dtype=np.float32, scale=0.3)
    model.eval()
    np.testing.assert_array_equal(model.forward(x), model.forward(x))
    assert all(not d.training for d in model.drops) and len(model.drops) == 3
    model.train()
    assert not np.allclose(model.forward(x), model.forward(x))


def test_tbptt_fit_learns_a_periodic_stream_with_stateful_windows_and_clipping():
    stream = np.tile(np.array([0, 1, 2, 3, 4, 5, 6]), 60)  # next token determined by the last
    model = RNNLM(V, 8, 16, cell="lstm", rng=0)
    opt = Adam(list(model.parameters()), lr=0.03)
    hist = fit(model, lm_batches(stream, 4, 10), opt, epochs=None, step=TBPTTStep(), max_steps=40,
               clip_norm=1.0)
    assert isinstance(hist, History) and len(hist.loss) == len(hist.grad_norm) == 40
    assert hist.loss[-1] < 0.1 * hist.loss[0]
    total = np.sqrt(sum(np.sum(g.astype(F64) ** 2) for _, g in model.parameters()))
    assert total <= 1.0 + 1e-4  # the last step's gradients were clipped in place
    assert perplexity(model, stream, seq_len=10) < 1.2


def test_tbptt_fit_without_clipping_reports_the_raw_norm_and_restarts_the_stream():
    stream = np.arange(50) % V
    model = RNNLM(V, 4, 4, cell="rnn", rng=0)
    opt = SGD(list(model.parameters()), lr=0.0)  # no change: every pass gives the same losses
    hist = fit(model, lm_batches(stream, 2, 8), opt, epochs=None, step=TBPTTStep(), max_steps=8)
    assert hist.loss[:3] == hist.loss[3:6] == hist.loss[6:] + hist.loss[2:3]  # 3 windows a pass
    rows = stream[:48].reshape(2, 24)  # the stream cut into 2 rows; window 2 = columns 8..15
    z = model.forward(rows[:, :16])[:, 8:]  # run from the start: window 2 sees window 1's state
    y = stream[1:49].reshape(2, 24)[:, 8:16]
    assert hist.loss[1] == pytest.approx(SequenceCrossEntropyLoss().forward(z, y), rel=1e-6)
    assert all(n > 0 for n in hist.grad_norm)
    assert fit(model, lm_batches(stream, 2, 8), opt, None, TBPTTStep(), max_steps=0).as_dict() == {}


def test_perplexity_is_exp_of_mean_nll_over_windows_from_a_zero_state():
    model, _, _ = build("gru", num_layers=2, dropout=0.2, scale=0.5)
    ids = np.random.default_rng(3).integers(0, V, size=23)
    model.train()
    nll = lm_nll(model, ids, seq_len=5, batch_size=3)
    assert nll.shape == (4, 5) and model.training  # (23 - 1) // 5 windows; flag restored
    model.eval()
    expected = []
    for w in range(4):
        x, y = ids[5 * w:5 * w + 5], ids[5 * w + 1:5 * w + 6]
        z = model.forward(x[None])[0]  # (5, V), from a zero state
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        expected.append(-logp[np.arange(5), y])
    np.testing.assert_allclose(nll, np.array(expected), rtol=1e-10)
    ce = lm_cross_entropy(model, ids, seq_len=5)
    assert ce == pytest.approx(np.mean(expected))
    assert perplexity(model, ids, seq_len=5) == pytest.approx(np.exp(ce))


def test_uniform_model_has_perplexity_v():
    model = RNNLM(V, 4, 4, rng=0, dtype=F64)
    for p in model.params.values():
        p[...] = 0.0
    ids = np.random.default_rng(0).integers(0, V, size=100)
    assert perplexity(model, ids, seq_len=9) == pytest.approx(V)


CHARS = Vocab(list("abcdefg"), specials=())


def test_generate_is_deterministic_under_a_seed_and_greedy_is_argmax():
    model, _, _ = build("lstm", scale=0.8)
    a = generate(model, CHARS, "abc", 12, rng=5)
    assert a == generate(model, CHARS, "abc", 12, rng=np.random.default_rng(5))
    assert len(a) == 12 and set(a) <= set("abcdefg")
    assert a != generate(model, CHARS, "abc", 12, rng=6)
    # greedy: feed the argmax back by hand
    greedy = generate(model, CHARS, "abc", 6, greedy=True)
    ids = list(CHARS.encode(list("abc")))
    for _ in range(6):
        ids.append(int(np.argmax(model.forward(np.array([ids]))[0, -1])))
    assert greedy == "".join(CHARS.decode(np.array(ids[3:])))
    assert generate(model, CHARS, "abc", 6, temperature=1e-3, rng=0) == greedy
    assert generate(model, CHARS, ["a", "b"], 0) == ""


def test_temperature_sharpens_and_flattens_the_distribution():
    z = np.array([2.0, 1.0, 0.0, -1.0])
    p1 = next_token_probs(z)
    np.testing.assert_allclose(p1, np.exp(z) / np.exp(z).sum())
    assert next_token_probs(z, 0.5)[0] > p1[0] > next_token_probs(z, 2.0)[0]
    np.testing.assert_allclose(next_token_probs(z, 1e-4), [1, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(next_token_probs(z, 1e4), 0.25, atol=1e-3)
    rng = np.random.default_rng(0)
    draws = np.bincount([sample_next(z, 1.0, rng=rng) for _ in range(4000)], minlength=4) / 4000
    np.testing.assert_allclose(draws, p1, atol=0.03)
    assert sample_next(z, greedy=True) == 0


def test_tied_linear_directly():
    from dlbook.layers.embedding import Embedding
    emb = Embedding(5, 3, rng=0, dtype=F64)
    out = TiedLinear(emb)
    h = np.random.default_rng(0).normal(size=(2, 4, 3))
    np.testing.assert_allclose(out.forward(h), h @ emb.params["W"].T)
    dz = np.ones((2, 4, 5))
    np.testing.assert_allclose(out.backward(dz), dz @ emb.params["W"])
    np.testing.assert_allclose(emb.grads["W"], dz.reshape(-1, 5).T @ h.reshape(-1, 3))
    assert list(TiedLinear(emb, bias=False).params) == ["embedding.W"]  # the shared matrix, a sublayer's


def test_bad_inputs():
    with pytest.raises(ValueError, match="RNNLM expected cell to be one of"):
        RNNLM(V, 4, 4, cell="transformer")
    with pytest.raises(ValueError, match="RNNLM with tie_weights=True expected embedding_dim == "
                                         "hidden_size .* got 4 and 5"):
        RNNLM(V, 4, 5, tie_weights=True)
    with pytest.raises(ValueError, match=r"RNNLM expected dropout in \[0.0, 1.0\); got 1.0"):
        RNNLM(V, 4, 4, dropout=1.0)
    with pytest.raises(TypeError, match="RNNLM expected num_layers to be an int"):
        RNNLM(V, 4, 4, num_layers=1.5)
    model, x, _ = build()
    with pytest.raises(ValueError, match=r"RNNLM.forward expected token ids of shape \(N, T\)"):
        model.forward(x[0])
    with pytest.raises(ValueError, match="RNNLM.forward expected state to be a list of 1"):
        model.forward(x, state=[None, None])
    with pytest.raises(ValueError, match=r"Embedding.forward expected indices in \[0, 6\]"):
        model.forward(x + V)
    with pytest.raises(TypeError, match="TiedLinear expected an Embedding"):
        TiedLinear(model.fc)
    with pytest.raises(ValueError, match="lm_nll expected a 1-D stream of at least 65"):
        perplexity(model, np.arange(10) % V)
    with pytest.raises(TypeError, match="lm_nll expected integer token ids"):
        perplexity(model, np.zeros(100))
    with pytest.raises(ValueError, match="next_token_probs expected temperature > 0"):
        sample_next(np.zeros(3), temperature=0.0)
    with pytest.raises(ValueError, match="next_token_probs expected temperature >= 0.0; got -1"):
        next_token_probs(np.zeros(3), temperature=-1)
    with pytest.raises(ValueError, match=r"sample_next expected logits of shape \(V,\)"):
        sample_next(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="generate expected a prompt of at least one token"):
        generate(model, CHARS, "", 5)
    with pytest.raises(ValueError, match="generate expected length >= 0"):
        generate(model, CHARS, "a", -1)
    with pytest.raises(TypeError, match="fit expected max_steps to be an int"):
        fit(model, lm_batches(np.arange(20) % V, 2, 4), SGD(list(model.parameters()), lr=0.1),
            None, TBPTTStep(), max_steps=2.5)


TORCH_CASES = [("lstm", 1, False), ("lstm", 2, True), ("gru", 2, False), ("rnn", 1, True)]


@pytest.mark.parametrize("cell, num_layers, tie", TORCH_CASES)
def test_forward_loss_and_gradients_match_the_pytorch_twin(cell, num_layers, tie, device):
    torch = pytest.importorskip("torch")
    from dlbook.twins import to_torch, torch_grads

    model, x, y = build(cell, num_layers=num_layers, tie=tie, scale=0.5)
    twin = to_torch(model, device=device)
    loss_fn = SequenceCrossEntropyLoss()
    model.zero_grad()
    loss = loss_fn.forward(model.forward(x), y)
    model.backward(loss_fn.backward())

    logits = twin(torch.as_tensor(x, device=device))
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.as_tensor(y.ravel(),
                                                                                   device=device))
    ref.backward()
    assert abs(loss - ref.item()) < 1e-12
    theirs = torch_grads(model, twin)
    assert set(theirs) == set(model.grads)
    for key, g in model.grads.items():
        np.testing.assert_allclose(g, theirs[key], rtol=1e-9, atol=1e-12, err_msg=key)
