"""RNN, LSTM and GRU behind one small interface, for the models of chapters 14-15.

The three recurrent layers share ``forward(x, state) -> out (N, T, H)`` and
``backward(dout, ...) -> dx``, or ``(dx, dstate)`` when forward was given a
state, but an LSTM carries two state arrays (h, c) where the others carry one.
The models built on them (a classifier, a language model) call these helpers
and never ask which cell they hold: a *state* is an (N, H) array for ``"rnn"``
and ``"gru"`` and a pair ``(h, c)`` for ``"lstm"``; ``None`` means zeros.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers.gru import GRU
from dlbook.layers.lstm import LSTM
from dlbook.layers.rnn import RNN

CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
"""The recurrent layer behind each cell name."""

State = np.ndarray | tuple[np.ndarray, np.ndarray]


def check_cell(cell: str, where: str) -> str:
    """Return the lower-case cell name, or raise naming the caller and the choices."""
    if not isinstance(cell, str):
        raise TypeError(f"{where} expected cell to be one of {tuple(CELLS)}; "
                        f"got {type(cell).__name__}")
    if cell.lower() not in CELLS:
        raise ValueError(f"{where} expected cell to be one of {tuple(CELLS)}; got {cell!r}")
    return cell.lower()


def make_cell(cell: str, input_size: int, hidden_size: int,
              rng: int | np.random.Generator | None = None, dtype=np.float32):
    """A new RNN, LSTM or GRU layer. Shapes: it maps (N, T, input_size) -> (N, T, hidden_size)."""
    return CELLS[check_cell(cell, "make_cell")](input_size, hidden_size, rng=rng, dtype=dtype)


def run_cell(layer, x: np.ndarray, state: State | None = None) -> np.ndarray:
    """layer.forward(x) from ``state``. Shapes: x (N, T, D), state (N, H) or a pair -> (N, T, H)."""
    return layer.forward(x, state)  # the second argument is h0, or (h0, c0) for an LSTM


def final_state(layer) -> State:
    """The last state of the latest forward, copied (so that a next window cannot change it)."""
    if isinstance(layer, LSTM):
        return layer.h_n.copy(), layer.c_n.copy()
    return layer.h_n.copy()


def cell_backward(layer, dout: np.ndarray | None,
                  dstate: State | None = None) -> tuple[np.ndarray, State | None]:
    """(dx, dstate0) from dout (N, T, H) and the gradient of the final state.

    Shapes: dout (N, T, H), dstate (N, H) or a pair (the form of a state; None:
    zeros) -> dx (N, T, D) and the gradient of the initial state in the same
    form, or None when the forward started without one (zeros or carried).
    """
    if isinstance(layer, LSTM):
        dh_n, dc_n = (None, None) if dstate is None else dstate
        grads = layer.backward(dout, dh_n, dc_n)
    else:
        grads = layer.backward(dout, dstate)
    return grads if isinstance(grads, tuple) else (grads, None)

