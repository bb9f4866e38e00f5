"""word2vec: skip-gram and CBOW with a full softmax or negative sampling (chapter 13).

Both models own two (V, E) tables: ``W_in`` holds the vector of a word as
the *input* (the centre word for skip-gram, the context words for CBOW) and
``W_out`` its vector as the *output* being predicted. The model is
log-bilinear: the score of output word o given input vector h is u_o . h.

* full softmax: loss = -log softmax(h W_out^T)[o], O(V E) per example;
* negative sampling: loss = -log sigma(u_o . h) - sum_k log sigma(-u_k . h),
  with K negatives u_k drawn from the unigram distribution to the 0.75
  (:class:`UnigramSampler`), O(K E) per example.

The models follow the layer protocol: ``forward`` returns the mean loss over
the batch, ``backward`` accumulates into ``grads`` (word ids have no gradient,
so it returns None), and ``dlbook.optim`` optimizers train them.
"""

from __future__ import annotations

import numpy as np

import dlbook.functional as F
from dlbook._checks import as_label_array, check_positive_int
from dlbook.layers.base import Layer
from dlbook.utils import make_rng

LOSSES = ("negative", "softmax")
UNIGRAM_POWER = 0.75
"""word2vec's exponent for the noise distribution: P(w) proportional to count(w)^0.75."""


class UnigramSampler:
    """Draws word ids with P(w) = n_w^power / sum_v n_v^power (the negative-sampling noise).

    Shapes: counts (V,) non-negative -> ``probs`` (V,); ``sample(shape)`` -> int64 ``shape``.
    Words with count 0 (e.g. <pad>) are never drawn. Sampling inverts the
    cumulative distribution with a binary search, O(log V) per draw. Chapter 13.
    """

    def __init__(self, counts, power: float = UNIGRAM_POWER,
                 rng: int | np.random.Generator | None = None):
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 1 or counts.size == 0:
            raise ValueError(f"UnigramSampler expected counts of shape (V,); got {counts.shape}")
        if np.any(counts < 0) or not counts.sum() > 0:
            raise ValueError("UnigramSampler expected non-negative counts with a positive sum")
        if not power >= 0:
            raise ValueError(f"UnigramSampler expected power >= 0; got {power}")
        weights = np.where(counts > 0, counts ** power, 0.0)
        self.power = float(power)
        self.probs = weights / weights.sum()
        self._cdf = np.cumsum(self.probs)
        self._cdf /= self._cdf[-1]  # exactly 1 at the end: no draw falls past it
        self.rng = make_rng(rng, "UnigramSampler")

    def sample(self, shape: int | tuple[int, ...]) -> np.ndarray:
        """Draw ids of the given shape, independently from ``probs``."""
        u = self.rng.random(shape)
        return np.searchsorted(self._cdf, u, side="right").astype(np.int64)

    def __repr__(self) -> str:
        return f"UnigramSampler(V={self.probs.size}, power={self.power:g})"


def _sequences(ids) -> list[np.ndarray]:
    if isinstance(ids, np.ndarray) and ids.ndim == 1:
        ids = [ids]
    out = []
    for seq in ids:
        seq = np.asarray(seq)
        if seq.ndim != 1 or (seq.size and not np.issubdtype(seq.dtype, np.integer)):
            raise TypeError(f"word2vec pair generation expected 1-D integer id arrays; got "
                            f"shape {seq.shape} and dtype {seq.dtype}")
        out.append(seq.astype(np.int64))
    return out


def skipgram_pairs(ids, window: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Every (centre, context) pair with the context at most ``window`` positions away.

    Shapes: ids (T,) or a list of id sequences -> centers (P,), contexts (P,) int64.
    Pairs never cross sequence boundaries; both directions are listed. Chapter 13.
    """
    window = check_positive_int(window, "skipgram_pairs", "window")
    centers, contexts = [], []
    for seq in _sequences(ids):
        for d in range(1, min(window, len(seq) - 1) + 1):
            centers += [seq[:-d], seq[d:]]  # the context d to the right, then d to the left
            contexts += [seq[d:], seq[:-d]]
    if not centers:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(centers), np.concatenate(contexts)


def cbow_examples(ids, window: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every position: the ids around it, which of them exist, and the centre id.

    Shapes: ids (T,) or a list of sequences -> contexts (P, 2 window) int64,
    mask (P, 2 window) bool (False where the window sticks out of the sequence;
    that slot holds id 0), centers (P,) int64. Chapter 13.
    """
    window = check_positive_int(window, "cbow_examples", "window")
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])  # (2 window,)
    ctx, msk, cen = [], [], []
    for seq in _sequences(ids):
        if len(seq) < 2:
            continue
        pos = np.arange(len(seq))[:, None] + offsets  # (T, 2 window)
        inside = (pos >= 0) & (pos < len(seq))
        ctx.append(np.where(inside, seq[np.clip(pos, 0, len(seq) - 1)], 0))
        msk.append(inside)
        cen.append(seq)
    if not cen:
        empty = np.zeros((0, 2 * window), np.int64)
        return empty, empty.astype(bool), np.zeros(0, np.int64)
    return np.concatenate(ctx), np.concatenate(msk), np.concatenate(cen)


