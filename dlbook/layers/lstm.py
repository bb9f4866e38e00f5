"""The long short-term memory layer (LSTM) and its backward pass (chapter 15).

Four gates are computed from one affine map of the input and the previous
hidden state, a = x_t W_x + h_{t-1} W_h + b, cut into four blocks of H
columns in PyTorch's order i, f, g, o:

    i = σ(a_i),  f = σ(a_f),  g = tanh(a_g),  o = σ(a_o),
    c_t = f * c_{t-1} + i * g,          h_t = o * tanh(c_t).

The cell state c_t is updated additively, so dL/dc_{t-1} = dL/dc_t * f plus
nothing else from the recurrence: with f near 1 the gradient survives many
steps (chapter 15). The backward pass of one step, with dc the total
gradient reaching c_t:

    do = dh * tanh(c_t),  dc += dh * o * (1 - tanh(c_t)^2),
    di = dc * g,  df = dc * c_{t-1},  dg = dc * i,  dc_{t-1} = dc * f,

then through the nonlinearities, da_i = di i (1 - i), ..., da_g = dg (1 - g^2).

:func:`lstm_step` / :func:`lstm_step_backward` are one step, for reading.
:class:`LSTM` runs the same equations over whole sequences, on time-major
buffers reused from call to call, and keeps inside the time loop only what
depends on the previous step (benchmarks/bench_lstm.py times it against
PyTorch): the input projection of all T steps is one product before the
loop; the three sigmoids and the tanh of a step are one in-place tanh over
the four blocks, using σ(a) = (1 + tanh(a / 2)) / 2; backward computes the
gates' local derivatives for all steps at once before its loop, and after it
gets dW_x and dW_h from one product (x_t and h_{t-1} sit side by side in one
buffer), db from one sum and dx from one product.
"""

from __future__ import annotations

import numpy as np

from dlbook.functional import sigmoid
from dlbook.layers.recurrent import RecurrentBase


def lstm_step(x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, W_x: np.ndarray,
              W_h: np.ndarray, b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, tuple]:
    """One LSTM step: c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t) (chapter 15).

    Shapes: x_t (N, D), h_prev (N, H), c_prev (N, H), W_x (D, 4H), W_h (H, 4H),
    b (4H,) or None, gate order i, f, g, o -> (h_t (N, H), c_t (N, H), cache).
    """
    H = h_prev.shape[1]
    a = x_t @ W_x + h_prev @ W_h  # (N, 4H): the four gates' pre-activations
    if b is not None:
        a = a + b
    i = sigmoid(a[:, :H])  # input gate
    f = sigmoid(a[:, H:2 * H])  # forget gate
    g = np.tanh(a[:, 2 * H:3 * H])  # candidate cell values
    o = sigmoid(a[:, 3 * H:])  # output gate
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return h, c, (x_t, h_prev, c_prev, W_x, W_h, i, f, g, o, tanh_c, b is not None)


