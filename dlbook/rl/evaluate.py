"""Running episodes, a random-policy baseline and return curves over seeds (chapter 21).

Everything here talks to an environment only through the Gymnasium API,
``reset(seed=...) -> (obs, info)`` and ``step(a) -> (obs, reward,
terminated, truncated, info)``, so it works for CartPole and for the
package's :class:`dlbook.rl.envs.Corridor` alike. A policy is any callable
``act(obs) -> int``; its randomness lives in its own ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.utils import make_rng

Act = Callable[[np.ndarray], int]


@dataclass
class Episode:
    """One episode: what the agent saw, did and got.

    Shapes: observations (T, D) (the states acted in, not the final one),
    actions (T,) int64, rewards (T,) float64. ``terminated``: the episode
    reached a terminal state; ``truncated``: a time limit cut it short.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool
    truncated: bool

    @property
    def total_return(self) -> float:
        """The undiscounted return: the sum of the rewards."""
        return float(self.rewards.sum())

    def __len__(self) -> int:
        return len(self.actions)


def run_episode(env, act: Act, seed: int | None = None) -> Episode:
    """Play one episode with ``act``; ``seed`` is passed to ``env.reset`` (None: continue its RNG).

    Shapes: see :class:`Episode`.
    """
    if not callable(act):
        raise TypeError(f"run_episode expected act to be a callable obs -> action; "
                        f"got {type(act).__name__}")
    obs, _ = env.reset(seed=seed)
    observations, actions, rewards = [], [], []
    terminated = truncated = False
    while not (terminated or truncated):
        action = int(act(obs))
        observations.append(np.asarray(obs, dtype=np.float32))
        actions.append(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        rewards.append(float(reward))
    return Episode(np.stack(observations), np.array(actions, dtype=np.int64),
                   np.array(rewards, dtype=np.float64), bool(terminated), bool(truncated))


def random_policy(n_actions: int, rng: int | np.random.Generator | None = None) -> Act:
    """A policy that ignores the observation and picks an action uniformly at random.

    Shapes: obs (D,) -> int in [0, n_actions). Randomness from ``rng`` only.
    """
    n_actions = check_positive_int(n_actions, "random_policy", "n_actions")
    rng = make_rng(rng, "random_policy")
    return lambda obs: int(rng.integers(n_actions))


def evaluate_policy(env, act: Act, n_episodes: int, seed: int | None = None) -> np.ndarray:
    """Undiscounted returns of ``n_episodes`` episodes; ``seed`` seeds the first reset only.

    Shapes: -> returns (n_episodes,) float64.
    """
    n_episodes = check_positive_int(n_episodes, "evaluate_policy", "n_episodes")
    returns = [run_episode(env, act, seed=seed if i == 0 else None).total_return
               for i in range(n_episodes)]
    return np.array(returns)


def returns_over_seeds(train: Callable[[int], Sequence[float]], seeds: Sequence[int]) -> np.ndarray:
    """Run ``train(seed)`` once per seed and stack the per-episode returns it gives back.

    Shapes: each run gives (E,) returns -> (len(seeds), E); runs of different
    lengths are cut to the shortest, so episode e is comparable across seeds.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("returns_over_seeds expected at least one seed; got none")
    runs = [np.asarray(train(seed), dtype=np.float64) for seed in seeds]
    if any(r.ndim != 1 or len(r) == 0 for r in runs):
        raise ValueError("returns_over_seeds expected train(seed) to return a non-empty 1-D "
                         "sequence of returns")
    shortest = min(len(r) for r in runs)
    return np.stack([r[:shortest] for r in runs])


def moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` entries (fewer at the start), along the last axis.

    Shapes: x (..., E) -> (..., E); entry e averages x[..., max(0, e - window + 1): e + 1].
    """
    x = as_float_array(x, "moving_average")
    window = check_positive_int(window, "moving_average", "window")
    if x.ndim == 0:
        raise ValueError("moving_average expected an array of shape (..., E); got a scalar")
    cumsum = np.cumsum(x, axis=-1)
    shifted = np.zeros_like(cumsum)
    shifted[..., window:] = cumsum[..., :-window]
    counts = np.minimum(np.arange(1, x.shape[-1] + 1), window)
    return (cumsum - shifted) / counts


def returns_at_steps(returns: np.ndarray, episode_ends: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The return of the latest episode finished by each step: a curve over environment steps.

    Shapes: returns (E,), episode_ends (E,) increasing step counts, steps (G,)
    -> (G,); NaN where no episode has finished yet. Runs that train for a fixed
    number of steps finish different numbers of episodes; on a common grid of
    steps they can be averaged.
    """
    returns = as_float_array(returns, "returns_at_steps", "returns")
    ends = np.asarray(episode_ends)
    if returns.ndim != 1 or ends.shape != returns.shape:
        raise ValueError(f"returns_at_steps expected returns and episode_ends of one shape (E,); "
                         f"got {returns.shape} and {ends.shape}")
    if np.any(np.diff(ends) <= 0):
        raise ValueError("returns_at_steps expected episode_ends to increase")
    idx = np.searchsorted(ends, np.asarray(steps), side="right") - 1  # latest episode ended by then
    return np.where(idx >= 0, returns[np.maximum(idx, 0)], np.nan)
