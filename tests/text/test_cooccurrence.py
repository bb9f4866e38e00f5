"""Count-based word vectors (chapter 13): co-occurrence counts, PPMI, truncated SVD,
cosine similarity, neighbours and analogies; the synthetic analogy corpus; the plot helper."""

import math

import numpy as np
import pytest

from dlbook.data.toy_text import (ANIMALS, COUNTRIES, PEOPLE, analogy_questions,
                                  make_analogy_corpus, word_groups)
from dlbook.text import Vocab
from dlbook.text.cooccurrence import (analogy, cooccurrence_matrix, cosine_similarity,
                                      most_similar, pmi, ppmi, svd_embeddings, truncated_svd)

RNG = np.random.default_rng(13)


# ---------------------------------------------------------------- co-occurrence counts

def brute_force_counts(seqs, V, window, weighted):
    C = np.zeros((V, V))
    for seq in seqs:
        for t, w in enumerate(seq):
            for s, c in enumerate(seq):
                if s != t and abs(s - t) <= window:
                    C[w, c] += 1.0 / abs(s - t) if weighted else 1.0
    return C


def test_cooccurrence_counts_a_hand_example():
    # "a b c a" with ids a=0, b=1, c=2; window 1 sees the neighbouring pairs ab, bc, ca
    seq = np.array([0, 1, 2, 0])
    expected = np.array([[0, 1, 1],
                         [1, 0, 1],
                         [1, 1, 0]], dtype=float)
    np.testing.assert_array_equal(cooccurrence_matrix(seq, 3, window=1), expected)
    # window 2 adds the pairs at distance 2: (a, c) and (b, a)
    expected2 = expected + np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(cooccurrence_matrix(seq, 3, window=2), expected2)
    weighted = cooccurrence_matrix(seq, 3, window=2, distance_weighting=True)
    np.testing.assert_array_equal(weighted, expected + 0.5 * (expected2 - expected))
    # a word next to itself counts on the diagonal, twice (once from each side)
    np.testing.assert_array_equal(cooccurrence_matrix(np.array([4, 4]), 5, window=1)[4, 4], 2)


def test_windows_do_not_cross_sequence_boundaries():
    C = cooccurrence_matrix([np.array([0, 1]), np.array([2, 3])], 4, window=3)
    assert C[1, 2] == 0 and C[0, 1] == 1 and C[2, 3] == 1 and C.sum() == 4


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("window", [1, 2, 4])
def test_cooccurrence_matches_brute_force(window, weighted):
    seqs = [RNG.integers(0, 6, size=n) for n in (9, 1, 0, 5)]
    C = cooccurrence_matrix(seqs, 6, window=window, distance_weighting=weighted)
    np.testing.assert_allclose(C, brute_force_counts(seqs, 6, window, weighted))
    np.testing.assert_array_equal(C, C.T)


def test_cooccurrence_bad_input():
    with pytest.raises(ValueError, match="cooccurrence_matrix expected window >= 1"):
        cooccurrence_matrix(np.array([0, 1]), 2, window=0)
    with pytest.raises(ValueError, match=r"ids in \[0, 2\)"):
        cooccurrence_matrix(np.array([0, 2]), 2)
    with pytest.raises(TypeError, match="integer ids"):
        cooccurrence_matrix([np.array([0.5, 1.0])], 2)
    with pytest.raises(ValueError, match="1-D id array"):
        cooccurrence_matrix(np.zeros((2, 2), int), 2)
    with pytest.raises(TypeError, match="vocab_size to be an int"):
        cooccurrence_matrix(np.array([0]), 2.0)


# ---------------------------------------------------------------- PMI and PPMI

def direct_pmi(C, alpha=1.0):
    V, W = C.shape
    total, rows = C.sum(), C.sum(axis=1)
    cols = C.sum(axis=0) ** alpha
    out = np.full(C.shape, -np.inf)
    for w in range(V):
        for c in range(W):
            if C[w, c] > 0:
                p_wc, p_w, p_c = C[w, c] / total, rows[w] / total, cols[c] / cols.sum()
                out[w, c] = math.log(p_wc / (p_w * p_c))
    return out


