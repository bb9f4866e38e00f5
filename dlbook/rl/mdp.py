"""Exact solutions of a small Markov decision process given as arrays (chapter 21).

A finite MDP is a transition tensor ``P[s, a, s']`` and an expected-reward
table ``R[s, a]``. For a policy ``pi[s, a]`` the values satisfy the Bellman
equation V = R_pi + gamma P_pi V, a linear system; the optimal values satisfy
V*(s) = max_a (R[s, a] + gamma sum_s' P[s, a, s'] V*(s')), solved by value
iteration. These exact answers are what the learning agents are checked against.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array

VALUE_ITERATION_TOL = 1e-12
"""Stop value iteration when no value changes by more than this."""

MAX_VALUE_ITERATIONS = 100_000
"""Give up (RuntimeError) after this many sweeps."""

PROBABILITY_TOL = 1e-9
"""Rows of P and of pi must sum to 1 within this tolerance."""


def _check_model(P, R, gamma, where: str) -> tuple[np.ndarray, np.ndarray, float]:
    P = as_float_array(P, where, "P").astype(np.float64)
    R = as_float_array(R, where, "R").astype(np.float64)
    if P.ndim != 3 or P.shape[0] != P.shape[2] or R.shape != P.shape[:2]:
        raise ValueError(f"{where} expected P of shape (S, A, S) and R of shape (S, A); "
                         f"got {P.shape} and {R.shape}")
    if np.any(P < 0) or not np.allclose(P.sum(axis=2), 1.0, atol=PROBABILITY_TOL):
        raise ValueError(f"{where} expected each P[s, a, :] to be a probability distribution")
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"{where} expected a discount factor gamma in [0, 1); got {gamma}")
    return P, R, float(gamma)


def q_from_values(P: np.ndarray, R: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
    """Q(s, a) = R(s, a) + gamma sum_s' P(s' | s, a) V(s').

    Shapes: P (S, A, S), R (S, A), V (S,) -> Q (S, A).
    """
    P, R, gamma = _check_model(P, R, gamma, "q_from_values")
    V = as_float_array(V, "q_from_values", "V")
    if V.shape != (P.shape[0],):
        raise ValueError(f"q_from_values expected V of shape ({P.shape[0]},); got {V.shape}")
    return R + gamma * P @ V


def policy_evaluation(P: np.ndarray, R: np.ndarray, pi: np.ndarray, gamma: float) -> np.ndarray:
    """Exact V^pi: solve (I - gamma P_pi) V = R_pi, with P_pi[s, s'] = sum_a pi[s, a] P[s, a, s'].

    Shapes: P (S, A, S), R (S, A), pi (S, A) rows summing to 1 -> V (S,), float64.
    """
    P, R, gamma = _check_model(P, R, gamma, "policy_evaluation")
    pi = as_float_array(pi, "policy_evaluation", "pi").astype(np.float64)
    if pi.shape != R.shape:
        raise ValueError(f"policy_evaluation expected pi of shape {R.shape}; got {pi.shape}")
    if np.any(pi < 0) or not np.allclose(pi.sum(axis=1), 1.0, atol=PROBABILITY_TOL):
        raise ValueError("policy_evaluation expected each pi[s, :] to be a probability distribution")
    P_pi = np.einsum("sa,sat->st", pi, P)  # (S, S)
    R_pi = np.sum(pi * R, axis=1)  # (S,)
    return np.linalg.solve(np.eye(len(R_pi)) - gamma * P_pi, R_pi)


def value_iteration(P: np.ndarray, R: np.ndarray, gamma: float,
                    tol: float = VALUE_ITERATION_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Optimal values by repeated Bellman optimality backups V <- max_a (R + gamma P V).

    Shapes: P (S, A, S), R (S, A) -> V* (S,), Q* (S, A); the greedy policy is Q*.argmax(axis=1).
    Converges because the backup is a gamma-contraction (gamma < 1).
    """
    P, R, gamma = _check_model(P, R, gamma, "value_iteration")
    V = np.zeros(P.shape[0])
    for _ in range(MAX_VALUE_ITERATIONS):
        Q = R + gamma * P @ V
        V_new = Q.max(axis=1)
        if np.max(np.abs(V_new - V)) <= tol:
            return V_new, R + gamma * P @ V_new
        V = V_new
    raise RuntimeError(f"value_iteration did not converge in {MAX_VALUE_ITERATIONS} sweeps")


def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """The deterministic policy pi[s, argmax_a Q(s, a)] = 1 as a table.

    Shapes: Q (S, A) -> pi (S, A) one-hot rows (ties go to the lowest action).
    """
    Q = as_float_array(Q, "greedy_policy", "Q")
    if Q.ndim != 2:
        raise ValueError(f"greedy_policy expected Q of shape (S, A); got {Q.shape}")
    pi = np.zeros_like(Q, dtype=np.float64)
    pi[np.arange(len(Q)), Q.argmax(axis=1)] = 1.0
    return pi