class _Word2Vec(Layer):
    """Shared parts: the two tables, the output-side losses, argument checks."""

    def __init__(self, num_embeddings: int, embedding_dim: int, loss: str = "negative",
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        self.num_embeddings = check_positive_int(num_embeddings, name, "num_embeddings")
        self.embedding_dim = check_positive_int(embedding_dim, name, "embedding_dim")
        if loss not in LOSSES:
            raise ValueError(f"{name} expected loss in {LOSSES}; got {loss!r}")
        self.loss = loss
        V, E = self.num_embeddings, self.embedding_dim
        rng = make_rng(rng, name)
        # word2vec's initialisation: small uniform input vectors, zero output vectors
        self.add_param("W_in", ((rng.random((V, E)) - 0.5) / E).astype(dtype))
        self.add_param("W_out", np.zeros((V, E), dtype=dtype))
        self._cache = None
        self._inputs = None

    def _ids(self, ids, ndim: int, what: str, shape_hint: str) -> np.ndarray:
        ids = as_label_array(ids, f"{type(self).__name__}.forward", what)
        if ids.ndim != ndim:
            raise ValueError(f"{type(self).__name__}.forward expected {what} of shape "
                             f"{shape_hint}; got shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            raise ValueError(f"{type(self).__name__}.forward expected {what} in "
                             f"[0, {self.num_embeddings}); got [{ids.min()}, {ids.max()}]")
        return ids

    def _loss_forward(self, h: np.ndarray, targets: np.ndarray, negatives) -> float:
        """Mean output-side loss of the input vectors h (N, E); caches for backward."""
        N = h.shape[0]
        if self.loss == "softmax":
            if negatives is not None:
                raise ValueError(f"{type(self).__name__}.forward with loss='softmax' takes no "
                                 f"negatives; got an array")
            scores = h @ self.params["W_out"].T  # (N, V)
            logp = F.log_softmax(scores)
            self._cache = (h, targets, None, np.exp(logp))
            return float(-logp[np.arange(N), targets].mean())
        if negatives is None:
            raise ValueError(f"{type(self).__name__}.forward with loss='negative' needs "
                             f"negatives of shape (N, K); got None")
        negatives = self._ids(negatives, 2, "negatives", "(N, K)")
        if negatives.shape[0] != N:
            raise ValueError(f"{type(self).__name__}.forward expected negatives of shape "
                             f"({N}, K); got shape {negatives.shape}")
        W_out = self.params["W_out"]
        s_pos = np.sum(h * W_out[targets], axis=-1)  # (N,) u_o . h
        s_neg = np.einsum("nke,ne->nk", W_out[negatives], h)  # (N, K) u_k . h
        self._cache = (h, targets, negatives, (s_pos, s_neg))
        # -log sigma(s) = softplus(-s): finite for any score
        return float((F.softplus(-s_pos) + F.softplus(s_neg).sum(axis=-1)).mean())

    def _loss_backward(self, dout: float) -> np.ndarray:
        """Adds dL/dW_out into grads and returns dL/dh (N, E)."""
        h, targets, negatives, extra = self._cached(self._cache)
        N = h.shape[0]
        W_out, dW_out = self.params["W_out"], self.grads["W_out"]
        if self.loss == "softmax":
            dscores = extra.copy()  # softmax probabilities p, (N, V)
            dscores[np.arange(N), targets] -= 1.0  # p - onehot(o)
            dscores *= dout / N
            dW_out += (dscores.T @ h).astype(dW_out.dtype)
            return dscores @ W_out
        s_pos, s_neg = extra
        ds_pos = (F.sigmoid(s_pos) - 1.0) * (dout / N)  # (N,)  d/ds of -log sigma(s)
        ds_neg = F.sigmoid(s_neg) * (dout / N)  # (N, K)  d/ds of -log sigma(-s)
        np.add.at(dW_out, targets, ds_pos[:, None] * h)
        np.add.at(dW_out, negatives, ds_neg[:, :, None] * h[:, None, :])
        return ds_pos[:, None] * W_out[targets] + np.einsum("nk,nke->ne", ds_neg, W_out[negatives])

    @property
    def embeddings(self) -> np.ndarray:
        """The word vectors used downstream: the input table W_in (V, E)."""
        return self.params["W_in"]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_embeddings={self.num_embeddings}, "
                f"embedding_dim={self.embedding_dim}, loss={self.loss!r})")


