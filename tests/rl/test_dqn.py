"""Chapter 21: DQN in PyTorch: replay buffer, epsilon schedule, Bellman targets, updates, seeded runs."""

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")
torch = pytest.importorskip("torch")

from dlbook.rl import (ReplayBuffer, dqn, dqn_update, epsilon_schedule, greedy_action,  # noqa: E402
                       make_q_network, td_targets, torch_threads)

RNG = np.random.default_rng(21)


# --- training runs ------------------------------------------------------------------------

def test_dqn_is_deterministic_under_a_seed():
    def run():
        return dqn(gym.make("CartPole-v1"), 200, learning_starts=100, batch_size=16,
                   target_update=50, hidden=16, rng=5, device="cpu")

    a, b = run(), run()
    assert a.returns == b.returns and a.losses == b.losses and len(a.losses) == 100
    assert a.episode_ends == b.episode_ends and len(a.episode_ends) == len(a.returns)
    assert a.episode_ends[-1] == sum(a.returns)  # CartPole pays 1 per step
    for pa, pb in zip(a.q_net.parameters(), b.q_net.parameters()):
        assert torch.equal(pa, pb)


def test_dqn_runs_on_every_device(device):
    result = dqn(gym.make("CartPole-v1"), 120, learning_starts=60, batch_size=8, hidden=8,
                 rng=0, device=device)
    assert next(result.q_net.parameters()).device.type == device
    assert greedy_action(result.q_net, np.zeros(4, dtype=np.float32)) in (0, 1)
    assert all(np.isfinite(result.losses))


def test_dqn_rejects_a_generator_seed():
    with pytest.raises(TypeError, match="int seed"):
        dqn(gym.make("CartPole-v1"), 10, rng=np.random.default_rng(0))


# --- replay buffer, schedule, targets ------------------------------------------------------

def test_replay_buffer_is_a_ring():
    buf = ReplayBuffer(3, 2, rng=0)
    for i in range(5):
        buf.push(np.full(2, i), i % 2, float(i), np.full(2, i + 1), terminated=i == 4)
    assert len(buf) == 3 and buf.position == 2
    np.testing.assert_array_equal(buf.obs[:, 0], [3, 4, 2])  # 0 and 1 were overwritten
    np.testing.assert_array_equal(buf.terminated, [0, 1, 0])
    batch = buf.sample(50)
    assert batch["obs"].shape == (50, 2) and batch["obs"].dtype == np.float32
    assert batch["actions"].dtype == np.int64 and set(batch["rewards"]) <= {2.0, 3.0, 4.0}
    np.testing.assert_array_equal(batch["next_obs"][:, 0], batch["obs"][:, 0] + 1)


def test_replay_buffer_sampling_is_seeded_and_checked():
    def fill(seed):
        buf = ReplayBuffer(10, 1, rng=seed)
        for i in range(10):
            buf.push([i], 0, 0.0, [i], False)
        return buf.sample(6)["obs"][:, 0]

    np.testing.assert_array_equal(fill(1), fill(1))
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(4, 2).sample(1)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        ReplayBuffer(4, 2).push(np.zeros(3), 0, 0.0, np.zeros(2), False)


def test_epsilon_schedule():
    assert epsilon_schedule(0, 1.0, 0.1, 100) == 1.0
    assert epsilon_schedule(50, 1.0, 0.1, 100) == pytest.approx(0.55)
    assert epsilon_schedule(100, 1.0, 0.1, 100) == epsilon_schedule(10**6, 1.0, 0.1, 100) == 0.1
    with pytest.raises(ValueError, match="end <= start"):
        epsilon_schedule(0, 0.1, 0.5)


def test_td_targets_stop_bootstrapping_only_at_termination():
    torch = pytest.importorskip("torch")
    y = td_targets(torch.tensor([1.0, 1.0]), torch.tensor([[2.0, 5.0], [2.0, 5.0]]),
                   torch.tensor([0.0, 1.0]), gamma=0.9)
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.9 * 5.0, 1.0])


def test_dqn_update_moves_q_toward_the_targets():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        q_net, target = make_q_network(2, 2, hidden=8), make_q_network(2, 2, hidden=8)
    target.load_state_dict(q_net.state_dict())
    optimizer = torch.optim.SGD(q_net.parameters(), lr=0.05)
    batch = {"obs": RNG.normal(size=(16, 2)).astype(np.float32), "actions": RNG.integers(0, 2, 16),
             "rewards": np.ones(16, dtype=np.float32), "next_obs": np.zeros((16, 2), np.float32),
             "terminated": np.ones(16, dtype=np.float32)}  # targets y = 1 exactly
    before = threads = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
        losses = [dqn_update(q_net, target, optimizer, batch, gamma=0.9) for _ in range(30)]
    assert torch.get_num_threads() == before == threads
    assert losses[-1] < 0.5 * losses[0]
