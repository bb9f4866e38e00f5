"""A small, exactly solvable environment with the Gymnasium API: the slippery corridor (chapter 21).

The corridor is a row of ``length`` cells. The agent starts in cell ``start``
and moves left (action 0) or right (action 1); with probability ``slip`` the
move goes the other way. Entering the left end pays ``left_reward``, entering
the right end pays ``right_reward``, and both ends finish the episode. With a
small reward nearby and a large one far away, the discount factor decides
which end is better, and because the whole model is a pair of small arrays
(:meth:`Corridor.model`), the best policy can be computed exactly
(:mod:`dlbook.rl.mdp`) and compared with what an agent learns.

This module needs ``gymnasium`` (the ``book`` extra): the environment is a
real ``gymnasium.Env``, so Gymnasium's checker and wrappers accept it.
"""

from __future__ import annotations

import numpy as np

try:
    import gymnasium as gym
    from gymnasium import spaces
except ImportError as err:  # pragma: no cover - gymnasium is in the book extra
    raise ImportError("dlbook.rl.envs needs the 'gymnasium' package; install it with "
                      "`pip install gymnasium` (or `pip install dlbook[book]`)") from err

from dlbook._checks import check_positive_int

LEFT, RIGHT = 0, 1
"""The two actions of the corridor."""

MIN_LENGTH = 3
"""Two end cells and at least one cell to start from."""


def _check_probability(value, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{where} expected {name} to be a number; got {type(value).__name__}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{where} expected {name} in [0, 1]; got {value}")
    return float(value)


class Corridor(gym.Env):
    """Slippery corridor: cells 0..length-1, both ends terminal, a one-hot position as observation.

    Dynamics: from cell s the intended move is s - 1 (LEFT) or s + 1 (RIGHT);
    with probability ``slip`` the opposite move happens. The reward is paid on
    entering a cell: ``left_reward`` for cell 0, ``right_reward`` for cell
    length - 1, ``step_reward`` for any other cell.

    Shapes: observation (length,) float32 one-hot; action an int in {0, 1}.
    ``reset(seed=...)`` seeds the slips (``self.np_random``), as in every
    Gymnasium environment; after ``max_episode_steps`` steps an episode is
    truncated. Chapter 21 solves it exactly and with REINFORCE.
    """

    metadata = {"render_modes": []}

    def __init__(self, length: int = 6, start: int = 1, left_reward: float = 0.1,
                 right_reward: float = 1.0, step_reward: float = 0.0, slip: float = 0.1,
                 max_episode_steps: int = 100):
        super().__init__()
        self.length = check_positive_int(length, "Corridor", "length")
        if self.length < MIN_LENGTH:
            raise ValueError(f"Corridor expected length >= {MIN_LENGTH}; got {length}")
        if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
            raise TypeError(f"Corridor expected start to be an int; got {type(start).__name__}")
        if not 0 < start < self.length - 1:
            raise ValueError(f"Corridor expected start in [1, {self.length - 2}] (not an end "
                             f"cell); got {start}")
        self.start = int(start)
        self.left_reward, self.right_reward = float(left_reward), float(right_reward)
        self.step_reward = float(step_reward)
        self.slip = _check_probability(slip, "Corridor", "slip")
        self.max_episode_steps = check_positive_int(max_episode_steps, "Corridor",
                                                    "max_episode_steps")
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.length,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.position = self.start
        self.steps = 0

    def _observation(self) -> np.ndarray:
        obs = np.zeros(self.length, dtype=np.float32)
        obs[self.position] = 1.0
        return obs

    def _reward(self, cell: int) -> float:
        if cell == 0:
            return self.left_reward
        if cell == self.length - 1:
            return self.right_reward
        return self.step_reward

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start a new episode in cell ``start``; returns (observation, info)."""
        super().reset(seed=seed)
        self.position, self.steps = self.start, 0
        return self._observation(), {"position": self.position}

    def step(self, action: int):
        """Move one cell; returns (observation, reward, terminated, truncated, info)."""
        if not self.action_space.contains(action):
            raise ValueError(f"Corridor.step expected action 0 (left) or 1 (right); got {action!r}")
        if self.position in (0, self.length - 1):
            raise RuntimeError("Corridor.step called after the episode terminated; call reset()")
        move = -1 if int(action) == LEFT else 1
        if self.np_random.random() < self.slip:
            move = -move
        self.position += move
        self.steps += 1
        terminated = self.position in (0, self.length - 1)
        truncated = not terminated and self.steps >= self.max_episode_steps
        reward = self._reward(self.position)
        return self._observation(), reward, terminated, truncated, {"position": self.position}

    def model(self) -> tuple[np.ndarray, np.ndarray]:
        """The exact MDP: P[s, a, s'] = Pr(s' | s, a) and R[s, a] = expected reward.

        Shapes: P (S, 2, S), R (S, 2) with S = length, float64. The end cells
        are absorbing with reward 0, so values of non-terminal cells solve the
        Bellman equations of :mod:`dlbook.rl.mdp` directly.
        """
        S = self.length
        P = np.zeros((S, 2, S))
        R = np.zeros((S, 2))
        for end in (0, S - 1):
            P[end, :, end] = 1.0
        for s in range(1, S - 1):
            for a, move in ((LEFT, -1), (RIGHT, 1)):
                for s_next, prob in ((s + move, 1.0 - self.slip), (s - move, self.slip)):
                    P[s, a, s_next] += prob
                    R[s, a] += prob * self._reward(s_next)
        return P, R