class SkipGram(_Word2Vec):
    """Skip-gram: predict a context word o from the centre word c, h = W_in[c].

    Shapes: forward(centers (N,), contexts (N,), negatives (N, K) or None) -> float.
    Params W_in (V, E), W_out (V, E). ``loss="softmax"`` scores all V words;
    ``loss="negative"`` scores the true context against K sampled ones. Chapter 13.
    """

    def forward(self, centers, contexts, negatives=None) -> float:
        centers = self._ids(centers, 1, "centers", "(N,)")
        contexts = self._ids(contexts, 1, "contexts", "(N,)")
        if contexts.shape != centers.shape:
            raise ValueError(f"SkipGram.forward expected contexts of shape {centers.shape}; "
                             f"got {contexts.shape}")
        self._inputs = centers
        return self._loss_forward(self.params["W_in"][centers], contexts, negatives)

    def backward(self, dout: float = 1.0) -> None:
        """Adds dL/dW_out and dL/dW_in (scatter-added to the centre rows) into grads."""
        dh = self._loss_backward(float(dout))
        np.add.at(self.grads["W_in"], self._inputs, dh)


class CBOW(_Word2Vec):
    """Continuous bag of words: predict the centre word from the mean of its context vectors.

    h = (1 / |C|) sum_{j in C} W_in[j] over the real (mask True) context slots.
    Shapes: forward(contexts (N, C), centers (N,), negatives (N, K) or None,
    mask (N, C) bool or None = all True) -> float. Params as :class:`SkipGram`. Chapter 13.
    """

    def forward(self, contexts, centers, negatives=None, mask=None) -> float:
        contexts = self._ids(contexts, 2, "contexts", "(N, C)")
        centers = self._ids(centers, 1, "centers", "(N,)")
        if centers.shape[0] != contexts.shape[0]:
            raise ValueError(f"CBOW.forward expected centers of shape ({contexts.shape[0]},); "
                             f"got {centers.shape}")
        mask = np.ones(contexts.shape, bool) if mask is None else np.asarray(mask, bool)
        if mask.shape != contexts.shape or not mask.any(axis=1).all():
            raise ValueError(f"CBOW.forward expected a mask of shape {contexts.shape} with at "
                             f"least one True per row; got shape {mask.shape}")
        weights = mask / mask.sum(axis=1, keepdims=True)  # (N, C): 1/|C| on real slots
        h = np.einsum("nc,nce->ne", weights, self.params["W_in"][contexts])  # (N, E)
        self._inputs = (contexts, weights.astype(h.dtype))
        return self._loss_forward(h, centers, negatives)

    def backward(self, dout: float = 1.0) -> None:
        """Adds dL/dW_out, and dL/dh / |C| scatter-added to every context row of W_in."""
        dh = self._loss_backward(float(dout))
        contexts, weights = self._inputs
        np.add.at(self.grads["W_in"], contexts, weights[:, :, None] * dh[:, None, :])


def word2vec_batches(inputs, targets, batch_size: int = 256, sampler: UnigramSampler | None = None,
                     num_negatives: int = 5, mask=None,
                     rng: int | np.random.Generator | None = None) -> "Word2VecBatches":
    """Shuffled word2vec batches for :func:`dlbook.train.fit`, negatives drawn per batch.

    Shapes: inputs (P,) centres for SkipGram or (P, C) contexts for CBOW,
    targets (P,), mask (P, C) for CBOW or None. Each pass shuffles the examples
    with ``rng``; with a ``sampler`` every batch gets (B, num_negatives)
    negative ids. A batch is (inputs, targets, negatives or None, mask or None).
    Train with ``fit(model, batches, optimizer, epochs, step=word2vec_step)``. Chapter 13.
    """
    return Word2VecBatches(inputs, targets, batch_size, sampler, num_negatives, mask, rng)


class Word2VecBatches:
    """The re-iterable of :func:`word2vec_batches`: a fresh permutation on every pass."""

    def __init__(self, inputs, targets, batch_size, sampler, num_negatives, mask, rng):
        self.batch_size = check_positive_int(batch_size, "word2vec_batches", "batch_size")
        self.inputs, self.targets = np.asarray(inputs), np.asarray(targets)
        if self.inputs.shape[0] != self.targets.shape[0] or self.targets.shape[0] == 0:
            raise ValueError(f"word2vec_batches expected as many inputs as targets (at least "
                             f"one); got {self.inputs.shape[0]} and {self.targets.shape[0]}")
        self.sampler, self.num_negatives, self.mask = sampler, num_negatives, mask
        self.rng = make_rng(rng, "word2vec_batches")

    def __iter__(self):
        order = self.rng.permutation(self.targets.shape[0])
        for start in range(0, order.size, self.batch_size):
            idx = order[start:start + self.batch_size]
            neg = None if self.sampler is None else self.sampler.sample((idx.size, self.num_negatives))
            mask = None if self.mask is None else self.mask[idx]
            yield self.inputs[idx], self.targets[idx], neg, mask


def word2vec_step(model: _Word2Vec, batch) -> float:
    """A ``fit`` step for SkipGram/CBOW, which are their own loss: forward, then backward(1)."""
    inputs, targets, negatives, mask = batch
    if model.loss == "negative" and negatives is None:
        raise ValueError("word2vec_step expected negatives for loss='negative' "
                         "(give word2vec_batches a UnigramSampler); got None")
    extra = {} if mask is None else {"mask": mask}
    loss = model.forward(inputs, targets, negatives if model.loss == "negative" else None, **extra)
    model.backward(1.0)
    return loss
