"""Chapter 21: the corridor environment, exact MDP solutions, REINFORCE (numpy), evaluation helpers.

The REINFORCE gradient is checked against numerical differentiation and
against a PyTorch twin (float64, every device); a seeded training run must
be reproducible. DQN is tested in tests/rl/test_dqn.py.
"""

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

from dlbook.diagnostics.numgrad import numerical_gradient  # noqa: E402
from dlbook.rl import (SoftmaxPolicy, ValueBaseline, discounted_returns,  # noqa: E402
                       evaluate_policy, greedy_policy, moving_average, policy_evaluation,
                       policy_gradient, q_from_values, random_policy, reinforce, returns_at_steps,
                       returns_over_seeds, run_episode, value_iteration)
from dlbook.rl.envs import LEFT, RIGHT, Corridor  # noqa: E402

TOL = 1e-10
RNG = np.random.default_rng(21)


# --- the environment --------------------------------------------------------------------

def test_corridor_passes_gymnasiums_checker():
    from gymnasium.utils.env_checker import check_env

    check_env(Corridor(), skip_render_check=True)


def test_corridor_api_and_observation():
    env = Corridor(length=5, start=2)
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (5,) and env.observation_space.contains(obs)
    assert obs.argmax() == 2 and obs.sum() == 1 and info == {"position": 2}
    out = env.step(RIGHT)
    assert len(out) == 5
    obs, reward, terminated, truncated, info = out
    assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
    assert env.action_space.n == 2


def test_corridor_deterministic_without_slip_and_terminal_rewards():
    env = Corridor(length=6, start=1, slip=0.0, left_reward=0.1, right_reward=1.0)
    env.reset(seed=0)
    assert env.step(LEFT)[1:4] == (0.1, True, False)
    env.reset()
    rewards = [env.step(RIGHT)[1] for _ in range(4)]
    assert rewards == [0.0, 0.0, 0.0, 1.0] and env.position == 5
    with pytest.raises(RuntimeError, match="after the episode terminated"):
        env.step(RIGHT)


def test_corridor_seeding_reproduces_slips():
    def positions(seed):
        env = Corridor(length=9, start=4, slip=0.5, max_episode_steps=30)
        env.reset(seed=seed)
        return [env.step(RIGHT)[4]["position"] for _ in range(3)]

    assert positions(3) == positions(3)
    assert any(positions(3) != positions(s) for s in range(4, 10))


def test_corridor_truncates_at_the_time_limit():
    env = Corridor(length=7, start=3, slip=0.0, max_episode_steps=4)
    env.reset(seed=0)
    flags = [env.step(a)[2:4] for a in (LEFT, RIGHT, LEFT, RIGHT)]
    assert flags == [(False, False)] * 3 + [(False, True)]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(length=2), ValueError, "length >= 3"),
    (dict(start=0), ValueError, "not an end cell"),
    (dict(start=1.5), TypeError, "start to be an int"),
    (dict(slip=1.5), ValueError, "slip in"),
    (dict(max_episode_steps=0), ValueError, "max_episode_steps >= 1"),
])
def test_corridor_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Corridor(**kwargs)


def test_corridor_rejects_bad_actions():
    env = Corridor()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="expected action 0"):
        env.step(2)


def test_corridor_model_matches_the_simulator():
    env = Corridor(length=5, start=2, slip=0.25)
    P, R = env.model()
    assert P.shape == (5, 2, 5) and R.shape == (5, 2)
    np.testing.assert_allclose(P.sum(axis=2), 1.0)
    counts = np.zeros(5)
    env.reset(seed=1)
    for _ in range(4000):
        env.reset()
        counts[env.step(RIGHT)[4]["position"]] += 1
    np.testing.assert_allclose(counts / counts.sum(), P[2, RIGHT], atol=0.03)
    assert R[1, LEFT] == pytest.approx(0.75 * 0.1)  # entering cell 0 pays left_reward