def lstm_step_backward(dh: np.ndarray, dc: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward of one LSTM step (chapter 15).

    ``dh`` and ``dc`` are the total gradients reaching h_t and c_t.
    Shapes: dh (N, H), dc (N, H) -> dx_t (N, D), dh_prev (N, H), dc_prev (N, H),
    dW_x (D, 4H), dW_h (H, 4H), db (4H,) (None without a bias).
    """
    x_t, h_prev, c_prev, W_x, W_h, i, f, g, o, tanh_c, has_bias = cache
    do = dh * tanh_c
    dc = dc + dh * o * (1.0 - tanh_c ** 2)  # the path h_t -> tanh(c_t) -> c_t
    di, df, dg = dc * g, dc * c_prev, dc * i
    dc_prev = dc * f  # the additive path: only f stands between c_t and c_{t-1}
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f),  # σ' = σ (1 - σ)
                         dg * (1 - g ** 2), do * o * (1 - o)], axis=1)  # (N, 4H)
    dx_t = da @ W_x.T
    dh_prev = da @ W_h.T
    db = da.sum(axis=0) if has_bias else None
    return dx_t, dh_prev, dc_prev, x_t.T @ da, h_prev.T @ da, db


class LSTM(RecurrentBase):
    """Long short-term memory over a batch of sequences, gate order i, f, g, o (chapter 15).

    Shapes: x (N, T, D) -> out (N, T, H), h_t of every step (batch first).
    ``forward(x, state=None)``: state = (h0, c0), each (N, H), default zeros;
    afterwards ``self.h_n`` and ``self.c_n`` (N, H). ``backward(dout,
    dh_n=None, dc_n=None)``: dout (N, T, H) (None: no gradient from the
    outputs), dh_n and dc_n (N, H) the gradients of a loss that reads the final
    state -> dx (N, T, D), or (dx, (dh0, dc0)) with dh0, dc0 (N, H) when
    forward was given a state: the gradients of its inputs x and state, in
    the form they went in.

    Parameters: W_x (D, 4H), W_h (H, 4H), b (4H,), from U(-1/sqrt(H), 1/sqrt(H)).
    ``stateful=True``: a call without ``state`` continues from the previous
    call's (h_n, c_n) (copies: truncated BPTT, backward returns dx alone);
    ``reset_state()`` forgets them.

    PyTorch: ``torch.nn.LSTM(D, H, bias, batch_first=True)`` with
    weight_ih_l0 = W_x.T, weight_hh_l0 = W_h.T, bias_ih_l0 + bias_hh_l0 = b,
    the same gate order.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 stateful: bool = False, rng: int | np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        super().__init__(input_size, hidden_size, 4, ("b",), bias, stateful, rng, dtype)
        self.h_n = self.c_n = None

    def forward(self, x: np.ndarray, state: tuple[np.ndarray, np.ndarray] | None = None
                ) -> np.ndarray:
        """Run the recurrence over all T steps. Shapes: x (N, T, D) -> (N, T, H)."""
        X = self._time_major_input(x)  # (T, N, D)
        T, N, D = X.shape
        H = self.hidden_size
        given = state is not None  # an input: backward returns its gradient
        if state is None:
            state = self._carried_state(N) or (None, None)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"LSTM.forward expected state to be a pair (h0, c0); "
                            f"got {type(state).__name__}")
        # xh[t] = [x_t, h_{t-1}] side by side: backward gets dW_x and dW_h from one product
        xh = self._buffer("xh", (T + 1, N, D + H))
        xh[:T, :, :D] = X
        xh[T, :, :D] = 0
        hs = xh[:, :, D:]  # hs[t] = h_{t-1}: hs[0] = h0, ..., hs[T] = h_T
        cs = self._buffer("cs", (T + 1, N, H))  # cs[t] = c_{t-1} likewise
        hs[0] = self._state_array(state[0], N, "LSTM.forward", "h0")
        cs[0] = self._state_array(state[1], N, "LSTM.forward", "c0")
        gates = self._buffer("gates", (T, N, 4 * H))
        np.matmul(X.reshape(T * N, D), self.params["W_x"], out=gates.reshape(T * N, 4 * H))
        if "b" in self.params:
            gates += self.params["b"]  # now gates[t] = x_t W_x + b for every t
        tanh_c = self._buffer("tanh_c", (T, N, H))
        rec, ig = self._buffer("rec", (N, 4 * H)), self._buffer("ig", (N, H))
        scale, shift = self._sigmoid_by_tanh(H)
        W_h = self.params["W_h"]
        for t in range(T):
            a = gates[t]
            np.matmul(hs[t], W_h, out=rec)
            a += rec  # pre-activations x_t W_x + b + h_{t-1} W_h of the four gates
            a *= scale  # a/2 on the sigmoid blocks ...
            np.tanh(a, out=a)
            a *= scale
            a += shift  # ... so that a = [σ(a_i), σ(a_f), tanh(a_g), σ(a_o)]
            i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))
            np.multiply(f, cs[t], out=cs[t + 1])
            np.multiply(i, g, out=ig)
            cs[t + 1] += ig  # c_t = f * c_{t-1} + i * g
            np.tanh(cs[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=hs[t + 1])  # h_t = o * tanh(c_t)
        self._cache = (xh, cs, gates, tanh_c, given)
        self.h_n, self.c_n = hs[T].copy(), cs[T].copy()
        if self.stateful:
            self._state = (hs[T].copy(), cs[T].copy())
        return hs[1:].transpose(1, 0, 2).copy()  # (T, N, H) -> (N, T, H), its own memory

    def backward(self, dout: np.ndarray | None, dh_n: np.ndarray | None = None,
                 dc_n: np.ndarray | None = None):
        """BPTT: dout (N, T, H), dh_n, dc_n (N, H) -> dx (N, T, D); (dx, (dh0, dc0)) with a state."""
        xh, cs, gates, tanh_c, given = self._cached(self._cache)
        T, N, H = tanh_c.shape
        D = self.input_size
        dout = self._time_major_dout(dout, N, T)  # (T, N, H)
        dh = self._state_array(dh_n, N, "LSTM.backward", "dh_n")
        dc = self._state_array(dc_n, N, "LSTM.backward", "dc_n")
        # 1. The local derivatives of every step at once (none depends on the recurrence):
        #    da = [dc g σ'(a_i), dc c_{t-1} σ'(a_f), dc i tanh'(a_g), dh tanh(c_t) σ'(a_o)];
        #    dA holds the factors after dc and dh, which the loop multiplies in.
        i, f, g, o = (gates[..., k * H:(k + 1) * H] for k in range(4))  # (T, N, H) each
        dA = self._buffer("dgates", gates.shape)
        np.subtract(1.0, gates, out=dA)
        dA *= gates  # σ' = s (1 - s) on the i, f, o blocks (the g block is redone below)
        dA_i, dA_f, dA_g, dA_o = (dA[..., k * H:(k + 1) * H] for k in range(4))
        dA_i *= g
        dA_f *= cs[:-1]  # c_{t-1}
        np.multiply(g, g, out=dA_g)
        np.subtract(1.0, dA_g, out=dA_g)
        dA_g *= i  # i tanh'(a_g) = i (1 - g^2)
        dA_o *= tanh_c
        dc_dh = self._buffer("dc_dh", (T, N, H))  # dc_t / dh_t = o (1 - tanh(c_t)^2)
        np.multiply(tanh_c, tanh_c, out=dc_dh)
        np.subtract(1.0, dc_dh, out=dc_dh)
        dc_dh *= o
        # 2. The recurrence, backwards: the gradients reaching h_t and c_t.
        tmp = self._buffer("tmp", (N, H))
        W_hT = np.ascontiguousarray(self.params["W_h"].T)  # (4H, H); a contiguous copy is faster
        for t in reversed(range(T)):
            dh += dout[t]  # from the output at t (and, already in dh, from step t + 1)
            np.multiply(dh, dc_dh[t], out=tmp)
            dc += tmp  # from c_{t+1} (already in dc) and through h_t = o tanh(c_t)
            da = dA[t].reshape(N, 4, H)
            da[:, :3] *= dc[:, None, :]  # da_i, da_f, da_g
            da[:, 3] *= dh  # da_o
            dc *= f[t]  # dc_{t-1}: the cell path, through the forget gate only
            np.matmul(dA[t], W_hT, out=dh)  # dh_{t-1}: the hidden path
        # 3. Shared weights: the sums over time are single products.
        dA2 = dA.reshape(T * N, 4 * H)
        dW = xh[:T].reshape(T * N, D + H).T @ dA2  # (D + H, 4H) = [dW_x; dW_h]
        self.grads["W_x"] += dW[:D]
        self.grads["W_h"] += dW[D:]
        if "b" in self.grads:
            self.grads["b"] += dA2.sum(axis=0)
        dx = (dA2 @ self.params["W_x"].T).reshape(T, N, D).transpose(1, 0, 2)
        return (dx, (dh, dc)) if given else dx  # dh, dc = dL/dh0, dL/dc0 after the loop

    def _sigmoid_by_tanh(self, H: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-column scale and shift with σ(a) = tanh(a/2)/2 + 1/2 on i, f, o, tanh(a) on g."""
        if self._scratch.get("scale") is None or self._scratch["scale"].shape != (4 * H,):
            scale = np.full(4 * H, 0.5, dtype=self.dtype)
            scale[2 * H:3 * H] = 1.0
            self._scratch["scale"], self._scratch["shift"] = scale, 1.0 - scale
        return self._scratch["scale"], self._scratch["shift"]

    def __repr__(self) -> str:
        return (f"LSTM(input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"bias={self.bias}, stateful={self.stateful})")

