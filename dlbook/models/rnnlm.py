"""A recurrent language model: embedding, stacked RNN/LSTM/GRU, output layer (chapter 15).

The model reads token ids x (N, T) and returns logits (N, T, V) whose row
(n, t) scores every possible token x[n, t + 1]:

    e_t = E[x_t],   h_t^(l) = cell_l(h_{t-1}^(l), dropout(h_t^(l-1))),   z_t = dropout(h_t^(L)) W + b.

Dropout sits on the non-recurrent connections only (between the embedding,
the layers and the output; Zaremba et al., 2014), never on the state carried
from step to step. With ``tie_weights=True`` the output matrix is the
embedding matrix transposed, W = E^T (Press & Wolf, 2017; Inan et al., 2017):
one (V, E) array serves both ends, and its gradient is the *sum* of the
embedding's scatter-add and the output layer's h^T dz.

The training loop is stateful truncated BPTT: the stream is cut into N rows
read window by window (``dlbook.text.batching.stream_batches``), the final
state of one window starts the next, and the gradient stops at the window
boundary. Held-out perplexity and text generation are in :mod:`dlbook.models.lm_tools`.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import check_hyper, check_positive_int
from dlbook.layers.base import Layer
from dlbook.layers.container import LayerList
from dlbook.layers.dropout import Dropout
from dlbook.layers.embedding import Embedding, TiedLinear
from dlbook.layers.linear import Linear
from dlbook.layers.seq_loss import SequenceCrossEntropyLoss
from dlbook.models.cells import State, cell_backward, check_cell, final_state, make_cell, run_cell
from dlbook.text.batching import stream_batches
from dlbook.utils import make_rng

__all__ = ["LMBatches", "RNNLM", "TBPTTStep", "lm_batches"]


class RNNLM(Layer):
    """Next-token model: Embedding -> num_layers x RNN/LSTM/GRU -> Linear (chapter 15).

    Shapes: ids (N, T) integers in [0, V) -> logits (N, T, V).
    ``forward(ids, state=None)``: ``state`` is a list with one entry per layer
    (an (N, H) array, or a pair (h, c) for an LSTM; None: zeros); afterwards
    ``self.state_n`` holds copies of the final states, to start the next
    window of a stream. ``backward(dlogits)`` accumulates every gradient and
    returns None (token ids have no gradient), or, after a forward given a
    state, the per-layer gradients of that state (same forms; None for a
    layer that started from zeros).

    ``params`` / ``grads`` are gathered under PyTorch-like names:
    ``embedding.W``, ``rnn.0.W_x`` ..., ``fc.W``, ``fc.b`` (tied: ``fc.b`` only).
    ``tie_weights=True`` needs ``embedding_dim == hidden_size``.
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int,
                 cell: str = "lstm", num_layers: int = 1, dropout: float = 0.0,
                 tie_weights: bool = False, rng: int | np.random.Generator | None = None,
                 dtype=np.float32):
        super().__init__()
        self.cell = check_cell(cell, "RNNLM")
        V = check_positive_int(vocab_size, "RNNLM", "vocab_size")
        E = check_positive_int(embedding_dim, "RNNLM", "embedding_dim")
        H = check_positive_int(hidden_size, "RNNLM", "hidden_size")
        self.num_layers = check_positive_int(num_layers, "RNNLM", "num_layers")
        if tie_weights and E != H:
            raise ValueError(f"RNNLM with tie_weights=True expected embedding_dim == hidden_size "
                             f"(the output matrix is the embedding transposed); got {E} and {H}")
        dropout = check_hyper(dropout, "RNNLM", "dropout", 0.0, 1.0)
        rng = make_rng(rng, "RNNLM")
        self.embedding = Embedding(V, E, rng=rng, dtype=dtype)
        self.rnn = LayerList(make_cell(self.cell, E if l == 0 else H, H, rng=rng, dtype=dtype)
                             for l in range(self.num_layers))
        # dropout on every non-recurrent connection: after the embedding and after each layer
        self.drops = LayerList(Dropout(dropout, rng=rng) for _ in range(self.num_layers + 1))
        self.fc = TiedLinear(self.embedding) if tie_weights else Linear(H, V, rng=rng, dtype=dtype)
        self.tie_weights = bool(tie_weights)
        self.vocab_size, self.embedding_dim, self.hidden_size = V, E, H
        self.dropout = float(dropout)
        self.state_n: list[State] | None = None

    def _drop(self, i: int, x: np.ndarray) -> np.ndarray:
        return self.drops[i].forward(x)

    def _drop_back(self, i: int, d: np.ndarray) -> np.ndarray:
        return self.drops[i].backward(d)

    def forward(self, ids: np.ndarray, state: list[State] | None = None) -> np.ndarray:
        """Logits for the next token at every position. Shapes: (N, T) -> (N, T, V)."""
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"RNNLM.forward expected token ids of shape (N, T); got shape {ids.shape}")
        if state is None:
            state = [None] * self.num_layers
        if not isinstance(state, (list, tuple)) or len(state) != self.num_layers:
            raise ValueError(f"RNNLM.forward expected state to be a list of {self.num_layers} "
                             f"per-layer states (or None); got {type(state).__name__}")
        h = self._drop(0, self.embedding.forward(ids))  # (N, T, E)
        for l, rnn in enumerate(self.rnn):
            h = self._drop(l + 1, run_cell(rnn, h, state[l]))  # (N, T, H)
        self.state_n = [final_state(rnn) for rnn in self.rnn]
        return self.fc.forward(h)  # (N, T, V)

    def backward(self, dout: np.ndarray) -> list[State | None] | None:
        """Backpropagate dlogits (N, T, V) to every parameter -> None, or the state gradients."""
        d = self.fc.backward(dout)  # (N, T, H)
        dstates: list[State | None] = [None] * self.num_layers
        for l in reversed(range(self.num_layers)):
            d, dstates[l] = cell_backward(self.rnn[l], self._drop_back(l + 1, d))
        self.embedding.backward(self._drop_back(0, d))
        return None if all(ds is None for ds in dstates) else dstates

    def __repr__(self) -> str:
        return (f"RNNLM(vocab_size={self.vocab_size}, embedding_dim={self.embedding_dim}, "
                f"hidden_size={self.hidden_size}, cell={self.cell!r}, "
                f"num_layers={self.num_layers}, dropout={self.dropout}, "
                f"tie_weights={self.tie_weights})")