@pytest.mark.parametrize("alpha", [1.0, 0.75])
def test_pmi_and_ppmi_match_the_formula(alpha):
    C = RNG.integers(0, 5, size=(6, 7)).astype(float)
    C[2] = 0  # a word without counts: no positive entries, no NaN
    expected = direct_pmi(C, alpha)
    np.testing.assert_allclose(pmi(C, alpha), expected)
    np.testing.assert_allclose(ppmi(C, alpha), np.maximum(expected, 0))
    np.testing.assert_allclose(ppmi(C, alpha, shift=5), np.maximum(expected - np.log(5), 0))
    assert not np.isnan(ppmi(C, alpha)).any()


def test_pmi_of_independent_words_is_zero():
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.1, 0.6, 0.3])
    np.testing.assert_allclose(pmi(1000 * np.outer(p, q)), 0, atol=1e-12)


def test_ppmi_keeps_float32():
    assert ppmi(np.ones((3, 3), np.float32)).dtype == np.float32


def test_pmi_bad_input():
    with pytest.raises(ValueError, match="non-negative counts"):
        pmi(-np.ones((2, 2)))
    with pytest.raises(ValueError, match="alpha > 0"):
        pmi(np.ones((2, 2)), alpha=0)
    with pytest.raises(ValueError, match="all-zero"):
        pmi(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"shape \(V, V'\)"):
        ppmi(np.ones(3))
    with pytest.raises(ValueError, match="shift > 0"):
        ppmi(np.ones((2, 2)), shift=0)
    with pytest.raises(TypeError, match="real-valued"):
        pmi(np.array([["a"]]))


# ---------------------------------------------------------------- truncated SVD

def test_truncated_svd_is_the_best_rank_k_approximation():
    M = RNG.normal(size=(12, 9))
    S_all = np.linalg.svd(M, compute_uv=False)
    for k in (1, 4, 9):
        U, S, Vt = truncated_svd(M, k)
        assert U.shape == (12, k) and S.shape == (k,) and Vt.shape == (k, 9)
        np.testing.assert_allclose(U.T @ U, np.eye(k), atol=1e-12)
        err = np.linalg.norm(M - U @ np.diag(S) @ Vt)  # Eckart-Young: the dropped singular values
        assert err == pytest.approx(np.sqrt(np.sum(S_all[k:] ** 2)), abs=1e-10)


def test_truncated_svd_reconstructs_a_low_rank_matrix_and_fixes_signs():
    M = RNG.normal(size=(20, 3)) @ RNG.normal(size=(3, 15))
    for randomized in (False, True):
        U, S, Vt = truncated_svd(M, 3, randomized=randomized, rng=0)
        np.testing.assert_allclose(U @ np.diag(S) @ Vt, M, atol=1e-10)
        assert np.all(U[np.argmax(np.abs(U), axis=0), range(3)] > 0)
    U1, _, _ = truncated_svd(M, 3)
    U2, _, _ = truncated_svd(M, 3, randomized=True, rng=1)
    np.testing.assert_allclose(U1, U2, atol=1e-8)  # same signs as well as the same subspace


def test_randomized_svd_finds_the_top_singular_values():
    Q1, _ = np.linalg.qr(RNG.normal(size=(60, 40)))
    Q2, _ = np.linalg.qr(RNG.normal(size=(50, 40)))
    spectrum = 0.8 ** np.arange(40)
    M = Q1 @ np.diag(spectrum) @ Q2.T
    _, S, _ = truncated_svd(M, 5, randomized=True, rng=0)
    np.testing.assert_allclose(S, spectrum[:5], rtol=1e-6)


def test_svd_embeddings_scale_by_a_power_of_the_singular_values():
    M = RNG.random((8, 8))
    U, S, _ = truncated_svd(M, 3)
    np.testing.assert_allclose(svd_embeddings(M, 3, power=1.0), U * S)
    np.testing.assert_allclose(svd_embeddings(M, 3, power=0.0), U)
    np.testing.assert_allclose(svd_embeddings(M, 3), U * np.sqrt(S))


