"""The training loop: learns, records a history, respects seeds, modes and arguments."""

import numpy as np
import pytest

from dlbook.data import make_spirals
from dlbook.layers import CrossEntropyLoss, Dropout, Linear, ReLU, Sequential
from dlbook.optim import SGD, StepLR
from dlbook.train import (History, Minibatches, evaluate, evaluate_on, fit, supervised_step,
                          train_epoch)


def data():
    X, y = make_spirals(60, n_classes=3, noise=0.1, rng=0)
    return X.astype(np.float64), y


def model(seed=0):
    return Sequential(Linear(2, 32, rng=seed, dtype=np.float64), ReLU(), Dropout(0.1, rng=seed),
                      Linear(32, 3, rng=seed + 1, dtype=np.float64))


def test_fit_learns_and_records_history():
    X, y = data()
    net, loss_fn = model(), CrossEntropyLoss()
    opt = SGD(net.parameters(), lr=0.5, momentum=0.9)
    before, _ = evaluate(net, loss_fn, X, y)
    h = fit(net, Minibatches(X, y, 32, rng=0), opt, epochs=30, loss_fn=loss_fn,
            metrics=[evaluate_on(loss_fn, train=(X, y), val=(X[:30], y[:30]))])
    assert isinstance(h, History) and len(h.train_loss) == len(h.val_acc) == 30
    assert len(h.loss) == len(h.grad_norm) == 30 * 6  # 180 examples in batches of 32
    assert h.train_loss[-1] < 0.5 * before
    assert h.train_acc[-1] > 0.8
    assert set(h.as_dict()) == {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "loss",
                                "grad_norm", "epoch_loss"}
    assert net.training  # fit leaves the model in training mode


def test_fit_is_deterministic_under_a_seed():
    X, y = data()
    runs = []
    for _ in range(2):
        net = model()
        h = fit(net, Minibatches(X, y, rng=5), SGD(net.parameters(), lr=0.1), epochs=3,
                loss_fn=CrossEntropyLoss())
        runs.append(h.loss)
    assert runs[0] == runs[1]


def test_scheduler_and_clipping_are_applied():
    X, y = data()
    net = model()
    opt = SGD(net.parameters(), lr=0.4)
    h = fit(net, Minibatches(X, y, rng=0), opt, epochs=4, loss_fn=CrossEntropyLoss(),
            scheduler=StepLR(opt, step_size=2, gamma=0.5), clip_norm=1e-3)
    assert h.lr == [0.4, 0.4, 0.2, 0.2]
    assert h.epoch_loss[-1] == pytest.approx(h.epoch_loss[0], rel=0.05)  # tiny clipped steps
    assert max(h.grad_norm) > 1e-3  # recorded before clipping


def test_max_steps_stops_mid_epoch_and_a_custom_step_is_used():
    X, y = data()
    net, calls = model(), []
    loss_fn = CrossEntropyLoss()

    def step(model, batch):
        calls.append(len(batch[0]))
        return supervised_step(loss_fn)(model, batch)

    h = fit(net, Minibatches(X, y, 50, rng=0), SGD(net.parameters(), lr=0.1), epochs=None,
            step=step, max_steps=6)
    assert calls == [50, 50, 50, 30, 50, 50] and len(h.loss) == 6 and len(h.epoch_loss) == 2


def test_train_epoch_returns_the_size_weighted_mean_loss():
    X, y = data()
    net, loss_fn = model(), CrossEntropyLoss()
    opt = SGD(net.parameters(), lr=0.1)
    twin = model()
    mean = train_epoch(net, loss_fn, opt, X, y, 50, np.random.default_rng(3))
    h = fit(twin, Minibatches(X, y, 50, rng=3), SGD(twin.parameters(), lr=0.1), loss_fn=loss_fn)
    assert mean == h.epoch_loss[0] == pytest.approx(np.dot(h.loss, [50, 50, 50, 30]) / 180)


def test_evaluate_uses_eval_mode_and_restores_it():
    X, y = data()
    net = model()
    loss_a, acc_a = evaluate(net, CrossEntropyLoss(), X, y)
    loss_b, acc_b = evaluate(net, CrossEntropyLoss(), X, y, batch_size=7)
    assert loss_a == pytest.approx(loss_b) and acc_a == acc_b  # no dropout noise, batch-independent
    assert net.training


def _fit_quietly_or_not(progress, **kwargs):
    X, y = data()
    net = model()
    return fit(net, Minibatches(X, y, rng=0), SGD(net.parameters(), lr=0.1),
               loss_fn=CrossEntropyLoss(), progress=progress, **kwargs)


def test_progress_bar_counts_epochs_and_shows_the_last_epoch_loss(capsys):
    quiet = _fit_quietly_or_not(False, epochs=2)
    assert capsys.readouterr().err == ""  # no bar unless asked
    h = _fit_quietly_or_not(True, epochs=2)
    err = capsys.readouterr().err
    assert "epochs: 100%" in err and "2/2" in err
    assert f"loss={h.epoch_loss[-1]:.4f}" in err  # the postfix is the History's last epoch loss
    assert h.loss == quiet.loss and h.epoch_loss == quiet.epoch_loss  # the bar changes nothing


def test_progress_bar_counts_updates_under_max_steps(capsys):
    h = _fit_quietly_or_not(True, epochs=None, max_steps=6)
    err = capsys.readouterr().err
    assert "updates: 100%" in err and "6/6" in err and len(h.loss) == 6


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": 0}, ValueError, "epochs >= 1"),
    ({"epochs": 1.5}, TypeError, "epochs to be an int"),
    ({"epochs": None}, ValueError, "epochs or max_steps"),
    ({"loss_fn": None}, ValueError, "loss_fn or a step"),
])
def test_bad_arguments(kwargs, error, match):
    X, y = data()
    net = model()
    args = {"epochs": 1, "loss_fn": CrossEntropyLoss(), **kwargs}
    with pytest.raises(error, match=match):
        fit(net, Minibatches(X, y), SGD(net.parameters(), lr=0.1), **args)
    with pytest.raises(ValueError, match="same length; got 180 and 179"):
        Minibatches(X, y[:-1])


def test_plot_history():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from dlbook.plot import plot_history
    h = History(train_loss=[3.0, 2.0], val_loss=[3.5, 2.5], train_acc=[0.1, 0.2])
    ax = plot_history(h, label="run")
    assert [l.get_label() for l in ax.lines] == ["run train", "run validation"]
    assert len(plot_history(h, "acc").lines) == 1
    plt.close("all")
