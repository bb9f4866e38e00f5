"""Beam search for the encoder-decoders of chapters 16 and 17.

Greedy decoding commits to the most probable token at every step; a token
that looks best now can lead to a less probable whole answer. Beam search
keeps the K most probable *prefixes* (the beam) instead of one. At every step
each of the K prefixes is extended by every token of the vocabulary, and the
K best of the K * V extensions survive. A prefix that has written ``<eos>`` is
finished: it stays in the running with its final score, and is extended only
by padding, which adds nothing to it. Hypotheses are ranked by

    score(y) = log p(y | x) / |y|^alpha,   log p(y | x) = sum_t log p(y_t | y_<t, x),

where |y| counts the generated tokens, ``<eos>`` included, and alpha is
``length_penalty`` (0, the default: the plain sum of log-probabilities).
With K = 1 beam search takes exactly the greedy decoder's steps.

The model steps through :meth:`dlbook.models.seq2seq.Seq2Seq.decode_step`,
the same step that greedy decoding takes, on N * K rows: the encoder runs
once per source, and its outputs are repeated for the K beams.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlbook._checks import check_hyper, check_positive_int
from dlbook.functional import log_softmax
from dlbook.layers.base import eval_mode
from dlbook.models.seq2seq import initial_state
from dlbook.models.seq2seq_train import EVAL_BATCH, trim_padding


class BeamSearchResult(NamedTuple):
    """What :func:`beam_search` found for N sources with beam width K (chapter 16).

    Shapes (T = max_len): ids (N, K, T) hypotheses best first, each its tokens,
    ``<eos>`` included, then padding; log_probs (N, K) float64, the summed
    log-probabilities of those tokens; scores (N, K) the ranking, log_probs /
    lengths^alpha (descending); lengths (N, K) tokens written, ``<eos>``
    included. The search itself, step by step: tokens (N, T, K) the token beam
    k chose at step t, parents (N, T, K) the beam of step t - 1 it extended,
    cum_log_probs (N, T, K) its log-probability after step t, finished
    (N, T, K) whether it had written ``<eos>`` by step t.
    """

    ids: np.ndarray
    log_probs: np.ndarray
    scores: np.ndarray
    lengths: np.ndarray
    tokens: np.ndarray
    parents: np.ndarray
    cum_log_probs: np.ndarray
    finished: np.ndarray


def _take(state, rows: np.ndarray):
    """Select rows of a decoder state: (h, c) for an LSTM or h for a GRU."""
    return tuple(s[rows] for s in state) if isinstance(state, tuple) else state[rows]


def _top_k(scores: np.ndarray, K: int) -> np.ndarray:
    """Indices of the K largest scores of each row, best first; ties go to the lower index.

    Shapes: (N, M) -> (N, K). K = 1 is ``argmax``, the greedy decoder's choice.
    """
    if K == 1:
        return scores.argmax(axis=1)[:, None]
    top = np.argpartition(-scores, K - 1, axis=1)[:, :K]  # the K best, in no order: O(M)
    order = np.lexsort((top, -np.take_along_axis(scores, top, axis=1)), axis=1)
    return np.take_along_axis(top, order, axis=1)


def _empty_tree(N: int, T: int, K: int, pad: int) -> dict[str, np.ndarray]:
    """The search record of BeamSearchResult, as if every hypothesis had finished at step 0."""
    return {"tokens": np.full((N, T, K), pad, dtype=np.int64),
            "parents": np.tile(np.arange(K), (N, T, 1)),  # steps never taken: k continues k
            "cum_log_probs": np.zeros((N, T, K)), "finished": np.ones((N, T, K), dtype=bool)}


def beam_search_batch(model, src: np.ndarray, K: int, max_len: int,
                      alpha: float = 0.0) -> BeamSearchResult:
    """Beam search with width K over one batch of sources, all at once (chapter 16).

    Shapes: src (N, Ts) -> :class:`BeamSearchResult`; the model steps on N * K
    rows, row n * K + k holding hypothesis k of source n. :func:`beam_search`
    checks the arguments, sets evaluation mode and calls this on batches.
    """
    V, pad, eos = model.vocab_size, model.pad_index, model.eos_index
    ids, src_len = model.prepare_source(src)
    enc_out, context = model.encoder.forward(ids, src_len)
    N, rows = len(ids), np.arange(len(ids))[:, None]
    enc_out, context, src_len = (np.repeat(a, K, axis=0) for a in (enc_out, context, src_len))
    state = initial_state(model.decoder.rnn, context)
    log_prob = np.full((N, K), -np.inf)
    log_prob[:, 0] = 0.0  # one live prefix, <bos>, at the start (not K copies of it)
    length, done = np.zeros((N, K), dtype=np.int64), np.zeros((N, K), dtype=bool)
    out = np.full((N, K, max_len), pad, dtype=np.int64)
    tree = _empty_tree(N, max_len, K, pad)
    tokens = np.full(N * K, model.bos_index, dtype=np.int64)
    for t in range(max_len):
        logits, state = model.decode_step(tokens, state, context, enc_out, src_len)
        step_log_p = log_softmax(logits.astype(np.float64), axis=1).reshape(N, K, V)
        cand = log_prob[:, :, None] + step_log_p  # (N, K, V): every extension of every prefix
        cand[done] = -np.inf  # a finished hypothesis is extended only by padding, at no cost
        cand[done, pad] = log_prob[done]
        cand_len = np.where(done, length, length + 1)
        score = cand / cand_len[:, :, None] ** alpha  # (N, K, V)
        best = _top_k(score.reshape(N, K * V), K)  # (N, K): flat indices k * V + v, best first
        parent, token = np.divmod(best, V)
        log_prob = cand.reshape(N, K * V)[rows, best]
        length, done = cand_len[rows, parent], done[rows, parent] | (token == eos)
        out = out[rows, parent]  # the prefixes that were extended ...
        out[:, :, t] = token  # ... and the tokens they were extended by
        state = _take(state, (rows * K + parent).ravel())
        tokens = token.ravel()
        for name, value in zip(tree, (token, parent, log_prob, done)):
            tree[name][:, t] = value
        if done.all():
            break
    tree["cum_log_probs"][:, t + 1:] = log_prob[:, None, :]
    return BeamSearchResult(out, log_prob, log_prob / length ** alpha, length, **tree)


def beam_search(model, src: np.ndarray, beam_width: int, max_len: int,
                length_penalty: float = 0.0, batch_size: int = EVAL_BATCH) -> BeamSearchResult:
    """The ``beam_width`` best answers of an encoder-decoder for every source (chapter 16).

    Shapes: src (N, Ts) right-padded ids -> :class:`BeamSearchResult` with
    ids (N, K, max_len), best first (``ids[:, 0]`` is comparable to
    ``model.generate(src, max_len)``). Works for
    :class:`dlbook.models.seq2seq.Seq2Seq` and
    :class:`dlbook.models.attention_seq2seq.AttentionSeq2Seq`; sources are
    decoded ``batch_size`` at a time, each batch trimmed to its longest
    source, as :func:`dlbook.models.seq2seq_train.generate_batched` does.
    ``length_penalty`` alpha >= 0 divides log p by |y|^alpha.
    """
    where = "beam_search"
    K = check_positive_int(beam_width, where, "beam_width")
    if K > model.vocab_size:
        raise ValueError(f"{where} expected beam_width <= vocab_size={model.vocab_size} (one step "
                         f"has only that many extensions of the first prefix); got {K}")
    max_len = check_positive_int(max_len, where, "max_len")
    batch_size = check_positive_int(batch_size, where, "batch_size")
    alpha = check_hyper(length_penalty, where, "length_penalty")
    src = np.asarray(src)
    if src.ndim != 2 or len(src) == 0:
        raise ValueError(f"{where} expected src of shape (N, Ts) with N >= 1; got shape {src.shape}")
    with eval_mode(model):
        parts = [beam_search_batch(model, trim_padding(src[i:i + batch_size], model.pad_index), K,
                                   max_len, alpha)
                 for i in range(0, len(src), batch_size)]
    return BeamSearchResult(*(np.concatenate(field, axis=0) for field in zip(*parts)))