# --- exact solutions ----------------------------------------------------------------------

def test_value_iteration_on_the_deterministic_corridor():
    P, R = Corridor(length=6, start=1, slip=0.0).model()
    V, Q = value_iteration(P, R, gamma=0.9)
    assert V[1] == pytest.approx(0.9 ** 3)  # four steps right, reward on the fourth
    assert greedy_policy(Q)[1].argmax() == RIGHT
    V, Q = value_iteration(P, R, gamma=0.3)  # myopic: the near reward wins
    assert V[1] == pytest.approx(0.1) and Q[1].argmax() == LEFT


def test_policy_evaluation_solves_the_bellman_equation():
    P, R = Corridor(length=7, start=2, slip=0.2).model()
    pi = RNG.dirichlet([1.0, 1.0], size=7)
    V = policy_evaluation(P, R, pi, gamma=0.8)
    np.testing.assert_allclose(V, np.sum(pi * q_from_values(P, R, V, 0.8), axis=1), atol=TOL)
    V_star, Q_star = value_iteration(P, R, 0.8)
    np.testing.assert_allclose(policy_evaluation(P, R, greedy_policy(Q_star), 0.8), V_star, atol=1e-9)
    assert np.all(V <= V_star + 1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda P, R: value_iteration(P, R, gamma=1.0), "gamma in"),
    (lambda P, R: value_iteration(P[:, :, :-1], R, gamma=0.9), "shape"),
    (lambda P, R: value_iteration(2 * P, R, gamma=0.9), "probability distribution"),
    (lambda P, R: policy_evaluation(P, R, np.ones((5, 2)), 0.9), "probability distribution"),
    (lambda P, R: policy_evaluation(P, R, np.ones((4, 2)) / 2, 0.9), "pi of shape"),
    (lambda P, R: q_from_values(P, R, np.zeros(3), 0.9), "V of shape"),
    (lambda P, R: greedy_policy(np.zeros(3)), "shape"),
])
def test_mdp_functions_reject_bad_input(call, match):
    P, R = Corridor(length=5, start=2).model()
    with pytest.raises(ValueError, match=match):
        call(P, R)


# --- returns, policy and the policy gradient ----------------------------------------------

def test_discounted_returns_by_hand():
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 0.0, 2.0]), 0.5), [1.5, 1.0, 2.0])
    np.testing.assert_allclose(discounted_returns(np.array([1.0, 1.0, 1.0]), 1.0), [3, 2, 1])
    assert discounted_returns(np.zeros(0), 0.9).shape == (0,)
    with pytest.raises(ValueError, match="gamma in"):
        discounted_returns(np.ones(3), 1.5)
    with pytest.raises(ValueError, match="shape"):
        discounted_returns(np.ones((2, 2)), 0.9)


@pytest.mark.parametrize("hidden", [0, 8])
def test_policy_starts_uniform_and_samples_reproducibly(hidden):
    policy = SoftmaxPolicy(4, 3, hidden=hidden, rng=0)
    np.testing.assert_allclose(policy.probs(RNG.normal(size=(5, 4))), 1 / 3, atol=1e-7)
    obs = RNG.normal(size=4)
    draws = lambda: [policy.act(obs, np.random.default_rng(1)) for _ in range(1)]  # noqa: E731
    assert draws() == draws()
    counts = np.bincount([policy.act(obs, RNG) for _ in range(3000)], minlength=3)
    np.testing.assert_allclose(counts / 3000, 1 / 3, atol=0.04)


def random_policy_net(hidden):
    policy = SoftmaxPolicy(4, 3, hidden=hidden, rng=1, dtype=np.float64)
    for p in policy.params.values():
        p[...] = RNG.normal(size=p.shape)
    return policy


