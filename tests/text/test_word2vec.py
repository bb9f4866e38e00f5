"""word2vec (chapter 13): numerical gradient checks of all four losses, PyTorch parity,
the 0.75-power unigram sampler, pair generation, training, bad input."""

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import stats

from dlbook.data.toy_text import make_analogy_corpus
from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, norm_relative_error
from dlbook.diagnostics.numgrad import numerical_gradient
from dlbook.optim import SGD, Adam
from dlbook.text import Vocab
from dlbook.text.word2vec import (CBOW, SkipGram, UnigramSampler, cbow_examples, skipgram_pairs,
                                  word2vec_batches, word2vec_step)
from dlbook.train import fit

F64 = np.float64
V, E, N, K, C = 7, 4, 6, 3, 4


@dataclass(frozen=True)
class Case:
    name: str
    cls: type
    loss: str
    masked: bool = False


REGISTRY = [
    Case("SkipGram-softmax", SkipGram, "softmax"),
    Case("SkipGram-negative", SkipGram, "negative"),
    Case("CBOW-softmax", CBOW, "softmax"),
    Case("CBOW-negative", CBOW, "negative"),
    Case("CBOW-negative-masked", CBOW, "negative", masked=True),
    Case("CBOW-softmax-masked", CBOW, "softmax", masked=True),
]


def make_case(case, rng):
    """A float64 model with random weights and a batch with repeated ids (scatter-add matters)."""
    model = case.cls(V, E, loss=case.loss, rng=rng, dtype=F64)
    for p in model.params.values():
        p[...] = rng.normal(scale=0.7, size=p.shape)
    targets = rng.integers(0, V, size=N)
    targets[1] = targets[0]
    negatives = rng.integers(0, V, size=(N, K)) if case.loss == "negative" else None
    if case.cls is SkipGram:
        inputs = rng.integers(0, V, size=N)
        inputs[2] = inputs[0]
        return model, (inputs, targets, negatives)
    inputs = rng.integers(0, V, size=(N, C))
    mask = rng.random((N, C)) < 0.6 if case.masked else None
    if mask is not None:
        mask[:, 0] = True
    return model, (inputs, targets, negatives, mask)


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.name)
def test_gradients_match_central_differences(case):
    rng = np.random.default_rng(1)
    model, args = make_case(case, rng)
    dout = 1.7  # a backward that ignored dout would fail
    model.zero_grad()
    loss = model.forward(*args)
    assert np.isfinite(loss) and loss > 0
    assert model.backward(dout) is None  # word ids have no gradient
    for name, param in model.params.items():
        numeric = numerical_gradient(lambda _: dout * model.forward(*args), param)
        assert norm_relative_error(model.grads[name], numeric) < GRADCHECK_TOL, name
        assert np.abs(model.grads[name]).sum() > 0, f"{name}: gradient is zero"


@pytest.mark.parametrize("case", REGISTRY[:4], ids=lambda c: c.name)
def test_gradients_accumulate_until_zero_grad(case):
    model, args = make_case(case, np.random.default_rng(2))
    model.zero_grad()
    model.forward(*args)
    model.backward()
    once = {k: g.copy() for k, g in model.grads.items()}
    model.forward(*args)
    model.backward()
    for k in once:
        np.testing.assert_allclose(model.grads[k], 2 * once[k])
    model.zero_grad()
    assert all(not g.any() for g in model.grads.values())


# ---------------------------------------------------------------- PyTorch parity

def torch_loss(case, W_in, W_out, args, device):
    """The same losses written with torch ops (logsigmoid for negative sampling)."""
    import torch
    import torch.nn.functional as TF
    ids = [None if a is None else torch.as_tensor(a, device=device) for a in args]
    if case.cls is SkipGram:
        h = W_in[ids[0]]
    else:
        mask = torch.ones(ids[0].shape, dtype=torch.float64, device=device) if ids[3] is None \
            else ids[3].to(torch.float64)
        h = (W_in[ids[0]] * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    targets, negatives = ids[1], ids[2]
    if case.loss == "softmax":
        return TF.cross_entropy(h @ W_out.T, targets)
    pos = TF.logsigmoid((W_out[targets] * h).sum(-1))
    neg = TF.logsigmoid(-torch.einsum("nke,ne->nk", W_out[negatives], h)).sum(-1)
    return -(pos + neg).mean()


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.name)
def test_loss_and_gradients_match_torch(case, device):
    pytest.importorskip("torch")
    from dlbook.twins import as_tensor, to_numpy
    model, args = make_case(case, np.random.default_rng(3))
    model.zero_grad()
    loss = model.forward(*args)
    model.backward(1.0)
    W_in = as_tensor(model.params["W_in"], device, requires_grad=True)
    W_out = as_tensor(model.params["W_out"], device, requires_grad=True)
    ref = torch_loss(case, W_in, W_out, args, device)
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(model.grads["W_in"], to_numpy(W_in.grad), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.grads["W_out"], to_numpy(W_out.grad), rtol=1e-10, atol=1e-12)


