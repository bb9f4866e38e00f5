"""The recurrent sequence classifier of chapter 14 and the cell helpers behind the models."""

from __future__ import annotations

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL
from dlbook.layers.loss import CrossEntropyLoss
from dlbook.layers.lstm import LSTM
from dlbook.models.cells import cell_backward, check_cell, final_state, make_cell, run_cell
from dlbook.diagnostics.model_check import check_model
from dlbook.models.seq_classifier import RNNClassifier

F64 = np.float64
IDS = np.array([[1, 2, 3, 0],   # length 3, padded
                [4, 5, 1, 2],   # length 4
                [3, 0, 0, 0]])  # length 1
LABELS = np.array([0, 4, 2])


def build(cell, padding_idx=0, seed=0, dtype=F64):
    rng = np.random.default_rng(seed)
    model = RNNClassifier(6, 3, 4, 5, cell=cell, padding_idx=padding_idx, rng=seed, dtype=dtype)
    for key, p in model.params.items():
        p[...] = rng.normal(size=p.shape)
        if key == "embedding.W" and padding_idx is not None:
            p[padding_idx] = 0.0
    return model


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradients_match_numerical_gradients(cell):
    model = build(cell)
    errors = check_model(model, CrossEntropyLoss(), IDS, LABELS)
    bad = {k: f"{e:.1e}" for k, e in errors.items() if not e < GRADCHECK_TOL}
    assert not bad, f"{cell}: {bad}"
    assert not model.grads["embedding.W"][0].any()  # the padding row gets no gradient


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_padding_does_not_change_the_prediction(cell):
    model = build(cell)
    for row, n in zip(IDS, [3, 4, 1]):
        alone = model.forward(row[None, :n])  # no padding at all
        padded = model.forward(row[None])
        np.testing.assert_allclose(padded, alone, rtol=1e-12)
    np.testing.assert_array_equal(model.lengths_of(IDS), [3, 4, 1])
    no_pad = build(cell, padding_idx=None)
    np.testing.assert_array_equal(no_pad.lengths_of(IDS), [4, 4, 4])
    explicit = no_pad.forward(IDS, lengths=np.array([3, 4, 1]))
    np.testing.assert_allclose(explicit[2], no_pad.forward(IDS[2:, :1])[0], rtol=1e-12)


def test_padded_steps_get_zero_gradient_and_dout_is_unchanged():
    model = build("lstm")
    dout = np.random.default_rng(0).normal(size=(3, 5))
    before = dout.copy()
    model.forward(IDS)
    assert model.backward(dout) is None
    np.testing.assert_array_equal(dout, before)
    d_out = np.zeros((3, 4, 4))  # what backward sends into the LSTM: only the last real steps
    d_out[[0, 1, 2], [2, 3, 0]] = dout @ model.fc.params["W"].T
    model.zero_grad()
    model.forward(IDS)
    model.backward(dout)
    lstm_grads = {k: g.copy() for k, g in model.rnn.grads.items()}
    model.rnn.zero_grad()
    model.rnn.forward(model.embedding.forward(IDS))
    model.rnn.backward(d_out)
    for key, g in model.rnn.grads.items():
        np.testing.assert_allclose(lstm_grads[key], g, rtol=1e-12)


def test_learns_which_position_holds_the_letter_with_fit():
    from dlbook.data.letters import letter_position_dataset
    from dlbook.optim import Adam
    from dlbook.text.vocab import Vocab
    from dlbook.train import Minibatches, evaluate, fit

    strings, pos = letter_position_dataset(600, length=5, rng=0)
    vocab = Vocab([list(s) for s in strings], specials=())
    X = np.stack([vocab.encode(list(s)) for s in strings])
    model = RNNClassifier(len(vocab), 8, 16, 5, cell="gru", rng=0)
    fit(model, Minibatches(X[:500], pos[:500], 32, rng=0), Adam(list(model.parameters()), lr=0.02),
        epochs=8, loss_fn=CrossEntropyLoss())
    _, acc = evaluate(model, CrossEntropyLoss(), X[500:], pos[500:])
    assert acc > 0.9