@pytest.mark.parametrize("hidden", [0, 5])
def test_policy_gradient_matches_numerical_gradient(hidden):
    policy = random_policy_net(hidden)
    obs, actions, weights = RNG.normal(size=(6, 4)), RNG.integers(0, 3, 6), RNG.normal(size=6)

    def surrogate(_):
        log_p = np.log(policy.probs(obs))
        return float(np.sum(weights * log_p[np.arange(6), actions]))

    g = policy_gradient(policy, obs, actions, weights)
    for name, param in policy.params.items():
        np.testing.assert_allclose(g[name], numerical_gradient(surrogate, param), atol=1e-7)
        np.testing.assert_array_equal(policy.grads[name], -g[name])  # descent on -J


@pytest.mark.parametrize("hidden", [0, 5])
def test_policy_gradient_matches_torch(hidden, device):
    torch = pytest.importorskip("torch")
    policy = random_policy_net(hidden)
    obs, actions, weights = RNG.normal(size=(7, 4)), RNG.integers(0, 3, 7), RNG.normal(size=7)
    g = policy_gradient(policy, obs, actions, weights)

    linears = [layer for layer in policy.net.layers if layer.params]
    layers = ([torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 3)] if hidden
              else [torch.nn.Linear(4, 3)])
    twin = torch.nn.Sequential(*layers).to(device=device, dtype=torch.float64)
    with torch.no_grad():
        for ours, theirs in zip(linears, [m for m in twin if hasattr(m, "weight")]):
            theirs.weight.copy_(torch.as_tensor(ours.params["W"].T))
            theirs.bias.copy_(torch.as_tensor(ours.params["b"]))
    to = lambda a, dt=torch.float64: torch.as_tensor(a, dtype=dt, device=device)  # noqa: E731
    log_p = torch.log_softmax(twin(to(obs)), dim=1)
    objective = (to(weights) * log_p[torch.arange(7), to(actions, torch.int64)]).sum()
    objective.backward()
    for i, theirs in enumerate(m for m in twin if hasattr(m, "weight")):
        key = f"{2 * i}" if hidden else "0"
        np.testing.assert_allclose(g[f"{key}.W"], theirs.weight.grad.T.cpu().numpy(), atol=TOL)
        np.testing.assert_allclose(g[f"{key}.b"], theirs.bias.grad.cpu().numpy(), atol=TOL)


@pytest.mark.parametrize("args, error, match", [
    ((np.ones((3, 5)), [0, 1, 2], np.ones(3)), ValueError, r"obs of shape \(N, 4\)"),
    ((np.ones((3, 4)), [0, 1], np.ones(3)), ValueError, "actions and weights"),
    ((np.ones((3, 4)), [0, 1, 3], np.ones(3)), ValueError, "actions in"),
    ((np.ones((3, 4)), [0.5, 1, 2], np.ones(3)), TypeError, "integer class labels"),
])
def test_policy_gradient_rejects_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        policy_gradient(SoftmaxPolicy(4, 3, rng=0), *args)


def test_policy_rejects_bad_hidden():
    with pytest.raises(ValueError, match="hidden"):
        SoftmaxPolicy(4, 2, hidden=-1)


def test_value_baseline_fits_returns():
    obs = RNG.normal(size=(64, 3))
    target = obs @ np.array([1.0, -2.0, 0.5]) + 3.0
    value = ValueBaseline(3, rng=0, dtype=np.float64)
    first = value.update(obs, target)
    for _ in range(20):
        last = value.update(obs, target)
    assert last < 0.1 * first and value.predict(obs).shape == (64,)


# --- training runs ------------------------------------------------------------------------

