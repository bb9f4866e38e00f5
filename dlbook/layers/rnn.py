"""The vanilla (Elman) recurrent layer and backpropagation through time (chapter 14).

One step reads the input x_t and the previous hidden state h_{t-1}:

    a_t = x_t W_x + h_{t-1} W_h + b,        h_t = tanh(a_t)   (or relu(a_t)).

The same W_x, W_h, b serve every step, so the unrolled network is a deep
network with shared weights. Backpropagation through time (BPTT) walks the
steps backwards; the gradient reaching h_t has two sources, the output at t
and the next step:

    dh_t = dout_t + da_{t+1} W_h^T,   da_t = dh_t * (1 - h_t^2)  (tanh),

and a shared weight's gradient is the *sum* over the steps,
dW_h = sum_t h_{t-1}^T da_t, dW_x = sum_t x_t^T da_t, db = sum_t sum_n da_t.

:func:`rnn_step` and :func:`rnn_step_backward` are one step, written for
reading. :class:`RNN` runs the same recurrence over whole sequences and does
what does not depend on the previous step outside the time loop: the input
projection x W_x of all T steps is one matrix product before the loop, and
dW_x, dW_h, db and dx are one product each after it.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers.recurrent import RecurrentBase

NONLINEARITIES = ("tanh", "relu")


def rnn_step(x_t: np.ndarray, h_prev: np.ndarray, W_x: np.ndarray, W_h: np.ndarray,
             b: np.ndarray | None = None, nonlinearity: str = "tanh") -> tuple[np.ndarray, tuple]:
    """One RNN step, h_t = tanh(x_t W_x + h_{t-1} W_h + b) (chapter 14).

    Shapes: x_t (N, D), h_prev (N, H), W_x (D, H), W_h (H, H), b (H,) or None
    -> (h_t (N, H), cache for :func:`rnn_step_backward`).
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"rnn_step expected nonlinearity in {NONLINEARITIES}; got {nonlinearity!r}")
    a = x_t @ W_x + h_prev @ W_h  # (N, H) pre-activation
    if b is not None:
        a = a + b
    h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)
    return h, (x_t, h_prev, W_x, W_h, h, nonlinearity, b is not None)


