"""Unigram and bigram baselines (chapter 15): probabilities against hand counts, metrics, errors."""

import numpy as np
import pytest

from dlbook.text.ngram import BigramLM, UnigramLM

# a tiny corpus over V = 3 tokens: 0 1 0 2 0 1  (counts 3, 2, 1; pairs 01 10 02 20 01)
IDS = np.array([0, 1, 0, 2, 0, 1])


def test_unigram_probabilities_match_hand_counts():
    lm = UnigramLM(3, k=1.0).fit(IDS)
    np.testing.assert_array_equal(lm.counts, [3, 2, 1])
    np.testing.assert_allclose(lm.probs, np.array([4, 3, 2]) / 9)  # (c + 1) / (6 + 3)
    lm = UnigramLM(4, k=0.5).fit(IDS)  # an unseen token 3 keeps probability k / (n + kV)
    np.testing.assert_allclose(lm.probs, np.array([3.5, 2.5, 1.5, 0.5]) / 8)
    assert lm.probs.sum() == pytest.approx(1.0)


def test_bigram_probabilities_match_hand_counts():
    lm = BigramLM(3, k=1.0).fit(IDS)
    expected_counts = np.array([[0, 2, 1],   # 0 -> 1 twice, 0 -> 2 once
                                [1, 0, 0],   # 1 -> 0
                                [1, 0, 0]])  # 2 -> 0
    np.testing.assert_array_equal(lm.counts, expected_counts)
    np.testing.assert_allclose(lm.probs[0], np.array([1, 3, 2]) / 6)  # (c(0, w) + 1) / (3 + 3)
    np.testing.assert_allclose(lm.probs[1], np.array([2, 1, 1]) / 4)
    np.testing.assert_allclose(lm.probs.sum(axis=1), 1.0)
    small_k = BigramLM(3, k=1e-9).fit(IDS)  # k -> 0: maximum likelihood c(v, w) / c(v)
    np.testing.assert_allclose(small_k.probs[0], [0, 2 / 3, 1 / 3], atol=1e-8)


def test_nll_cross_entropy_and_perplexity():
    held_out = np.array([1, 0, 2, 2])
    uni, bi = UnigramLM(3).fit(IDS), BigramLM(3).fit(IDS)
    np.testing.assert_allclose(uni.nll(held_out), -np.log(uni.probs[[0, 2, 2]]))
    np.testing.assert_allclose(bi.nll(held_out), -np.log([bi.probs[1, 0], bi.probs[0, 2],
                                                            bi.probs[2, 2]]))
    for lm in (uni, bi):
        ce = lm.cross_entropy(held_out)
        assert ce == pytest.approx(np.mean(lm.nll(held_out)))
        assert lm.perplexity(held_out) == pytest.approx(np.exp(ce))


def test_uniform_model_has_perplexity_v_and_bigram_beats_unigram_on_structured_text():
    rng = np.random.default_rng(0)
    V = 5
    noise = rng.integers(0, V, size=20_000)
    assert UnigramLM(V).fit(noise).perplexity(noise) == pytest.approx(V, rel=0.01)
    cycle = np.tile(np.arange(V), 200)  # 0 1 2 3 4 0 1 ...: the next token is determined
    assert BigramLM(V).fit(cycle).perplexity(cycle) < 1.05 < UnigramLM(V).fit(cycle).perplexity(cycle)


def test_bad_inputs():
    with pytest.raises(ValueError, match="UnigramLM expected a smoothing constant k > 0; got 0"):
        UnigramLM(3, k=0)
    with pytest.raises(TypeError, match="BigramLM expected k to be a real number; got str"):
        BigramLM(3, k="1")
    with pytest.raises(TypeError, match="UnigramLM expected vocab_size to be an int"):
        UnigramLM(3.0)
    with pytest.raises(ValueError, match=r"UnigramLM.fit expected ids in \[0, 2\]; got 3"):
        UnigramLM(3).fit(np.array([0, 3]))
    with pytest.raises(TypeError, match="BigramLM.fit expected integer token ids; got dtype float64"):
        BigramLM(3).fit(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"BigramLM.fit expected a 1-D sequence of at least 2"):
        BigramLM(3).fit(np.array([0]))
    with pytest.raises(ValueError, match=r"UnigramLM.nll expected a 1-D sequence .*\(2, 2\)"):
        UnigramLM(3).fit(IDS).nll(np.zeros((2, 2), dtype=int))
    with pytest.raises(RuntimeError, match="BigramLM.nll called before fit"):
        BigramLM(3).nll(IDS)