def test_reinforce_is_deterministic_and_learns_the_corridor():
    def run(seed):
        return reinforce(Corridor(), 60, gamma=0.9, lr=0.2, batch_episodes=2, rng=seed)

    a, b = run(0), run(0)
    assert a.returns == b.returns
    for name in a.policy.params:
        np.testing.assert_array_equal(a.policy.params[name], b.policy.params[name])
    env = Corridor()
    P, R = env.model()
    learned = policy_evaluation(P, R, a.policy.probs(np.eye(env.length)), 0.9)[env.start]
    uniform = policy_evaluation(P, R, np.full((env.length, 2), 0.5), 0.9)[env.start]
    optimal = value_iteration(P, R, 0.9)[0][env.start]
    assert uniform < learned <= optimal + 1e-12
    assert learned > uniform + 0.5 * (optimal - uniform)


def test_reinforce_on_cartpole_is_deterministic_with_and_without_baseline():
    for baseline in (True, False):
        runs = [reinforce(gym.make("CartPole-v1"), 4, hidden=8, baseline=baseline,
                          batch_episodes=2, rng=3).returns for _ in range(2)]
        assert runs[0] == runs[1] and len(runs[0]) == 4


# --- evaluation helpers -------------------------------------------------------------------

def test_run_episode_and_evaluate_policy():
    env = Corridor(length=6, start=1, slip=0.0)
    episode = run_episode(env, lambda obs: RIGHT, seed=0)
    assert len(episode) == 4 and episode.total_return == 1.0 and episode.terminated
    assert episode.observations.shape == (4, 6) and not episode.truncated
    np.testing.assert_array_equal(episode.observations.argmax(axis=1), [1, 2, 3, 4])
    returns = evaluate_policy(gym.make("CartPole-v1"), random_policy(2, rng=0), 5, seed=0)
    again = evaluate_policy(gym.make("CartPole-v1"), random_policy(2, rng=0), 5, seed=0)
    assert returns.shape == (5,) and np.array_equal(returns, again) and np.all(returns >= 1)
    with pytest.raises(TypeError, match="callable"):
        run_episode(env, 3)


def test_returns_over_seeds_cuts_to_the_shortest_run():
    out = returns_over_seeds(lambda seed: list(range(seed + 2)), [1, 0, 2])
    np.testing.assert_array_equal(out, [[0, 1], [0, 1], [0, 1]])
    with pytest.raises(ValueError, match="at least one seed"):
        returns_over_seeds(lambda s: [1.0], [])
    with pytest.raises(ValueError, match="non-empty"):
        returns_over_seeds(lambda s: [], [0])


def test_moving_average_by_hand():
    np.testing.assert_allclose(moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1, 2, 4, 6])
    np.testing.assert_allclose(moving_average(np.array([[2.0, 4.0]]), 5), [[2, 3]])
    with pytest.raises(ValueError, match="window >= 1"):
        moving_average(np.ones(3), 0)


def test_returns_at_steps_by_hand():
    out = returns_at_steps(np.array([10.0, 20.0, 30.0]), np.array([5, 8, 12]), np.array([0, 5, 7, 12, 99]))
    np.testing.assert_array_equal(out, [np.nan, 10, 10, 30, 30])
    with pytest.raises(ValueError, match="increase"):
        returns_at_steps(np.ones(2), np.array([3, 3]), np.arange(4))
    with pytest.raises(ValueError, match="one shape"):
        returns_at_steps(np.ones(2), np.array([3]), np.arange(4))


def test_plot_returns(plt):
    from dlbook.plot.rl import plot_returns

    ax = plot_returns({"agent": RNG.normal(size=(3, 20))}, random_return=0.5, window=4)
    assert len(ax.lines) == 2 and ax.get_xlabel() == "episode"
    on_steps = np.array([[np.nan, 1.0, 2.0], [np.nan, np.nan, 3.0]])
    ax = plot_returns({"dqn": on_steps}, x=np.array([10, 20, 30]), window=1, xlabel="step")
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [np.nan, 1.0, 2.5])
    assert ax.get_xlabel() == "step" and "latest episode" in ax.get_ylabel()
    with pytest.raises(ValueError, match="seeds, episodes"):
        plot_returns({"bad": np.ones(5)})
