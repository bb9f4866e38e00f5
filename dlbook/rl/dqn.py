"""Deep Q-learning (DQN) in PyTorch: replay buffer, target network, epsilon-greedy (chapter 21).

A Q-network Q_theta(s, .) scores every action. Each step the agent acts
epsilon-greedily, stores the transition (s, a, r, s', terminated) in a
replay buffer (a numpy ring buffer) and fits Q_theta on a random minibatch
of old transitions to the Bellman target

    y = r + gamma (1 - terminated) max_a' Q_target(s', a'),

computed with a *target network*, a copy of Q_theta refreshed every
``target_update`` steps, and a Huber loss (Mnih et al., 2015). Only a real
termination stops bootstrapping: a time-limit truncation does not, because
the state after it still has a future. torch is imported inside the functions.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.utils import make_rng


class ReplayBuffer:
    """A fixed-size ring buffer of transitions; the oldest is overwritten when full.

    Shapes: obs and next_obs (D,) each; sample(N) gives obs (N, D) float32,
    actions (N,) int64, rewards (N,) float32, next_obs (N, D), terminated (N,) float32.
    Sampling is uniform with replacement, from ``rng`` only.
    """

    def __init__(self, capacity: int, obs_dim: int, rng: int | np.random.Generator | None = None):
        self.capacity = check_positive_int(capacity, "ReplayBuffer", "capacity")
        self.obs_dim = check_positive_int(obs_dim, "ReplayBuffer", "obs_dim")
        self.rng = make_rng(rng, "ReplayBuffer")
        self.obs = np.zeros((self.capacity, self.obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((self.capacity, self.obs_dim), dtype=np.float32)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self.position = 0  # where the next transition goes
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def push(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
             terminated: bool) -> None:
        """Store one transition, overwriting the oldest when the buffer is full."""
        obs = as_float_array(obs, "ReplayBuffer.push", "obs")
        next_obs = as_float_array(next_obs, "ReplayBuffer.push", "next_obs")
        if obs.shape != (self.obs_dim,) or next_obs.shape != (self.obs_dim,):
            raise ValueError(f"ReplayBuffer.push expected obs and next_obs of shape "
                             f"({self.obs_dim},); got {obs.shape} and {next_obs.shape}")
        i = self.position
        self.obs[i], self.next_obs[i] = obs, next_obs
        self.actions[i], self.rewards[i], self.terminated[i] = int(action), reward, bool(terminated)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> dict[str, np.ndarray]:
        """A minibatch drawn uniformly (with replacement) from the stored transitions."""
        batch_size = check_positive_int(batch_size, "ReplayBuffer.sample", "batch_size")
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample called on an empty buffer")
        idx = self.rng.integers(self.size, size=batch_size)
        return {"obs": self.obs[idx], "actions": self.actions[idx], "rewards": self.rewards[idx],
                "next_obs": self.next_obs[idx], "terminated": self.terminated[idx]}


def epsilon_schedule(step: int, start: float = 1.0, end: float = 0.05,
                     decay_steps: int = 1000) -> float:
    """epsilon falls linearly from ``start`` to ``end`` over ``decay_steps`` steps, then stays.

    Shapes: scalars.
    """
    if not 0.0 <= end <= start <= 1.0:
        raise ValueError(f"epsilon_schedule expected 0 <= end <= start <= 1; got {start}, {end}")
    decay_steps = check_positive_int(decay_steps, "epsilon_schedule", "decay_steps")
    return end + (start - end) * max(0.0, 1.0 - step / decay_steps)


def make_q_network(obs_dim: int, n_actions: int, hidden: int = 64):
    """Q_theta: Linear-ReLU-Linear-ReLU-Linear, one output per action (a torch module).

    Shapes: obs (N, D) -> Q values (N, A). Initialised from torch's global RNG.
    """
    import torch

    return torch.nn.Sequential(torch.nn.Linear(obs_dim, hidden), torch.nn.ReLU(),
                               torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                               torch.nn.Linear(hidden, n_actions))


def td_targets(rewards, next_q_target, terminated, gamma: float):
    """The Bellman target y = r + gamma (1 - terminated) max_a' Q_target(s', a').

    Shapes: rewards (N,), next_q_target (N, A), terminated (N,) of 0/1 -> y (N,).
    Works on torch tensors (no gradient should flow into it: pass detached values).
    """
    return rewards + gamma * (1.0 - terminated) * next_q_target.max(dim=1).values


def dqn_update(q_net, target_net, optimizer, batch: dict[str, np.ndarray], gamma: float) -> float:
    """One gradient step of Q_theta toward the Bellman targets of a replay minibatch.

    Shapes: batch as :meth:`ReplayBuffer.sample` gives it (N transitions) -> the Huber loss.
    Loss: mean over the batch of Huber(Q_theta(s, a) - y), y from :func:`td_targets`
    with the target network and no gradient through y.
    """
    import torch
    import torch.nn.functional as TF

    device = next(q_net.parameters()).device
    b = {k: torch.as_tensor(v, device=device) for k, v in batch.items()}
    q_taken = q_net(b["obs"]).gather(1, b["actions"][:, None])[:, 0]  # Q(s, a) of the stored a: (N,)
    with torch.no_grad():
        y = td_targets(b["rewards"], target_net(b["next_obs"]), b["terminated"], gamma)
    loss = TF.smooth_l1_loss(q_taken, y)  # Huber loss with delta = 1
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.item())


@contextmanager
def torch_threads(num_threads: int | None):
    """Let torch use ``num_threads`` CPU threads inside the block (None: leave it alone)."""
    import torch

    old = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(check_positive_int(num_threads, "torch_threads", "num_threads"))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@dataclass
class DQNResult:
    """What :func:`dqn` gives back: the Q-network, per-episode returns and the TD losses.

    ``episode_ends[i]`` is the number of environment steps taken when episode i
    finished, so the returns can be plotted against steps.
    """

    q_net: object
    returns: list[float] = field(default_factory=list)
    episode_ends: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)


def dqn(env, total_steps: int, gamma: float = 0.99, lr: float = 1e-3, hidden: int = 64,
        buffer_size: int = 10_000, batch_size: int = 64, learning_starts: int = 500,
        train_every: int = 1, target_update: int = 250, epsilon_decay_steps: int = 2_000,
        rng: int | None = None, device=None, num_threads: int | None = 1) -> DQNResult:
    """Train a DQN agent for ``total_steps`` environment steps (Mnih et al., 2015).

    Shapes: observations (D,); returns has one entry per finished episode.
    ``rng`` (an int) seeds the Q-network (in a forked torch RNG, so the global
    one is untouched), the replay sampling, epsilon-greedy and the first
    ``env.reset``. ``device``: default :func:`dlbook.twins.default_device`.
    ``num_threads``: CPU threads torch may use meanwhile (restored afterwards):
    for matrices this small extra threads only add synchronisation.
    """
    import torch

    from dlbook.twins import default_device

    total_steps = check_positive_int(total_steps, "dqn", "total_steps")
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, (int, np.integer))):
        raise TypeError(f"dqn expected rng to be an int seed or None; got {type(rng).__name__}")
    device = torch.device(default_device() if device is None else device)
    np_rng = make_rng(rng, "dqn")
    obs_dim, n_actions = int(np.prod(env.observation_space.shape)), int(env.action_space.n)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(np_rng.integers(2**31)))
        q_net = make_q_network(obs_dim, n_actions, hidden).to(device)
    target_net = make_q_network(obs_dim, n_actions, hidden).to(device)
    target_net.load_state_dict(q_net.state_dict())
    fused = device.type in ("cpu", "cuda")  # one kernel for all parameters: much faster here
    optimizer = torch.optim.Adam(q_net.parameters(), lr=lr, fused=fused)
    buffer = ReplayBuffer(buffer_size, obs_dim, rng=np_rng)
    result = DQNResult(q_net)

    obs, _ = env.reset(seed=rng)
    episode_return = 0.0
    with torch_threads(num_threads):
        for step in range(total_steps):
            if np_rng.random() < epsilon_schedule(step, decay_steps=epsilon_decay_steps):
                action = int(np_rng.integers(n_actions))  # explore
            else:
                action = greedy_action(q_net, obs)  # exploit
            next_obs, reward, terminated, truncated, _ = env.step(action)
            buffer.push(obs, action, reward, next_obs, terminated)  # truncation still bootstraps
            episode_return += float(reward)
            obs = next_obs
            if terminated or truncated:
                result.returns.append(episode_return)
                result.episode_ends.append(step + 1)
                episode_return = 0.0
                obs, _ = env.reset()
            if step >= learning_starts and step % train_every == 0:
                result.losses.append(dqn_update(q_net, target_net, optimizer,
                                                buffer.sample(batch_size), gamma))
            if step % target_update == 0:
                target_net.load_state_dict(q_net.state_dict())  # refresh the frozen copy
    return result


def greedy_action(q_net, obs: np.ndarray, device=None) -> int:
    """argmax_a Q(obs, a) for one observation (D,), without building a graph."""
    import torch

    device = next(q_net.parameters()).device if device is None else torch.device(device)
    with torch.no_grad():
        q = q_net(torch.as_tensor(np.asarray(obs, dtype=np.float32), device=device)[None])
    return int(q.argmax(dim=1).item())