def test_truncated_svd_bad_input():
    with pytest.raises(ValueError, match=r"k <= min\(m, n\) = 3"):
        truncated_svd(np.ones((3, 5)), 4)
    with pytest.raises(ValueError, match="shape \\(m, n\\)"):
        truncated_svd(np.ones(3), 1)
    with pytest.raises(ValueError, match="k >= 1"):
        truncated_svd(np.ones((3, 3)), 0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        truncated_svd(np.ones((3, 3)), 1, randomized=True, rng="seed")


# ---------------------------------------------------------------- similarity, neighbours, analogies

def test_cosine_similarity_values_and_shapes():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    S = cosine_similarity(a)
    np.testing.assert_allclose(S, [[1, 1 / np.sqrt(2), 0], [1 / np.sqrt(2), 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(cosine_similarity(5 * a, a[:2]), S[:, :2])  # scale invariant
    assert cosine_similarity(np.array([0.0, 2.0]), a).shape == (3,)
    assert cosine_similarity(np.array([0.0, 2.0]), np.array([3.0, 3.0])) == pytest.approx(
        1 / np.sqrt(2))
    x, y = RNG.normal(size=(4, 6)), RNG.normal(size=(5, 6))
    direct = [[u @ v / np.linalg.norm(u) / np.linalg.norm(v) for v in y] for u in x]
    np.testing.assert_allclose(cosine_similarity(x, y), direct)
    with pytest.raises(ValueError, match="cosine_similarity expected"):
        cosine_similarity(np.ones((2, 3)), np.ones((2, 4)))


def angle_vectors(degrees):
    rad = np.deg2rad(degrees)
    return np.column_stack([np.cos(rad), np.sin(rad)])


def test_most_similar_ranks_by_angle_and_excludes():
    words = ["a", "b", "c", "d", "e"]
    X = angle_vectors([0, 10, 50, 90, 180]) * np.array([[1], [7], [0.1], [3], [2]])  # lengths vary
    got = most_similar("a", X, words, k=3)
    assert [w for w, _ in got] == ["b", "c", "d"]
    assert got[0][1] == pytest.approx(np.cos(np.deg2rad(10)))
    assert [w for w, _ in most_similar("a", X, words, k=2, exclude=["b"])] == ["c", "d"]
    assert [w for w, _ in most_similar(np.array([0.0, 1.0]), X, words, k=1)] == ["d"]
    assert len(most_similar("a", X, words, k=10)) == 4  # everything but the query itself


def test_most_similar_skips_the_specials_of_a_vocab():
    vocab = Vocab(["x", "y", "y"])  # itos: <pad>, <unk>, y, x
    X = np.array([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [1.0, 0.1]])
    assert [w for w, _ in most_similar("x", X, vocab, k=5)] == ["y"]


def test_most_similar_bad_input():
    words = ["a", "b"]
    with pytest.raises(KeyError, match="'zebra' is not in the vocabulary"):
        most_similar("zebra", np.eye(2), words)
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        most_similar("a", np.eye(3), words)
    with pytest.raises(ValueError, match="k >= 0"):
        most_similar("a", np.eye(2), words, k=-1)


def test_analogy_3cosadd_on_constructed_vectors():
    # a royal axis and a gender axis, plus distractors close to b and c
    royal, female, base = np.eye(4)[0], np.eye(4)[1], np.eye(4)[3]
    vectors = {"man": base, "woman": base + female, "king": base + royal,
               "queen": base + royal + female, "princess": base + 0.9 * female + 0.2 * royal,
               "car": np.eye(4)[2]}
    words = list(vectors)
    X = np.array([vectors[w] for w in words])
    (best, score), = analogy("man", "king", "woman", X, words)
    assert best == "queen"
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    i = {w: k for k, w in enumerate(words)}
    assert score == pytest.approx(unit[i["queen"]] @ (unit[i["king"]] - unit[i["man"]]
                                                      + unit[i["woman"]]))
    ranked = [w for w, _ in analogy("man", "king", "woman", X, words, k=10)]
    assert ranked[:2] == ["queen", "princess"] and not {"man", "king", "woman"} & set(ranked)
    assert analogy("man", "king", "woman", X, words, exclude=["queen"])[0][0] == "princess"
    with pytest.raises(KeyError, match="'duke'"):
        analogy("man", "duke", "woman", X, words)
    with pytest.raises(TypeError, match="expected a word"):
        analogy("man", 3, "woman", X, words)


# ---------------------------------------------------------------- the synthetic corpus

def test_analogy_corpus_is_deterministic_and_uses_known_words():
    a, b = make_analogy_corpus(300, rng=4), make_analogy_corpus(300, rng=4)
    assert a == b and len(a) == 300 and a != make_analogy_corpus(300, rng=5)
    words = {w for s in a for w in s.split()}
    groups = word_groups()
    assert set(groups["people"]) == set(PEOPLE) and set(groups["animals"]) == set(ANIMALS)
    assert set(groups["capitals"]) | set(groups["countries"]) <= words | set(COUNTRIES)
    assert all(s == s.lower() and "  " not in s for s in a)


def test_analogy_questions():
    people, capitals = analogy_questions("people"), analogy_questions("capitals")
    assert len(people) == 72 and len(capitals) == 56
    assert analogy_questions() == people + capitals
    assert ("man", "woman", "king", "queen") in people
    assert ("france", "paris", "japan", "tokyo") in capitals
    for a, b, c, d in people:  # a -> b and c -> d change the same single attribute the same way
        diff_ab = [x != y for x, y in zip(PEOPLE[a], PEOPLE[b])]
        assert sum(diff_ab) == 1 and diff_ab == [x != y for x, y in zip(PEOPLE[c], PEOPLE[d])]
    with pytest.raises(ValueError, match="family"):
        analogy_questions("fruit")
    with pytest.raises(ValueError, match="n_sentences >= 1"):
        make_analogy_corpus(0)


def test_the_corpus_structure_is_in_the_ppmi_rows():
    """The corpus is built so that the analogies hold in the PPMI counts themselves."""
    sentences = [s.split() for s in make_analogy_corpus(3000, rng=0)]
    vocab = Vocab(sentences, specials=())
    C = cooccurrence_matrix([vocab.encode(s) for s in sentences], len(vocab), window=3)
    P = ppmi(C, alpha=0.75)
    correct = [analogy(a, b, c, P, vocab)[0][0] == d for a, b, c, d in analogy_questions()]
    assert np.mean(correct) > 0.95
    assert {w for w, _ in most_similar("dog", P, vocab, k=3)} <= set(ANIMALS)


# ---------------------------------------------------------------- the plot helper

def test_project_2d_is_pca_with_fixed_signs():
    from dlbook.plot.wordvec import project_2d
    X = RNG.normal(size=(30, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    Y = project_2d(X)
    Xc = X - X.mean(axis=0)
    _, S, _ = np.linalg.svd(Xc)
    np.testing.assert_allclose(np.linalg.norm(Y, axis=0), S[:2])
    np.testing.assert_allclose(Y, project_2d(-X), atol=1e-12)  # the sign is fixed by the data
    assert np.all(Y[np.argmax(np.abs(Y), axis=0), [0, 1]] > 0)
    with pytest.raises(ValueError, match="project_2d expected"):
        project_2d(np.ones((1, 3)))


def test_plot_word_vectors(plt):
    from dlbook.plot.wordvec import plot_word_vectors
    words = ["king", "queen", "man", "woman", "dog"]
    X = RNG.normal(size=(5, 4))
    ax = plot_word_vectors(X, words, groups={"people": words[:4], "animals": ["dog"]},
                           arrows=[("man", "woman"), ("king", "queen")])
    assert [t.get_text() for t in ax.texts][:5] == words
    assert len(ax.texts) == 7 and ax.get_legend() is not None
    _, ax2 = plt.subplots()
    assert plot_word_vectors(X, words, ax=ax2) is ax2
    with pytest.raises(ValueError, match=r"shape \(5, E\)"):
        plot_word_vectors(X[:3], words)
    with pytest.raises(KeyError, match="'cat'"):
        plot_word_vectors(X, words, arrows=[("dog", "cat")])