def lm_batches(ids: np.ndarray, batch_size: int, seq_len: int) -> "LMBatches":
    """Windows of the stream ``ids`` for :class:`TBPTTStep`: (x, y, starts_pass) per update.

    Shapes: ids (S,) -> x, y (batch_size, seq_len). ``starts_pass`` is True for a
    pass's first window, where the state goes back to zero. Chapter 15.
    """
    return LMBatches(ids, batch_size, seq_len)


class LMBatches:
    """The re-iterable of :func:`lm_batches`: one pass over the stream per iteration."""

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int):
        self.ids, self.batch_size, self.seq_len = ids, batch_size, seq_len

    def __iter__(self):
        for k, (x, y) in enumerate(stream_batches(self.ids, self.batch_size, self.seq_len)):
            yield x, y, k == 0


class TBPTTStep:
    """A ``fit`` step for stateful truncated BPTT (chapter 15).

    Each window starts from the previous window's final state (``model.state_n``,
    copies, so the gradient stops at the boundary); a new pass starts from zero.
    """

    def __init__(self, loss_fn=None):
        self.loss_fn = SequenceCrossEntropyLoss() if loss_fn is None else loss_fn
        self.state: list[State] | None = None

    def __call__(self, model: RNNLM, batch) -> float:
        x, y, starts_pass = batch
        if starts_pass:
            self.state = None
        loss = self.loss_fn.forward(model.forward(x, self.state), y)
        model.backward(self.loss_fn.backward())
        self.state = model.state_n
        return loss
