"""Chapter 22: the same MLP in PyTorch and Keras 3 (torch backend), graph capture, mixed precision."""

import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # before Keras is first imported: no TensorFlow
torch = pytest.importorskip("torch")
pytest.importorskip("keras")

from dlbook.scale.frameworks import (as_module, branchy, compile_graphs, copy_torch_to_keras,  # noqa: E402
                                     epoch_orders, export_graph, graph_ops, import_keras, keras_accuracy,
                                     make_keras_mlp, make_torch_mlp, torch_accuracy, trace,
                                     train_keras, train_torch)
from dlbook.scale.precision import (DTYPE_NAMES, autocast_dtypes, float_limits, round_trip,  # noqa: E402
                                    train_mixed_precision)

# Keras 3.15 calls np.array(tensor, copy=False) internally; numpy 2 warns about it on every call.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

RNG = np.random.default_rng(22)
D, H, C = 12, 16, 4


def toy_data(n=96):
    X = RNG.normal(size=(n, D)).astype(np.float32)
    y = (X @ RNG.normal(size=(D, C))).argmax(axis=1).astype(np.int64)
    return X, y


def test_keras_runs_on_the_torch_backend():
    keras = import_keras()
    assert keras.backend.backend() == "torch"
    assert "tensorflow" not in sys.modules


