"""A reader's own model: sublayers found by assignment, trained with fit, saved and loaded."""

import numpy as np
import pytest

import dlbook
from dlbook.data import make_spirals
from dlbook.layers import (BatchNorm1d, CrossEntropyLoss, Dropout, Layer, LayerList, Linear,
                           ReLU, Sequential, eval_mode)
from dlbook.optim import Adam
from dlbook.train import Minibatches, evaluate, fit


class TwoTowers(Layer):
    """A user-defined model: two Linears, a Dropout and a Sequential, held as attributes."""

    def __init__(self, rng=0):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.fc1 = Linear(2, 16, rng=rng, dtype=np.float64)
        self.drop = Dropout(0.2, rng=rng)
        self.fc2 = Linear(16, 16, rng=rng, dtype=np.float64)
        self.head = Sequential(ReLU(), Linear(16, 3, rng=rng, dtype=np.float64))

    def forward(self, x):
        return self.head(self.fc2(self.drop(self.fc1(x))))

    def backward(self, dout):
        return self.fc1.backward(self.drop.backward(self.fc2.backward(self.head.backward(dout))))


def spirals():
    X, y = make_spirals(60, n_classes=3, noise=0.1, rng=0)
    return X.astype(np.float64), y


def test_user_model_trains_counts_switches_modes_and_round_trips(tmp_path):
    X, y = spirals()
    model, loss_fn = TwoTowers(), CrossEntropyLoss()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["fc1.W", "fc1.b", "fc2.W", "fc2.b", "head.1.W", "head.1.b"]
    assert len(names) == 4 + len(list(model.head.parameters()))
    assert model.num_parameters() == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 3 + 3)
    h = fit(model, Minibatches(X, y, 32, rng=0), Adam(model.parameters(), lr=0.02), epochs=40,
            loss_fn=loss_fn)
    loss, acc = evaluate(model, loss_fn, X, y)
    assert h.epoch_loss[-1] < 0.5 * h.epoch_loss[0] and acc > 0.8
    model.eval()
    assert not model.drop.training and not model.head[1].training
    np.testing.assert_array_equal(model(X), model(X))  # dropout off: deterministic
    model.train()
    assert model.drop.training
    path = dlbook.save(model, tmp_path / "towers.npz")
    fresh = TwoTowers(rng=123)
    fresh.load_state_dict(dlbook.load(path))
    with eval_mode(model), eval_mode(fresh):
        np.testing.assert_array_equal(fresh(X), model(X))
    assert model.training and fresh.training  # eval_mode restores each layer's mode


def test_state_dict_holds_copies_and_buffers():
    net = Sequential(Linear(3, 4, rng=0), BatchNorm1d(4), ReLU())
    net(np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32))
    state = net.state_dict()
    assert list(state) == ["0.W", "0.b", "1.gamma", "1.beta", "1.running_mean", "1.running_var"]
    assert state["1.running_mean"].any()  # the running mean moved in the forward pass
    state["0.W"][...] = 0
    assert net.params["0.W"].any()  # a copy, not the array itself


def test_load_state_dict_rejects_wrong_keys_and_shapes_and_changes_nothing(tmp_path):
    net = Sequential(Linear(3, 4, rng=0), Linear(4, 2, rng=1))
    before = net.state_dict()
    bad = dict(before, **{"1.W": np.zeros((5, 2), np.float32)})
    with pytest.raises(ValueError, match=r"wrong shapes \(1.W: expected \(4, 2\), got \(5, 2\)\)"):
        net.load_state_dict(bad)
    missing = {k: v for k, v in before.items() if k != "0.b"}
    with pytest.raises(ValueError, match=r"missing keys \['0.b'\]"):
        net.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected keys \['2.W'\]"):
        net.load_state_dict(dict(before, **{"2.W": np.zeros(1)}))
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    net.load_state_dict(missing, strict=False)  # a partial load is allowed when asked for
    path = dlbook.save(bad, tmp_path / "bad")
    assert path.name == "bad.npz"
    with pytest.raises(ValueError, match="wrong shapes"):
        net.load_state_dict(dlbook.load(path))


def test_save_and_load_refuse_what_they_cannot_store_or_read(tmp_path):
    with pytest.raises(TypeError, match="save expected a model"):
        dlbook.save([1, 2], tmp_path / "x.npz")
    with pytest.raises(TypeError, match="numeric numpy arrays"):
        dlbook.save({"a": np.array([object()], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        dlbook.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="could not read"):
        dlbook.load(tmp_path / "junk.npz")
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_tied_and_shared_layers_are_counted_once():
    shared = Linear(4, 4, rng=0)
    net = Sequential(shared, ReLU(), shared)
    assert net.num_parameters() == 4 * 4 + 4 and list(net.params) == ["0.W", "0.b"]


def test_layer_list_registers_and_reassignment_unregisters():
    class Stack(Layer):
        def __init__(self):
            super().__init__()
            self.blocks = LayerList(Linear(2, 2, rng=i) for i in range(3))
            self.extra = Linear(2, 1, rng=9)

    stack = Stack()
    assert [n for n, _ in stack.named_parameters()][:2] == ["blocks.0.W", "blocks.0.b"]
    assert len(stack.blocks) == 3 and stack.num_parameters() == 3 * 6 + 3
    stack.extra = None  # no longer a sublayer
    assert stack.num_parameters() == 3 * 6
    with pytest.raises(TypeError, match="expected layers"):
        LayerList([Linear(2, 2), "relu"])


def test_assigning_a_sublayer_before_init_is_explained():
    class Forgot(Layer):
        def __init__(self):
            self.fc = Linear(2, 2)

    with pytest.raises(RuntimeError, match=r"call super\(\).__init__\(\) before"):
        Forgot()


def test_dropout_at_p_zero_draws_nothing():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    drop = Dropout(0.0, rng=rng)
    x = np.ones((3, 4))
    assert drop(x) is not None and np.array_equal(drop.backward(x), x)
    assert rng.bit_generator.state == state
