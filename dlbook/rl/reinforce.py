"""REINFORCE with a value baseline, from scratch in numpy with dlbook layers (chapter 21).

The policy is a softmax over the outputs of a small network. The
log-derivative trick turns the gradient of the expected return into an
average over sampled episodes,

    g_hat = sum_t w_t grad_theta log pi(a_t | s_t),   w_t = G_t - b(s_t),

and backpropagation computes it: for the surrogate loss -sum_t w_t log pi(a_t|s_t)
the gradient at the logits is w_t (softmax(z_t) - onehot(a_t)), which the
network's backward pass carries to every weight. The baseline b(s) is a
second small network fit to the observed returns; subtracting it leaves the
estimate unbiased and makes it far less noisy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlbook import functional as F
from dlbook._checks import as_float_array, as_label_array, check_positive_int
from dlbook.layers.activation import Tanh
from dlbook.layers.container import Sequential
from dlbook.layers.linear import Linear
from dlbook.layers.loss import MSELoss
from dlbook.optim.adaptive import Adam
from dlbook.rl.evaluate import run_episode
from dlbook.utils import make_rng

BASELINE_STEPS = 25
"""Adam steps the value network takes on each batch of returns."""


def discounted_returns(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = r_t + gamma G_{t+1}, with G_T = 0 after the last reward (computed backwards).

    Shapes: rewards (T,) -> returns (T,) float64.
    """
    rewards = as_float_array(rewards, "discounted_returns", "rewards")
    if rewards.ndim != 1:
        raise ValueError(f"discounted_returns expected rewards of shape (T,); got {rewards.shape}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"discounted_returns expected gamma in [0, 1]; got {gamma}")
    returns = np.zeros(len(rewards))
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def _mlp(sizes: list[int], rng: np.random.Generator, dtype) -> Sequential:
    """Linear layers of the given sizes with Tanh between them; the first skips dx."""
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(Tanh())
        layers.append(Linear(d_in, d_out, rng=rng, dtype=dtype, input_grad=i > 0))
    return Sequential(*layers)


class SoftmaxPolicy:
    """pi(a | s) = softmax(f_theta(s))_a, f a linear map (hidden=0) or Linear-Tanh-Linear.

    Shapes: obs (N, D) -> logits and probabilities (N, A). The output layer
    starts at zero, so the first policy is uniform. ``params``/``grads`` are
    the network's (``"0.W"``, ...), ready for a dlbook optimizer.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 0,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        self.obs_dim = check_positive_int(obs_dim, "SoftmaxPolicy", "obs_dim")
        self.n_actions = check_positive_int(n_actions, "SoftmaxPolicy", "n_actions")
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 0:
            raise ValueError(f"SoftmaxPolicy expected hidden to be an int >= 0; got {hidden!r}")
        sizes = [self.obs_dim] + ([hidden] if hidden else []) + [self.n_actions]
        self.net = _mlp(sizes, make_rng(rng, "SoftmaxPolicy"), dtype)
        for p in self.net.layers[-1].params.values():
            p[...] = 0.0

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The network's parameters by name (the arrays themselves)."""
        return self.net.params

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """The network's gradients, same names and shapes as ``params``."""
        return self.net.grads

    def parameters(self):
        """(param, grad) pairs of the network, for an optimizer."""
        return self.net.parameters()

    def zero_grad(self) -> None:
        """Reset every gradient of the network to 0 in place."""
        self.net.zero_grad()

    def _obs(self, obs, where: str) -> np.ndarray:
        obs = as_float_array(obs, where, "obs")
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise ValueError(f"{where} expected obs of shape (N, {self.obs_dim}); got {obs.shape}")
        return obs

    def probs(self, obs: np.ndarray) -> np.ndarray:
        """Action probabilities. Shapes: (N, D) -> (N, A)."""
        return F.softmax(self.net.forward(self._obs(obs, "SoftmaxPolicy.probs")), axis=1)

    def act(self, obs: np.ndarray, rng: np.random.Generator) -> int:
        """Sample one action for one observation (D,) by inverting the cumulative probabilities."""
        p = self.probs(np.asarray(obs)[None])[0]
        return min(int(np.searchsorted(np.cumsum(p), rng.random(), side="right")),
                   self.n_actions - 1)


def policy_gradient(policy: SoftmaxPolicy, obs: np.ndarray, actions: np.ndarray,
                    weights: np.ndarray) -> dict[str, np.ndarray]:
    """g_hat = sum_t weights[t] grad_theta log pi(actions[t] | obs[t]), by backpropagation.

    Shapes: obs (T, D), actions (T,) ints, weights (T,) -> {name: array shaped like the param}.
    After the call ``policy.grads`` holds -g_hat, the gradient of the surrogate
    loss -sum_t w_t log pi(a_t | s_t), so an optimizer's descent step climbs the return.
    """
    obs = policy._obs(obs, "policy_gradient")
    actions = as_label_array(actions, "policy_gradient", "actions")
    weights = as_float_array(weights, "policy_gradient", "weights")
    if actions.shape != (len(obs),) or weights.shape != (len(obs),):
        raise ValueError(f"policy_gradient expected actions and weights of shape ({len(obs)},); "
                         f"got {actions.shape} and {weights.shape}")
    if len(actions) and (actions.min() < 0 or actions.max() >= policy.n_actions):
        raise ValueError(f"policy_gradient expected actions in [0, {policy.n_actions}); "
                         f"got min {actions.min()}, max {actions.max()}")
    logits = policy.net.forward(obs)  # (T, A)
    dlogits = F.softmax(logits, axis=1)  # d(-log pi(a|s))/dz = softmax(z) - onehot(a)
    dlogits[np.arange(len(actions)), actions] -= 1.0
    policy.zero_grad()
    policy.net.backward(weights[:, None] * dlogits)
    return {name: -grad.copy() for name, grad in policy.grads.items()}


class ValueBaseline:
    """b(s) = V_phi(s), a Linear-Tanh-Linear network fit to observed returns by least squares.

    Shapes: obs (N, D) -> values (N,). ``update`` takes ``BASELINE_STEPS`` Adam
    steps on the mean squared error between V_phi(s_t) and G_t.
    """

    def __init__(self, obs_dim: int, hidden: int = 32, lr: float = 1e-2,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        self.obs_dim = check_positive_int(obs_dim, "ValueBaseline", "obs_dim")
        hidden = check_positive_int(hidden, "ValueBaseline", "hidden")
        self.net = _mlp([self.obs_dim, hidden, 1], make_rng(rng, "ValueBaseline"), dtype)
        self.loss = MSELoss()
        self.optimizer = Adam(self.net.parameters(), lr=lr)

    def predict(self, obs: np.ndarray) -> np.ndarray:
        """V_phi(s) for each row. Shapes: (N, D) -> (N,)."""
        return self.net.forward(obs)[:, 0]

    def update(self, obs: np.ndarray, returns: np.ndarray) -> float:
        """Fit V_phi to the returns; returns the last mean squared error."""
        targets = np.asarray(returns, dtype=np.float64)[:, None]  # (N,) -> (N, 1)
        for _ in range(BASELINE_STEPS):
            self.net.zero_grad()
            loss = self.loss.forward(self.net.forward(obs), targets)
            self.net.backward(self.loss.backward())
            self.optimizer.step()
        return loss


@dataclass
class ReinforceResult:
    """What :func:`reinforce` gives back: the trained policy, its baseline and the returns."""

    policy: SoftmaxPolicy
    baseline: ValueBaseline | None
    returns: list[float] = field(default_factory=list)


def reinforce(env, n_episodes: int, gamma: float = 0.99, lr: float = 1e-2, hidden: int = 0,
              baseline: bool = True, batch_episodes: int = 1,
              rng: int | np.random.Generator | None = None) -> ReinforceResult:
    """Train a softmax policy with REINFORCE (Williams, 1992), with or without a value baseline.

    Shapes: observations (D,) from ``env``; returns has one entry per episode.
    Every ``batch_episodes`` episodes: G_t per step, w_t = G_t - b(s_t) with
    the baseline fit on earlier batches (0 without a baseline), the estimate
    g_hat averaged over the batch, one Adam ascent step; then the baseline is
    refit to the new returns. An int ``rng`` seeds the networks, the action
    sampling and the first ``env.reset``, so a run is reproducible.
    """
    n_episodes = check_positive_int(n_episodes, "reinforce", "n_episodes")
    batch_episodes = check_positive_int(batch_episodes, "reinforce", "batch_episodes")
    seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
    rng = make_rng(rng, "reinforce")
    obs_dim = int(np.prod(env.observation_space.shape))
    policy = SoftmaxPolicy(obs_dim, int(env.action_space.n), hidden, rng=rng, dtype=np.float64)
    value = ValueBaseline(obs_dim, rng=rng, dtype=np.float64) if baseline else None
    optimizer = Adam(policy.parameters(), lr=lr)
    result = ReinforceResult(policy, value)
    batch = []
    for i in range(n_episodes):
        episode = run_episode(env, lambda o: policy.act(o, rng), seed=seed if i == 0 else None)
        result.returns.append(episode.total_return)
        batch.append((episode, discounted_returns(episode.rewards, gamma)))
        if len(batch) < batch_episodes and i < n_episodes - 1:
            continue
        obs = np.concatenate([ep.observations for ep, _ in batch]).astype(np.float64)
        actions = np.concatenate([ep.actions for ep, _ in batch])
        G = np.concatenate([g for _, g in batch])
        weights = G - value.predict(obs) if value is not None else G
        policy_gradient(policy, obs, actions, weights / len(batch))
        optimizer.step()  # policy.grads holds -g_hat: descent on the surrogate loss
        if value is not None:
            value.update(obs, G)
        batch = []
    return result