def test_cell_helpers():
    assert check_cell("LSTM", "here") == "lstm"
    lstm = make_cell("lstm", 3, 2, rng=0, dtype=F64)
    assert isinstance(lstm, LSTM)
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    out = run_cell(lstm, x)
    h, c = final_state(lstm)
    np.testing.assert_array_equal(h, out[:, -1])
    h[...] = 7.0  # a copy: the layer keeps its own
    assert not np.any(lstm.h_n == 7.0)
    np.testing.assert_allclose(run_cell(lstm, x[:, 2:], final_state(lstm)).shape, (2, 2, 2))
    rnn = make_cell("rnn", 3, 2, rng=0, dtype=F64)
    run_cell(rnn, x)
    dx, dstate = cell_backward(rnn, None, np.ones((2, 2)))  # gradient from h_n only
    assert dx.shape == x.shape and dstate is None  # started from zeros: no state input
    run_cell(rnn, x, np.zeros((2, 2)))
    dx, dh0 = cell_backward(rnn, None, np.ones((2, 2)))
    assert dx.shape == x.shape and dh0.shape == (2, 2)
    run_cell(lstm, x)
    assert cell_backward(lstm, np.ones((2, 4, 2)), (None, np.ones((2, 2))))[0].shape == x.shape
    run_cell(lstm, x, (np.zeros((2, 2)), np.zeros((2, 2))))
    dx, (dh0, dc0) = cell_backward(lstm, np.ones((2, 4, 2)))
    assert dx.shape == x.shape and dh0.shape == dc0.shape == (2, 2)


def test_bad_inputs():
    with pytest.raises(ValueError, match="RNNClassifier expected cell to be one of"):
        RNNClassifier(5, 3, 4, 2, cell="cnn")
    with pytest.raises(TypeError, match="make_cell expected cell to be one of .* got int"):
        make_cell(3, 2, 2)
    with pytest.raises(TypeError, match="RNNClassifier expected num_classes to be an int"):
        RNNClassifier(5, 3, 4, 2.0)
    model = build("rnn")
    with pytest.raises(ValueError, match=r"RNNClassifier.forward expected token ids of shape"):
        model.forward(IDS[0])
    with pytest.raises(ValueError, match=r"expected lengths in \[1, 4\].* got 0..4"):
        model.forward(IDS, lengths=np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"expected lengths of shape \(3,\)"):
        model.forward(IDS, lengths=np.array([1, 2]))
    with pytest.raises(TypeError, match="expected integer lengths"):
        model.forward(IDS, lengths=np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="every row to start with a real token"):
        model.forward(np.array([[0, 0], [1, 2]]))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        build("gru").backward(np.zeros((3, 5)))


def test_learns_where_the_first_letter_is_in_padded_strings_with_fit():
    """Chapter 14's homework, small: variable lengths, zero or several a's, 'none' as a class."""
    from dlbook.data.letters import first_letter_dataset
    from dlbook.optim import Adam
    from dlbook.text.batching import pad_sequences
    from dlbook.text.vocab import Vocab
    from dlbook.train import Minibatches, evaluate, fit

    strings, labels = first_letter_dataset(900, min_len=1, max_len=6, rng=0)
    vocab = Vocab([list(s) for s in strings])  # <pad> at index 0
    ids, lengths = pad_sequences([vocab.encode(list(s)) for s in strings],
                                 pad_index=vocab.pad_index)
    model = RNNClassifier(len(vocab), 8, 16, 7, cell="gru", padding_idx=vocab.pad_index, rng=0)
    assert np.array_equal(model.lengths_of(ids), lengths)
    fit(model, Minibatches(ids[:700], labels[:700], 32, rng=0),
        Adam(list(model.parameters()), lr=0.02), epochs=10, loss_fn=CrossEntropyLoss(),
        clip_norm=1.0)
    _, acc = evaluate(model, CrossEntropyLoss(), ids[700:], labels[700:])
    assert acc > 0.9