def test_import_keras_refuses_another_backend():
    code = ("import os; os.environ['KERAS_BACKEND'] = 'jax'\n"
            "from dlbook.scale.frameworks import import_keras\n"
            "try:\n    import_keras()\nexcept RuntimeError as e:\n    print('refused:', e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, KERAS_BACKEND="jax"))
    assert "refused: import_keras: KERAS_BACKEND is 'jax'" in out.stdout, out.stderr[-2000:]


def test_torch_and_keras_agree_forward_with_copied_weights(device):
    X, _ = toy_data(10)
    tm = make_torch_mlp(D, H, C, seed=1).to(device)
    km = make_keras_mlp(D, H, C)
    copy_torch_to_keras(tm, km)
    ours = tm(torch.as_tensor(X, device=device)).detach().cpu().numpy()
    np.testing.assert_allclose(km.predict(X, verbose=0), ours, atol=1e-5)
    kernel = km.layers[0].get_weights()[0]
    assert kernel.shape == (D, H)  # Keras stores (in, out): torch's weight transposed


def test_torch_and_keras_training_follow_the_same_trajectory():
    X, y = toy_data()
    tm, km = make_torch_mlp(D, H, C, seed=2), make_keras_mlp(D, H, C)
    copy_torch_to_keras(tm, km)
    lt = train_torch(tm, X, y, epochs=3, batch_size=16, lr=0.1, seed=0)
    lk = train_keras(km, X, y, epochs=3, batch_size=16, lr=0.1, seed=0)
    assert len(lt) == len(lk) == 3 and lt[-1] < lt[0]
    np.testing.assert_allclose(lt, lk, rtol=1e-5)
    kw = [w for layer in km.layers for w in layer.get_weights()]
    tw = [p.detach().numpy() for p in tm.parameters()]
    for k, t in zip(kw, tw):
        np.testing.assert_allclose(k, t.T if t.ndim == 2 else t, atol=1e-5)
    assert torch_accuracy(tm, X, y) == pytest.approx(keras_accuracy(km, X, y))


def test_copy_rejects_mismatched_models():
    with pytest.raises(ValueError, match="as many Linear as Dense"):
        copy_torch_to_keras(torch.nn.Sequential(torch.nn.Linear(D, C)), make_keras_mlp(D, H, C))


def test_epoch_orders_are_seeded_permutations():
    a, b = epoch_orders(7, 3, seed=0), epoch_orders(7, 3, seed=0)
    assert len(a) == 3 and all(np.array_equal(x, z) for x, z in zip(a, b))
    assert all(sorted(o) == list(range(7)) for o in a) and not np.array_equal(a[0], a[1])
    with pytest.raises(ValueError, match="epochs >= 1"):
        epoch_orders(5, 0, seed=0)


def test_trace_equals_eager(device):
    model = make_torch_mlp(D, H, C, seed=3).to(device)
    x = torch.as_tensor(toy_data(5)[0], device=device)
    traced, _ = trace(model, x)
    x2 = torch.as_tensor(toy_data(9)[0], device=device)  # another batch size works too
    assert torch.allclose(traced(x2), model(x2), atol=1e-6)


def test_trace_bakes_in_the_branch_and_says_so():
    traced, messages = trace(branchy, torch.ones(3))
    assert len(messages) == 1 and messages[0].startswith("TracerWarning")
    neg = -torch.ones(3)
    assert torch.equal(branchy(neg), torch.ones(3))      # eager: the else branch, -x
    assert torch.equal(traced(neg), -2 * torch.ones(3))  # traced: still 2 x


def test_export_gives_a_static_graph_or_refuses():
    exported, error = export_graph(make_torch_mlp(D, H, C), torch.ones(2, D))
    assert error is None and graph_ops(exported) == ["aten.linear.default", "aten.relu.default",
                                                     "aten.linear.default"]
    exported, error = export_graph(as_module(branchy), torch.ones(3))
    assert exported is None and error is not None


def test_compile_breaks_the_graph_at_the_branch_and_stays_correct():
    compiled, graphs, breaks = compile_graphs(branchy, torch.ones(3))
    assert (graphs, breaks) == (2, 1)
    assert torch.equal(compiled(-torch.ones(3)), torch.ones(3))
    model = make_torch_mlp(D, H, C)
    compiled, graphs, breaks = compile_graphs(model, torch.ones(2, D))
    assert (graphs, breaks) == (1, 0)
    assert torch.allclose(compiled(torch.ones(5, D)), model(torch.ones(5, D)), atol=1e-6)


def test_float_limits_and_round_trips():
    f16, bf16, f32 = (float_limits(n) for n in ("float16", "bfloat16", "float32"))
    assert f16["max"] == 65504.0 and (f16["exponent_bits"], f16["mantissa_bits"]) == (5, 10)
    assert (bf16["exponent_bits"], bf16["mantissa_bits"]) == (8, 7) and bf16["tiny"] == f32["tiny"]
    assert bf16["eps"] == 2.0 ** -7 and f16["subnormal"] == 2.0 ** -24
    values = np.array([70000.0, 1e-8, 1 + 2.0 ** -9])
    np.testing.assert_array_equal(round_trip(values, "float16")[:2], [np.inf, 0.0])
    bf = round_trip(values, "bfloat16")
    assert np.all(np.isfinite(bf)) and bf[1] > 0 and bf[2] == 1.0  # range kept, precision lost
    with pytest.raises(ValueError, match="one of"):
        float_limits("float8")


def test_autocast_changes_the_dtype_of_matrix_products(device):
    half = "float16" if device == "cuda" else "bfloat16"
    model = make_torch_mlp(D, H, C).to(device)
    dtypes = autocast_dtypes(model, toy_data(4)[0], device_type=device, dtype=half)
    assert dtypes == {"parameter": "float32", "logits": half, "loss": "float32"}


def test_mixed_precision_training_matches_float32(device):
    X, y = toy_data(160)
    half = "float16" if device == "cuda" else "bfloat16"
    runs = {d: train_mixed_precision(X[:128], y[:128], X[128:], y[128:], dtype=d, hidden=16,
                                     epochs=4, device=device) for d in ("float32", half)}
    assert set(runs["float32"]) == {"train_loss", "test_loss", "test_accuracy"}
    assert abs(runs["float32"]["test_accuracy"] - runs[half]["test_accuracy"]) <= 0.1
    assert abs(runs["float32"]["train_loss"] - runs[half]["train_loss"]) < 0.05
    assert DTYPE_NAMES == ("float32", "bfloat16", "float16")
