"""The gated recurrent unit (GRU), as PyTorch defines it, and its backward pass (chapter 15).

With gx = x_t W_x + b_x and gh = h_{t-1} W_h + b_h, each cut into three
blocks of H columns in the order r, z, n:

    r = σ(gx_r + gh_r)                 reset gate
    z = σ(gx_z + gh_z)                 update gate
    n = tanh(gx_n + r * gh_n)          candidate state
    h_t = (1 - z) * n + z * h_{t-1}

r multiplies gh_n *after* the matrix product, which is why the GRU keeps
two bias vectors: b_h's n block sits inside the reset, b_x's outside. With z
near 1 the state is copied forward, and so is its gradient (chapter 15).
Backward of one step, dh the total gradient reaching h_t:

    dn = dh (1 - z),  dz = dh (h_{t-1} - n),  dh_{t-1} = dh z + dgh W_h^T,
    da_n = dn (1 - n^2),  dr = da_n gh_n,  da_r = dr r (1 - r),  da_z = dz z (1 - z),
    dgx = [da_r, da_z, da_n],  dgh = [da_r, da_z, r da_n].

:func:`gru_step` / :func:`gru_step_backward` are one step, for reading;
:class:`GRU` runs the same equations over whole sequences, with the input
projection before the time loop and the weight gradients after it.
"""

from __future__ import annotations

import numpy as np

from dlbook.functional import sigmoid
from dlbook.layers.recurrent import RecurrentBase


def gru_step(x_t: np.ndarray, h_prev: np.ndarray, W_x: np.ndarray, W_h: np.ndarray,
             b_x: np.ndarray | None = None, b_h: np.ndarray | None = None
             ) -> tuple[np.ndarray, tuple]:
    """One GRU step: h_t = (1 - z) * n + z * h_{t-1} (chapter 15; torch's equations).

    Shapes: x_t (N, D), h_prev (N, H), W_x (D, 3H), W_h (H, 3H), b_x and b_h
    (3H,) or None, gate order r, z, n -> (h_t (N, H), cache).
    """
    H = h_prev.shape[1]
    gx = x_t @ W_x if b_x is None else x_t @ W_x + b_x  # (N, 3H)
    gh = h_prev @ W_h if b_h is None else h_prev @ W_h + b_h  # (N, 3H)
    r = sigmoid(gx[:, :H] + gh[:, :H])  # reset gate
    z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])  # update gate
    gh_n = gh[:, 2 * H:]
    n = np.tanh(gx[:, 2 * H:] + r * gh_n)  # candidate: r resets the recurrent part
    h = (1 - z) * n + z * h_prev
    return h, (x_t, h_prev, W_x, W_h, r, z, n, gh_n, b_x is not None)


