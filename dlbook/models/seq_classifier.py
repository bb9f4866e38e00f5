"""A recurrent sequence classifier: Embedding -> RNN/LSTM/GRU -> last hidden state -> Linear (chapter 14).

The recurrent layer reads the whole sequence; its hidden state after the
last real token summarises it, and one affine map turns that summary into
class scores:

    h_t = cell(h_{t-1}, E[x_t]),   z = h_{L} W + b,   L = the sequence's length.

Sequences of different lengths are right-padded into one (N, T) array. The
recurrence is causal (h_t depends on x_1..x_t only), so the padding after
position L cannot change h_L: the model just reads h at index L - 1 of each
row, and in the backward pass the gradient enters the recurrence there and
nowhere else, so the padded steps receive exactly zero gradient.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers.base import Layer
from dlbook._checks import check_positive_int
from dlbook.layers.embedding import Embedding
from dlbook.layers.linear import Linear
from dlbook.models.cells import cell_backward, check_cell, make_cell, run_cell
from dlbook.utils import make_rng


class RNNClassifier(Layer):
    """Class scores from the last real hidden state of a recurrent layer (chapter 14).

    Shapes: ids (N, T) integers in [0, V), lengths (N,) in [1, T] -> logits (N, C).
    ``forward(ids, lengths=None)``: without ``lengths`` every row is read to its
    end, or, when the model has a ``padding_idx``, up to its first padding
    token (right padding). ``backward(dlogits (N, C))`` accumulates every
    gradient and returns None. Parameters are named ``embedding.W``,
    ``rnn.W_x`` ..., ``fc.W``, ``fc.b``. Works with :func:`dlbook.train.fit`.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int, num_classes: int,
                 cell: str = "rnn", padding_idx: int | None = None,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        self.cell = check_cell(cell, "RNNClassifier")
        V = check_positive_int(vocab_size, "RNNClassifier", "vocab_size")
        E = check_positive_int(embedding_dim, "RNNClassifier", "embedding_dim")
        H = check_positive_int(hidden_size, "RNNClassifier", "hidden_size")
        C = check_positive_int(num_classes, "RNNClassifier", "num_classes")
        rng = make_rng(rng, "RNNClassifier")
        self.embedding = Embedding(V, E, padding_idx=padding_idx, rng=rng, dtype=dtype)
        self.rnn = make_cell(self.cell, E, H, rng=rng, dtype=dtype)
        self.fc = Linear(H, C, rng=rng, dtype=dtype)
        self.padding_idx = self.embedding.padding_idx
        self._last = None  # (lengths - 1, out shape) of the latest forward

    def lengths_of(self, ids: np.ndarray) -> np.ndarray:
        """Length of each right-padded row: the index of its first padding token (T if none).

        Shapes: ids (N, T) -> (N,) int64. Without a ``padding_idx`` every length is T.
        """
        ids = np.asarray(ids)
        N, T = ids.shape
        if self.padding_idx is None:
            return np.full(N, T, dtype=np.int64)
        is_pad = ids == self.padding_idx
        return np.where(is_pad.any(axis=1), is_pad.argmax(axis=1), T).astype(np.int64)

    def _check_lengths(self, lengths, N: int, T: int) -> np.ndarray:
        arr = np.asarray(lengths)
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"RNNClassifier.forward expected integer lengths; got dtype {arr.dtype}")
        if arr.shape != (N,):
            raise ValueError(f"RNNClassifier.forward expected lengths of shape ({N},); "
                             f"got shape {arr.shape}")
        if arr.size and (arr.min() < 1 or arr.max() > T):
            raise ValueError(f"RNNClassifier.forward expected lengths in [1, {T}] (every "
                             f"sequence needs a token); got {int(arr.min())}..{int(arr.max())}")
        return arr.astype(np.int64)

    def forward(self, ids: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Logits from h at the last real step of each row. Shapes: (N, T), (N,) -> (N, C)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or 0 in ids.shape:
            raise ValueError(f"RNNClassifier.forward expected token ids of shape (N, T); "
                             f"got shape {ids.shape}")
        N, T = ids.shape
        lengths = self.lengths_of(ids) if lengths is None else self._check_lengths(lengths, N, T)
        if lengths.min() < 1:
            raise ValueError("RNNClassifier.forward expected every row to start with a real token; "
                             "got a row of padding only")
        out = run_cell(self.rnn, self.embedding.forward(ids))  # (N, T, H)
        last = lengths - 1
        self._last = (last, out.shape)
        return self.fc.forward(out[np.arange(N), last])  # (N, H) -> (N, C)

    def backward(self, dout: np.ndarray) -> None:
        """The gradient enters the recurrence at each row's last real step only; returns None."""
        last, shape = self._cached(self._last)
        dh_last = self.fc.backward(dout)  # (N, H)
        d_out = np.zeros(shape, dtype=dh_last.dtype)  # (N, T, H): zero at every other step
        d_out[np.arange(shape[0]), last] = dh_last
        dx, _ = cell_backward(self.rnn, d_out)  # started from zeros: no state gradient
        self.embedding.backward(dx)
        return None

    def __repr__(self) -> str:
        E, H = self.embedding.embedding_dim, self.rnn.hidden_size
        return (f"RNNClassifier(vocab_size={self.embedding.num_embeddings}, embedding_dim={E}, "
                f"hidden_size={H}, num_classes={self.fc.out_features}, cell={self.cell!r})")