def rnn_step_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward of one RNN step: da = dh * (1 - h^2), then the three products (chapter 14).

    ``dh`` is the *total* gradient reaching h_t (from the output at t and from
    step t + 1). Shapes: dh (N, H) -> dx_t (N, D), dh_prev (N, H),
    dW_x (D, H), dW_h (H, H), db (H,) (None without a bias).
    """
    x_t, h_prev, W_x, W_h, h, nonlinearity, has_bias = cache
    if nonlinearity == "tanh":
        da = dh * (1.0 - h * h)  # tanh'(a) = 1 - tanh(a)^2, read off the output h
    else:
        da = dh * (h > 0)  # relu'(a) = [a > 0] = [h > 0]
    dx_t = da @ W_x.T
    dh_prev = da @ W_h.T
    dW_x = x_t.T @ da
    dW_h = h_prev.T @ da
    db = da.sum(axis=0) if has_bias else None
    return dx_t, dh_prev, dW_x, dW_h, db


class RNN(RecurrentBase):
    """Elman RNN over a batch of sequences, h_t = tanh(x_t W_x + h_{t-1} W_h + b) (chapter 14).

    Shapes: x (N, T, D) -> out (N, T, H), the hidden state of every step
    (batch first). ``forward(x, h0=None)``: h0 (N, H), default zeros;
    afterwards ``self.h_n`` (N, H) is the last state. ``backward(dout,
    dh_n=None)``: dout (N, T, H) (None: no gradient from the outputs) and
    dh_n (N, H), the gradient of a loss that reads h_n (seq2seq encoders)
    -> dx (N, T, D), or the pair (dx, dh0) with dh0 (N, H) when forward was
    given an h0: the gradients of the forward's inputs, in its order.

    Parameters: W_x (D, H), W_h (H, H), b (H,), each from U(-1/sqrt(H), 1/sqrt(H)).
    ``stateful=True`` (truncated BPTT, chapter 14): a call without h0 starts
    from the previous call's h_n, copied, so gradients stop at the window
    boundary (backward returns dx alone); ``reset_state()`` starts again from zeros.

    PyTorch: ``torch.nn.RNN(D, H, nonlinearity, bias, batch_first=True)`` with
    weight_ih_l0 = W_x.T, weight_hh_l0 = W_h.T and bias_ih_l0 + bias_hh_l0 = b
    (torch keeps two bias vectors that only ever appear as their sum).
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 bias: bool = True, stateful: bool = False,
                 rng: int | np.random.Generator | None = None, dtype=np.float32) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNN expected nonlinearity in {NONLINEARITIES}; got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, 1, ("b",), bias, stateful, rng, dtype)
        self.h_n = None

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
        """Run the recurrence over all T steps. Shapes: x (N, T, D), h0 (N, H) -> (N, T, H)."""
        X = self._time_major_input(x)  # (T, N, D)
        T, N, D = X.shape
        given = h0 is not None  # an input: backward returns its gradient
        if h0 is None:
            h0 = (self._carried_state(N) or (None,))[0]
        W_h = self.params["W_h"]
        hs = np.empty((T + 1, N, self.hidden_size), dtype=self.dtype)  # hs[t + 1] = h_t
        hs[0] = self._state_array(h0, N, "RNN.forward", "h0")
        A = (X.reshape(T * N, D) @ self.params["W_x"]).reshape(T, N, -1)  # x_t W_x, all t
        if "b" in self.params:
            A += self.params["b"]
        for t in range(T):
            A[t] += hs[t] @ W_h  # a_t = x_t W_x + b + h_{t-1} W_h
            if self.nonlinearity == "tanh":
                np.tanh(A[t], out=hs[t + 1])
            else:
                np.maximum(A[t], 0, out=hs[t + 1])
        self._cache = (X, hs, given)
        self.h_n = hs[T].copy()
        if self.stateful:
            self._state = (hs[T].copy(),)
        return hs[1:].transpose(1, 0, 2).copy()  # (T, N, H) -> (N, T, H), its own memory

    def backward(self, dout: np.ndarray | None, dh_n: np.ndarray | None = None
                 ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """BPTT: dout (N, T, H), dh_n (N, H) -> dx (N, T, D), or (dx, dh0 (N, H)) after an h0."""
        X, hs, given = self._cached(self._cache)
        T, N, D = X.shape
        H = self.hidden_size
        dout = self._time_major_dout(dout, N, T)  # (T, N, H)
        dh = self._state_array(dh_n, N, "RNN.backward", "dh_n")  # gradient reaching h_T
        dA = np.empty((T, N, H), dtype=self.dtype)  # dA[t] = dL/da_t
        W_hT = np.ascontiguousarray(self.params["W_h"].T)  # a contiguous copy multiplies faster
        for t in reversed(range(T)):
            dh += dout[t]  # both paths into h_t: the output at t and step t + 1
            h = hs[t + 1]
            if self.nonlinearity == "tanh":
                np.multiply(dh, 1.0 - h * h, out=dA[t])  # dL/da_t = dL/dh_t (1 - h_t^2)
            else:
                np.multiply(dh, h > 0, out=dA[t])
            dh = dA[t] @ W_hT  # dL/dh_{t-1} through the recurrence
        dA2 = dA.reshape(T * N, H)  # shared weights: the sums over t are single products
        self.grads["W_x"] += X.reshape(T * N, D).T @ dA2
        self.grads["W_h"] += hs[:-1].reshape(T * N, H).T @ dA2  # h_{t-1} for t = 1..T
        if "b" in self.grads:
            self.grads["b"] += dA2.sum(axis=0)
        dx = (dA2 @ self.params["W_x"].T).reshape(T, N, D).transpose(1, 0, 2)
        return (dx, dh) if given else dx  # dh = dL/dh0 after the loop

    def __repr__(self) -> str:
        return (f"RNN(input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"nonlinearity={self.nonlinearity!r}, bias={self.bias}, stateful={self.stateful})")
