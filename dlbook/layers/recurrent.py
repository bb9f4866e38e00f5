"""What RNN, LSTM and GRU share: initialisation, input checks, the carried state (chapter 14).

A recurrent layer reads a batch-first sequence x (N, T, D) and returns the
hidden state of every step, out (N, T, H). Inside, the numbers are kept
time-major, (T, N, ...), so that the slice of one time step is a contiguous
block and the input projection of all T steps is one matrix product
(chapter 14, "the unrolled network"). This module holds the plumbing the three
layers have in common, so that their own modules hold only the recurrences:

* PyTorch's initialisation: every weight and bias from U(-1/sqrt(H), 1/sqrt(H));
* the checks that turn a wrong shape or dtype into an error naming the layer;
* the *stateful* mode of truncated backpropagation through time: the final
  state of one call is the initial state of the next (a copy, so gradients
  stop at the window boundary) until :meth:`RecurrentBase.reset_state`.

The gradient that BPTT carries back through many steps shrinks or grows
geometrically; chapter 14 measures both and bounds the growth by clipping
the gradient norm with :func:`dlbook.optim.clip_grad_norm_` before each step.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.layers.base import Layer
from dlbook.init import uniform_
from dlbook.utils import make_rng


class RecurrentBase(Layer):
    """Base class of :class:`~dlbook.layers.rnn.RNN`, ``LSTM`` and ``GRU``.

    Shapes: x (N, T, D) -> out (N, T, H). ``num_gates`` blocks of H columns
    sit side by side in each weight: W_x (D, num_gates H), W_h (H, num_gates H).
    ``bias_names`` are the bias vectors (num_gates H,), all absent when
    ``bias=False``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_gates: int,
                 bias_names: tuple[str, ...], bias: bool, stateful: bool,
                 rng: int | np.random.Generator | None, dtype) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = check_positive_int(input_size, name, "input_size")
        self.hidden_size = check_positive_int(hidden_size, name, "hidden_size")
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise TypeError(f"{name} expected a floating dtype; got {self.dtype}")
        self.stateful = bool(stateful)
        rng = make_rng(rng, name)
        bound = 1.0 / np.sqrt(self.hidden_size)  # PyTorch's default for every recurrent weight
        G = num_gates * self.hidden_size
        shapes = {"W_x": (self.input_size, G), "W_h": (self.hidden_size, G)}
        if bias:
            shapes.update({b: (G,) for b in bias_names})
        for key, shape in shapes.items():
            self.add_param(key, uniform_(shape, bound, rng=rng, dtype=self.dtype))
        self._state = None  # carried between calls in stateful mode
        self._cache = None
        self._scratch: dict[str, np.ndarray] = {}

    @property
    def bias(self) -> bool:
        return any(k not in ("W_x", "W_h") for k in self.params)

    def reset_state(self) -> None:
        """Forget the state carried between calls (stateful mode): the next call starts at 0."""
        self._state = None

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A work array kept from call to call while its shape stays the same (no reallocation).

        Only for arrays that never leave the layer: outputs, h_n and gradients
        handed to the caller are always fresh arrays.
        """
        buf = self._scratch.get(name)
        if buf is None or buf.shape != shape:
            buf = self._scratch[name] = np.empty(shape, dtype=self.dtype)
        return buf

    # checks ---------------------------------------------------------------------------------

    def _checked_input(self, x: np.ndarray) -> np.ndarray:
        """Validate x (N, T, D); returns it as an array (a float one, not yet cast)."""
        name = type(self).__name__
        x = as_float_array(x, f"{name}.forward")
        if x.ndim != 3 or x.shape[2] != self.input_size or 0 in x.shape:
            raise ValueError(f"{name}.forward expected x of shape (N, T, {self.input_size}) "
                             f"(batch first, N >= 1, T >= 1); got shape {x.shape}")
        return x

    def _time_major_input(self, x: np.ndarray) -> np.ndarray:
        """Validate x (N, T, D) and return it time-major, (T, N, D), contiguous, in our dtype."""
        x = self._checked_input(x)
        return np.ascontiguousarray(x.transpose(1, 0, 2), dtype=self.dtype)  # (T, N, D)

    def _state_array(self, h, N: int, where: str, what: str) -> np.ndarray:
        """An initial state or a state gradient: (N, H) in our dtype; None means zeros."""
        if h is None:
            return np.zeros((N, self.hidden_size), dtype=self.dtype)
        h = as_float_array(h, where, what)
        if h.shape != (N, self.hidden_size):
            raise ValueError(f"{where} expected {what} of shape ({N}, {self.hidden_size}); "
                             f"got shape {h.shape}")
        return h.astype(self.dtype)  # always a copy: the caller's array is never touched

    def _carried_state(self, N: int):
        """The state left by the previous call in stateful mode, else None."""
        if not self.stateful or self._state is None:
            return None
        if self._state[0].shape[0] != N:
            raise ValueError(f"{type(self).__name__}.forward (stateful) carries a state for a "
                             f"batch of {self._state[0].shape[0]}; got a batch of {N}. "
                             f"Call reset_state() before changing the batch size")
        return self._state

    def _time_major_dout(self, dout, N: int, T: int) -> np.ndarray:
        """Validate dout (N, T, H) (None: zeros) and return a (T, N, H) view in our dtype."""
        if dout is None:
            return np.zeros((T, N, self.hidden_size), dtype=self.dtype)
        dout = self._check_dout(dout, (N, T, self.hidden_size))
        return dout.astype(self.dtype, copy=False).transpose(1, 0, 2)  # never written to
