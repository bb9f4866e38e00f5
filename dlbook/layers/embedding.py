"""An embedding table (lookup forward, scatter-add backward) and masked mean pooling (chapter 12).

``Embedding`` maps each integer token index to a learned row of ``W``:
out[..., :] = W[ids[...]], the same as one_hot(ids) @ W without building the
one-hot matrix. Its backward pass adds each upstream row into the row of
``W`` it came from; ``np.add.at`` makes repeated indices *accumulate*
(plain fancy-index assignment would keep only the last one).

``MeanPool`` averages a sequence of vectors over the real (unmasked)
positions. ``EmbeddingBag`` fuses the two for a padded batch of token ids:
it looks up every token and averages (or sums) the rows of each sequence,
skipping the padding. Followed by ``Linear`` it is the bag-of-embeddings
classifier of chapter 12 (PyTorch: ``torch.nn.EmbeddingBag``).
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.layers.base import Layer
from dlbook.init import normal_
from dlbook.utils import make_rng

__all__ = ["Embedding", "EmbeddingBag", "MeanPool", "TiedLinear"]

BAG_MODES = ("mean", "sum")


def _check_ids(ids, num_embeddings: int, where: str) -> np.ndarray:
    """Integer ids in [0, V): anything else is a clear error, not a wrapped or float lookup."""
    arr = np.asarray(ids)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{where} expected integer token indices; got dtype {arr.dtype} "
                        "(convert with ids.astype(np.int64) if the values are whole numbers)")
    if arr.size and (arr.min() < 0 or arr.max() >= num_embeddings):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise ValueError(f"{where} expected indices in [0, {num_embeddings - 1}] "
                         f"(num_embeddings={num_embeddings}); got {int(bad)}")
    return arr


class Embedding(Layer):
    """Lookup table out = W[ids]; backward scatter-adds dout into the rows of W that were used.

    Shapes: ids (...) integers in [0, V) -> out (..., E); W (V, E).
    W starts as N(0, 1) (PyTorch's default). The row ``padding_idx`` starts
    at 0 and never receives a gradient, so a padding token keeps the zero
    vector (torch.nn.Embedding semantics). Integer ids have no gradient:
    ``backward`` returns None. Derived in chapter 12.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        self.num_embeddings = check_positive_int(num_embeddings, "Embedding", "num_embeddings")
        self.embedding_dim = check_positive_int(embedding_dim, "Embedding", "embedding_dim")
        self.padding_idx = self._check_padding_idx(padding_idx)
        shape = (self.num_embeddings, self.embedding_dim)
        W = normal_(shape, std=1.0, rng=make_rng(rng, "Embedding"), dtype=np.float64)  # torch's N(0, 1)
        if self.padding_idx is not None:
            W[self.padding_idx] = 0.0
        self.add_param("W", W.astype(dtype))
        self._ids = None

    def _check_padding_idx(self, padding_idx) -> int | None:
        """Like torch: None, or an int in [-V, V); a negative one counts from the end."""
        if padding_idx is None:
            return None
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
            raise TypeError(f"Embedding expected padding_idx to be an int or None; "
                            f"got {type(padding_idx).__name__}")
        V = self.num_embeddings
        if not -V <= padding_idx < V:
            raise ValueError(f"Embedding expected padding_idx in [{-V}, {V - 1}]; "
                             f"got {padding_idx}")
        return int(padding_idx) % V

    def forward(self, ids: np.ndarray) -> np.ndarray:
        """out = W[ids], a row per index. Shapes: (...) -> (..., E)."""
        ids = _check_ids(ids, self.num_embeddings, "Embedding.forward")
        self._ids = ids
        return self.params["W"][ids]

    def backward(self, dout: np.ndarray) -> None:
        """dW[v] += sum of dout[p] over every position p with ids[p] == v. (..., E) -> None."""
        ids = self._cached(self._ids)
        dout = self._check_dout(dout, ids.shape + (self.embedding_dim,))
        flat_ids = ids.reshape(-1)  # (...) -> (M,), M = number of positions
        flat_dout = dout.reshape(-1, self.embedding_dim)  # (..., E) -> (M, E)
        if self.padding_idx is not None:
            keep = flat_ids != self.padding_idx  # padding positions send no gradient
            flat_ids, flat_dout = flat_ids[keep], flat_dout[keep]
        np.add.at(self.grads["W"], flat_ids, flat_dout)  # repeated ids accumulate
        return None

    def __repr__(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{pad})"


class MeanPool(Layer):
    """Masked mean over time: out[n] = sum_t mask[n, t] x[n, t] / max(1, sum_t mask[n, t]).

    Shapes: x (N, T, D), mask (N, T) bool (True = real token; None = all
    real) -> out (N, D). A row with no real token gives the zero vector.
    Backward: dx[n, t] = mask[n, t] dout[n] / count[n]; padded positions get
    exactly 0. Used for the bag-of-embeddings classifier of chapter 12.
    """

    def __init__(self) -> None:
        super().__init__()
        self._weights = None  # (N, T, 1): mask / count, the weight of each position
        self._x_shape: tuple[int, int, int] = (0, 0, 0)

    def forward(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Average of the unmasked rows of each sequence. Shapes: (N, T, D), (N, T) -> (N, D)."""
        x = as_float_array(x, "MeanPool.forward")
        if x.ndim != 3:
            raise ValueError(f"MeanPool.forward expected x of shape (N, T, D); got shape {x.shape}")
        if mask is None:
            mask = np.ones(x.shape[:2], dtype=bool)
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"MeanPool.forward expected a bool mask (True = real token); "
                            f"got dtype {mask.dtype}")
        if mask.shape != x.shape[:2]:
            raise ValueError(f"MeanPool.forward expected mask of shape {x.shape[:2]} (N, T); "
                             f"got shape {mask.shape}")
        count = np.maximum(mask.sum(axis=1, keepdims=True), 1)  # (N, 1); empty rows -> 1
        self._weights = (mask / count).astype(x.dtype)[:, :, None]  # (N, T) -> (N, T, 1)
        self._x_shape = x.shape
        return (x * self._weights).sum(axis=1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx[n, t] = weights[n, t] dout[n]. Shapes: (N, D) -> (N, T, D)."""
        weights = self._cached(self._weights)
        N, T, D = self._x_shape
        dout = self._check_dout(dout, (N, D))
        return weights * dout[:, None, :]  # (N, T, 1) * (N, 1, D) -> (N, T, D)


class EmbeddingBag(Embedding):
    """Pooled lookup out[n] = sum_t w[n,t] W[ids[n,t]], w = mask/count ("mean") or mask ("sum").

    Shapes: ids (N, T) integers in [0, V) -> out (N, E); W (V, E).
    Positions holding ``padding_idx`` are left out of the bag (mask False);
    a bag with no real token gives the zero vector. Backward scatter-adds
    w[n, t] dout[n] into row ids[n, t] of dW. Same semantics as
    ``torch.nn.EmbeddingBag(V, E, mode=mode, padding_idx=...)`` on 2-D input.
    Chapter 12.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, mode: str = "mean",
                 padding_idx: int | None = None,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        if mode not in BAG_MODES:
            raise ValueError(f"EmbeddingBag expected mode in {BAG_MODES}; got {mode!r}")
        super().__init__(num_embeddings, embedding_dim, padding_idx, rng, dtype)
        self.mode = mode
        self._weights = None

    def forward(self, ids: np.ndarray) -> np.ndarray:
        """Average (or sum) of the embeddings of each row's real tokens. (N, T) -> (N, E)."""
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"EmbeddingBag.forward expected ids of shape (N, T); "
                             f"got shape {ids.shape}")
        vectors = super().forward(ids)  # (N, T, E)
        pad = self.padding_idx
        mask = ids != pad if pad is not None else np.ones(ids.shape, dtype=bool)
        weights = mask.astype(vectors.dtype)  # (N, T): 1 at real tokens, 0 at padding
        if self.mode == "mean":
            weights /= np.maximum(mask.sum(axis=1, keepdims=True), 1)
        self._weights = weights[:, :, None]  # (N, T) -> (N, T, 1)
        return (vectors * self._weights).sum(axis=1)

    def backward(self, dout: np.ndarray) -> None:
        """dW[ids[n, t]] += w[n, t] dout[n]; integer ids get no gradient. (N, E) -> None."""
        weights = self._cached(self._weights)
        N, T, _ = weights.shape
        dout = self._check_dout(dout, (N, self.embedding_dim))
        super().backward(weights * dout[:, None, :])  # (N, T, 1) * (N, 1, E)
        return None

    def __repr__(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"EmbeddingBag({self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}{pad})"


class TiedLinear(Layer):
    """z = h E^T + b with the (V, E) matrix E of an :class:`Embedding` (weight tying, chapter 15).

    Shapes: h (..., E) -> z (..., V). ``params`` holds only ``b`` (V,); the
    gradient of E, dE = dz^T h, is *added* to the embedding's ``grads["W"]``,
    where the embedding's own backward adds its scatter-add too, so E receives
    the sum of both uses. Backward: dh = dz E.
    """

    def __init__(self, embedding: Embedding, bias: bool = True):
        super().__init__()
        if not isinstance(embedding, Embedding):
            raise TypeError(f"TiedLinear expected an Embedding to share its weight with; "
                            f"got {type(embedding).__name__}")
        self.embedding = embedding
        V = embedding.num_embeddings
        if bias:
            self.add_param("b", np.zeros(V, dtype=embedding.params["W"].dtype))
        self._h = None

    def forward(self, h: np.ndarray) -> np.ndarray:
        """z = h E^T + b. Shapes: (..., E) -> (..., V)."""
        h = as_float_array(h, "TiedLinear.forward", "h")
        E = self.embedding.params["W"]  # (V, E)
        if h.ndim == 0 or h.shape[-1] != E.shape[1]:
            raise ValueError(f"TiedLinear.forward expected h of shape (..., {E.shape[1]}); "
                             f"got shape {h.shape}")
        self._h = h
        z = h @ E.T
        return z + self.params["b"] if "b" in self.params else z

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dh = dz E; adds dE = dz^T h to the embedding's grads and db = sum(dz). (..., V) -> (..., E)."""
        h = self._cached(self._h)
        E = self.embedding.params["W"]
        dout = self._check_dout(dout, h.shape[:-1] + (E.shape[0],))
        dz2 = dout.reshape(-1, E.shape[0])  # (..., V) -> (M, V)
        self.embedding.grads["W"] += dz2.T @ h.reshape(-1, E.shape[1])  # (V, M) @ (M, E)
        if "b" in self.grads:
            self.grads["b"] += dz2.sum(axis=0)
        return dout @ E