def test_negative_sampling_is_stable_for_huge_scores():
    model = SkipGram(3, 2, rng=0, dtype=F64)
    model.params["W_in"][...] = 100.0
    model.params["W_out"][...] = [[100.0, 100.0], [-100.0, -100.0], [100.0, 100.0]]
    loss = model.forward(np.array([0]), np.array([1]), np.array([[2]]))
    model.backward()
    assert loss == pytest.approx(2 * 20000.0)
    assert all(np.isfinite(g).all() for g in model.grads.values())


# ---------------------------------------------------------------- the unigram sampler

COUNTS = np.array([0, 5000, 2000, 900, 400, 150, 60, 20, 8, 3, 1])


def test_sampler_probabilities_follow_the_power():
    s = UnigramSampler(COUNTS, rng=0)
    expected = COUNTS ** 0.75 / np.sum(COUNTS ** 0.75)
    np.testing.assert_allclose(s.probs, expected)
    np.testing.assert_allclose(UnigramSampler(COUNTS, power=1.0).probs, COUNTS / COUNTS.sum())
    np.testing.assert_allclose(UnigramSampler(COUNTS, power=0.0).probs[1:], 0.1)
    assert s.probs[0] == 0 and "power=0.75" in repr(s)


def test_sampler_matches_unigram_to_the_075_chi_square():
    n = 200_000
    draws = UnigramSampler(COUNTS, rng=12345).sample(n)
    assert draws.dtype == np.int64 and draws.shape == (n,)
    observed = np.bincount(draws, minlength=COUNTS.size)
    assert observed[0] == 0  # a word with count 0 is never drawn
    p75 = COUNTS[1:] ** 0.75 / np.sum(COUNTS[1:] ** 0.75)
    fit = stats.chisquare(observed[1:], n * p75)
    assert fit.pvalue > 0.01
    p1 = COUNTS[1:] / COUNTS[1:].sum()  # the plain unigram is rejected at this sample size
    assert stats.chisquare(observed[1:], n * p1).pvalue < 1e-12


def test_sampler_shapes_and_reproducibility():
    a = UnigramSampler(COUNTS, rng=7).sample((4, 5))
    assert a.shape == (4, 5) and a.min() >= 1 and a.max() < COUNTS.size
    np.testing.assert_array_equal(a, UnigramSampler(COUNTS, rng=7).sample((4, 5)))


def test_sampler_bad_input():
    with pytest.raises(ValueError, match=r"counts of shape \(V,\)"):
        UnigramSampler(np.ones((2, 2)))
    with pytest.raises(ValueError, match="non-negative counts with a positive sum"):
        UnigramSampler(np.array([1, -1]))
    with pytest.raises(ValueError, match="non-negative counts with a positive sum"):
        UnigramSampler(np.zeros(3))
    with pytest.raises(ValueError, match="power >= 0"):
        UnigramSampler(np.ones(3), power=-1)


# ---------------------------------------------------------------- pairs and CBOW windows

def test_skipgram_pairs_hand_example():
    centers, contexts = skipgram_pairs(np.array([10, 11, 12]), window=1)
    assert sorted(zip(centers.tolist(), contexts.tolist())) == [(10, 11), (11, 10), (11, 12),
                                                                (12, 11)]
    centers, contexts = skipgram_pairs([np.array([1, 2, 3]), np.array([4, 5])], window=2)
    pairs = set(zip(centers.tolist(), contexts.tolist()))
    assert pairs == {(1, 2), (2, 1), (2, 3), (3, 2), (1, 3), (3, 1), (4, 5), (5, 4)}
    assert centers.dtype == np.int64 and len(centers) == 8
    assert skipgram_pairs([np.array([3])])[0].shape == (0,)


def test_cbow_examples_hand_example():
    contexts, mask, centers = cbow_examples(np.array([5, 6, 7]), window=1)
    np.testing.assert_array_equal(centers, [5, 6, 7])
    np.testing.assert_array_equal(mask, [[False, True], [True, True], [True, False]])
    np.testing.assert_array_equal(contexts[mask], [6, 5, 7, 6])
    np.testing.assert_array_equal(contexts[~mask], [0, 0])
    c2, m2, _ = cbow_examples([np.array([1, 2]), np.array([3, 4, 5])], window=2)
    assert c2.shape == (5, 4) and m2.sum() == 2 + 6
    assert cbow_examples([np.array([1])])[0].shape == (0, 4)


