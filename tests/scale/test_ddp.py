"""Chapter 22: DistributedDataParallel with 2 gloo processes equals one process on the global batch.

The launch test starts torchrun in a subprocess on a free port, with a
timeout that kills the whole process group, so a broken rendezvous fails
the test instead of hanging it.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.distributed as dist  # noqa: E402

from dlbook.scale.ddp import (GLOBAL_BATCH, launch, load_arrays, main, make_global_batch,  # noqa: E402
                              save_arrays, shard, train_single_process)

STEPS = 3
TOL = 1e-6  # float32: the all-reduce adds the shard gradients in a different order
TIMEOUT_S = 50


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="torch.distributed with gloo is not available")
def test_two_gloo_processes_equal_single_process_training(tmp_path):
    launch(2, STEPS, tmp_path, backend="gloo", timeout=TIMEOUT_S)
    grads, params = train_single_process(STEPS)
    first = train_single_process(1)[1]
    for rank in (0, 1):
        g = load_arrays(tmp_path, f"grads_step1_rank{rank}__")
        p = load_arrays(tmp_path, f"params_rank{rank}__")
        assert g.keys() == grads.keys() == p.keys() == params.keys()
        for name in grads:
            np.testing.assert_allclose(g[name], grads[name], atol=TOL, rtol=0)
            np.testing.assert_allclose(p[name], params[name], atol=TOL, rtol=0)
    moved = max(np.abs(params[k] - first[k]).max() for k in params)
    assert moved > 100 * TOL  # the later steps changed the parameters: the check has teeth


def test_shard_means_average_to_the_global_mean():
    X, y = make_global_batch()
    assert X.shape == (GLOBAL_BATCH, 8) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, make_global_batch()[0])
    parts = [shard(X, y, r, 4) for r in range(4)]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), X)
    losses = (X ** 2).sum(axis=1).astype(np.float64)  # any per-example quantity
    shard_means = [losses[r * 16:(r + 1) * 16].mean() for r in range(4)]
    assert np.mean(shard_means) == pytest.approx(losses.mean())


@pytest.mark.parametrize("rank, world, match", [(0, 5, "divisible"), (2, 2, "rank in")])
def test_shard_rejects_bad_splits(rank, world, match):
    X, y = make_global_batch()
    with pytest.raises(ValueError, match=match):
        shard(X, y, rank, world)


def test_arrays_round_trip_without_pickle(tmp_path):
    arrays = {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "0.bias": np.ones(2)}
    save_arrays(arrays, tmp_path, "p__")
    back = load_arrays(tmp_path, "p__")
    assert back.keys() == arrays.keys()
    for k in arrays:
        np.testing.assert_array_equal(back[k], arrays[k])
    with pytest.raises(FileNotFoundError, match="no q__"):
        load_arrays(tmp_path, "q__")


def test_single_process_reference_is_deterministic_and_learns():
    g1, p1 = train_single_process(2)
    g2, p2 = train_single_process(2)
    assert all(np.array_equal(p1[k], p2[k]) and np.array_equal(g1[k], g2[k]) for k in p1)
    with pytest.raises(ValueError, match="steps >= 1"):
        train_single_process(0)


def test_main_refuses_to_run_outside_torchrun(monkeypatch, tmp_path):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(SystemExit):
        main(["--steps", "1", "--out", str(tmp_path)])


def test_launch_runs_again_only_after_a_teardown_abort(monkeypatch, tmp_path):
    import subprocess

    from dlbook.scale import ddp
    calls = []

    def fake(outcomes):
        def run(cmd, timeout):
            calls.append(cmd)
            code, err = outcomes[len(calls) - 1]
            return subprocess.CompletedProcess(cmd, code), "", err
        return run

    monkeypatch.setattr(ddp, "_run_group", fake([(1, ddp.TEARDOWN_ABORT), (0, "")]))
    assert ddp.launch(2, 1, tmp_path, backend="gloo").returncode == 0 and len(calls) == 2
    calls.clear()
    monkeypatch.setattr(ddp, "_run_group", fake([(1, "ValueError: ours"), (0, "")]))
    with pytest.raises(RuntimeError, match="ValueError: ours"):
        ddp.launch(2, 1, tmp_path, backend="gloo")
    assert len(calls) == 1
    calls.clear()
    monkeypatch.setattr(ddp, "_run_group", fake([(1, ddp.TEARDOWN_ABORT)] * 2))
    with pytest.raises(RuntimeError, match="torchrun exited with 1"):
        ddp.launch(2, 1, tmp_path, backend="gloo")
    assert len(calls) == 2