def gru_step_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward of one GRU step (chapter 15).

    Shapes: dh (N, H), the total gradient reaching h_t -> dx_t (N, D),
    dh_prev (N, H), dW_x (D, 3H), dW_h (H, 3H), db_x (3H,), db_h (3H,)
    (the biases None without bias).
    """
    x_t, h_prev, W_x, W_h, r, z, n, gh_n, has_bias = cache
    da_n = dh * (1 - z) * (1 - n ** 2)
    da_r = da_n * gh_n * r * (1 - r)
    da_z = dh * (h_prev - n) * z * (1 - z)
    dgx = np.concatenate([da_r, da_z, da_n], axis=1)  # (N, 3H)
    dgh = np.concatenate([da_r, da_z, r * da_n], axis=1)  # r scales gh_n
    dx_t = dgx @ W_x.T
    dh_prev = dh * z + dgh @ W_h.T  # the direct copy path plus the gates
    db_x, db_h = (dgx.sum(axis=0), dgh.sum(axis=0)) if has_bias else (None, None)
    return dx_t, dh_prev, x_t.T @ dgx, h_prev.T @ dgh, db_x, db_h


class GRU(RecurrentBase):
    """Gated recurrent unit over a batch of sequences, gate order r, z, n (chapter 15).

    Shapes: x (N, T, D) -> out (N, T, H) (batch first). ``forward(x, h0=None)``
    with h0 (N, H); afterwards ``self.h_n`` (N, H). ``backward(dout, dh_n=None)``
    -> dx (N, T, D), or (dx, dh0 (N, H)) when forward was given an h0, exactly
    as :class:`~dlbook.layers.rnn.RNN`.

    Parameters: W_x (D, 3H), W_h (H, 3H), b_x (3H,), b_h (3H,), from
    U(-1/sqrt(H), 1/sqrt(H)). ``stateful`` and ``reset_state()`` as in RNN.

    PyTorch: ``torch.nn.GRU(D, H, bias, batch_first=True)`` with
    weight_ih_l0 = W_x.T, weight_hh_l0 = W_h.T, bias_ih_l0 = b_x,
    bias_hh_l0 = b_h (two biases that cannot be merged: see the module).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 stateful: bool = False, rng: int | np.random.Generator | None = None,
                 dtype=np.float32) -> None:
        super().__init__(input_size, hidden_size, 3, ("b_x", "b_h"), bias, stateful, rng, dtype)
        self.h_n = None

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
        """Run the recurrence over all T steps. Shapes: x (N, T, D), h0 (N, H) -> (N, T, H)."""
        X = self._time_major_input(x)  # (T, N, D)
        T, N, D = X.shape
        H = self.hidden_size
        given = h0 is not None  # an input: backward returns its gradient
        if h0 is None:
            h0 = (self._carried_state(N) or (None,))[0]
        hs = np.empty((T + 1, N, H), dtype=self.dtype)  # hs[t + 1] = h_t
        hs[0] = self._state_array(h0, N, "GRU.forward", "h0")
        gx = (X.reshape(T * N, D) @ self.params["W_x"]).reshape(T, N, 3 * H)
        if "b_x" in self.params:
            gx += self.params["b_x"]
        gates = np.empty((T, N, 3 * H), dtype=self.dtype)  # r, z, n of every step
        gh_n = np.empty((T, N, H), dtype=self.dtype)  # h_{t-1} W_hn + b_hn, for backward
        for t in range(T):
            gh = hs[t] @ self.params["W_h"]  # (N, 3H)
            if "b_h" in self.params:
                gh += self.params["b_h"]
            gh_n[t] = gh[:, 2 * H:]
            rz = gates[t][:, :2 * H]
            np.add(gx[t][:, :2 * H], gh[:, :2 * H], out=rz)
            rz[...] = sigmoid(rz)  # r, z
            n = gates[t][:, 2 * H:]
            np.multiply(rz[:, :H], gh_n[t], out=n)
            n += gx[t][:, 2 * H:]
            np.tanh(n, out=n)  # n = tanh(gx_n + r * gh_n)
            z = rz[:, H:]
            np.subtract(hs[t], n, out=hs[t + 1])
            hs[t + 1] *= z
            hs[t + 1] += n  # h_t = n + z (h_{t-1} - n) = (1 - z) n + z h_{t-1}
        self._cache = (X, hs, gates, gh_n, given)
        self.h_n = hs[T].copy()
        if self.stateful:
            self._state = (hs[T].copy(),)
        return hs[1:].transpose(1, 0, 2).copy()  # (T, N, H) -> (N, T, H), its own memory

    def backward(self, dout: np.ndarray | None, dh_n: np.ndarray | None = None
                 ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """BPTT: dout (N, T, H), dh_n (N, H) -> dx (N, T, D), or (dx, dh0 (N, H)) after an h0."""
        X, hs, gates, gh_n, given = self._cached(self._cache)
        T, N, D = X.shape
        H = self.hidden_size
        dout = self._time_major_dout(dout, N, T)
        dh = self._state_array(dh_n, N, "GRU.backward", "dh_n")
        dgx = np.empty_like(gates)  # dL/d(x_t W_x + b_x), blocks r, z, n
        dgh = np.empty_like(gates)  # dL/d(h_{t-1} W_h + b_h)
        W_hT = np.ascontiguousarray(self.params["W_h"].T)  # a contiguous copy multiplies faster
        for t in reversed(range(T)):
            dh += dout[t]
            r, z, n = (gates[t][:, k * H:(k + 1) * H] for k in range(3))
            da_r, da_z, da_n = (dgx[t][:, k * H:(k + 1) * H] for k in range(3))
            da_n[...] = dh * (1 - z) * (1 - n * n)
            da_z[...] = dh * (hs[t] - n) * z * (1 - z)
            da_r[...] = da_n * gh_n[t] * r * (1 - r)
            dgh[t][:, :2 * H] = dgx[t][:, :2 * H]  # r and z enter gx and gh alike
            np.multiply(r, da_n, out=dgh[t][:, 2 * H:])  # gh_n is scaled by r
            dh = dh * z + dgh[t] @ W_hT  # dh_{t-1}: the copy path and the gates
        dgx2, dgh2 = dgx.reshape(T * N, 3 * H), dgh.reshape(T * N, 3 * H)
        self.grads["W_x"] += X.reshape(T * N, D).T @ dgx2
        self.grads["W_h"] += hs[:-1].reshape(T * N, H).T @ dgh2
        if "b_x" in self.grads:
            self.grads["b_x"] += dgx2.sum(axis=0)
            self.grads["b_h"] += dgh2.sum(axis=0)
        dx = (dgx2 @ self.params["W_x"].T).reshape(T, N, D).transpose(1, 0, 2)
        return (dx, dh) if given else dx  # dh = dL/dh0 after the loop

    def __repr__(self) -> str:
        return (f"GRU(input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"bias={self.bias}, stateful={self.stateful})")