def test_pair_generation_bad_input():
    with pytest.raises(ValueError, match="skipgram_pairs expected window >= 1"):
        skipgram_pairs(np.array([1, 2]), window=0)
    with pytest.raises(TypeError, match="integer id arrays"):
        cbow_examples([np.array([0.5, 1.5])])


# ---------------------------------------------------------------- training and errors

def toy_data():
    sentences = [s.split() for s in make_analogy_corpus(300, rng=0)]
    vocab = Vocab(sentences, specials=())
    return vocab, [vocab.encode(s) for s in sentences]


@pytest.mark.parametrize("cls,loss", [(SkipGram, "negative"), (SkipGram, "softmax"),
                                      (CBOW, "negative"), (CBOW, "softmax")])
def test_training_reduces_the_loss(cls, loss):
    vocab, ids = toy_data()
    model = cls(len(vocab), 8, loss=loss, rng=0)
    if cls is SkipGram:
        inputs, targets = skipgram_pairs(ids, 2)
        mask = None
    else:
        inputs, mask, targets = cbow_examples(ids, 2)
    opt = Adam(model.parameters(), lr=0.02)
    sampler = UnigramSampler(vocab.frequencies(), rng=1) if loss == "negative" else None
    batches = word2vec_batches(inputs, targets, 128, sampler=sampler, mask=mask, rng=2)
    history = fit(model, batches, opt, epochs=3, step=word2vec_step).epoch_loss
    assert len(history) == 3 and history[-1] < 0.85 * history[0]
    assert model.embeddings is model.params["W_in"] and model.embeddings.dtype == np.float32


def test_training_is_reproducible_with_sgd():
    vocab, ids = toy_data()
    inputs, targets = skipgram_pairs(ids, 1)
    runs = []
    for _ in range(2):
        model = SkipGram(len(vocab), 5, rng=0)
        batches = word2vec_batches(inputs, targets, sampler=UnigramSampler(vocab.frequencies(), rng=1),
                                   rng=2)
        fit(model, batches, SGD(model.parameters(), lr=0.5), epochs=1, step=word2vec_step)
        runs.append(model.params["W_in"].copy())
    np.testing.assert_array_equal(*runs)


def test_model_bad_input():
    with pytest.raises(ValueError, match="SkipGram expected loss in"):
        SkipGram(5, 2, loss="hierarchical")
    with pytest.raises(TypeError, match="CBOW expected embedding_dim to be an int"):
        CBOW(5, 2.0)
    sg = SkipGram(5, 2, rng=0)
    with pytest.raises(RuntimeError, match="SkipGram.backward called before forward"):
        sg.backward()
    with pytest.raises(ValueError, match=r"needs negatives of shape \(N, K\)"):
        sg.forward(np.array([0]), np.array([1]))
    with pytest.raises(ValueError, match="takes no negatives"):
        SkipGram(5, 2, loss="softmax").forward(np.array([0]), np.array([1]), np.array([[2]]))
    with pytest.raises(ValueError, match=r"centers in \[0, 5\)"):
        sg.forward(np.array([5]), np.array([1]), np.array([[2]]))
    with pytest.raises(TypeError, match="integer class labels"):
        sg.forward(np.array([0.5]), np.array([1]), np.array([[2]]))
    with pytest.raises(ValueError, match=r"contexts of shape \(1,\)"):
        sg.forward(np.array([0]), np.array([1, 2]), np.array([[2]]))
    with pytest.raises(ValueError, match=r"negatives of shape \(1, K\)"):
        sg.forward(np.array([0]), np.array([1]), np.array([[2], [3]]))
    cb = CBOW(5, 2, rng=0)
    with pytest.raises(ValueError, match=r"contexts of shape \(N, C\)"):
        cb.forward(np.array([0, 1]), np.array([1]), np.array([[2]]))
    with pytest.raises(ValueError, match="at least one True per row"):
        cb.forward(np.array([[0, 1]]), np.array([1]), np.array([[2]]), mask=np.array([[0, 0]]))
    with pytest.raises(ValueError, match=r"centers of shape \(1,\)"):
        cb.forward(np.array([[0, 1]]), np.array([1, 2]), np.array([[2]]))
    assert "loss='negative'" in repr(cb)


def test_word2vec_batches_and_step_bad_input():
    model = SkipGram(5, 2, rng=0)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="give word2vec_batches a UnigramSampler"):
        fit(model, word2vec_batches(np.array([0]), np.array([1])), opt, step=word2vec_step)
    with pytest.raises(ValueError, match="as many inputs as targets"):
        word2vec_batches(np.array([0, 1]), np.array([1]), sampler=UnigramSampler(np.ones(5)))
    with pytest.raises(ValueError, match="batch_size >= 1"):
        word2vec_batches(np.array([0]), np.array([1]), 0)
