"""Deep reinforcement learning (chapter 21): an environment, exact solutions and two agents.

* :mod:`dlbook.rl.envs`: :class:`Corridor`, a small slippery corridor with the
  Gymnasium API (needs ``gymnasium``; imported on first use of ``Corridor``).
* :mod:`dlbook.rl.mdp`: exact policy evaluation and value iteration on arrays.
* :mod:`dlbook.rl.evaluate`: episodes, a random policy, returns over seeds.
* :mod:`dlbook.rl.reinforce`: REINFORCE with a value baseline in numpy.
* :mod:`dlbook.rl.dqn`: DQN in PyTorch (replay buffer, target network); torch
  is imported only when its functions run.
"""

from dlbook.rl.dqn import (DQNResult, ReplayBuffer, dqn, dqn_update, epsilon_schedule,
                           greedy_action, make_q_network, td_targets, torch_threads)
from dlbook.rl.evaluate import (Episode, evaluate_policy, moving_average, random_policy,
                                returns_at_steps, returns_over_seeds, run_episode)
from dlbook.rl.mdp import greedy_policy, policy_evaluation, q_from_values, value_iteration
from dlbook.rl.reinforce import (ReinforceResult, SoftmaxPolicy, ValueBaseline,
                                 discounted_returns, policy_gradient, reinforce)

__all__ = [
    "Corridor",
    "DQNResult", "ReplayBuffer", "dqn", "dqn_update", "epsilon_schedule", "greedy_action",
    "make_q_network", "td_targets", "torch_threads",
    "Episode", "evaluate_policy", "moving_average", "random_policy", "returns_at_steps",
    "returns_over_seeds", "run_episode",
    "greedy_policy", "policy_evaluation", "q_from_values", "value_iteration",
    "ReinforceResult", "SoftmaxPolicy", "ValueBaseline", "discounted_returns", "policy_gradient",
    "reinforce",
]


def __getattr__(name: str):
    """``dlbook.rl.Corridor`` imports gymnasium only when it is first asked for."""
    if name == "Corridor":
        from dlbook.rl.envs import Corridor

        return Corridor
    raise AttributeError(f"module 'dlbook.rl' has no attribute {name!r}")
