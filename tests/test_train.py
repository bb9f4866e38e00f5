"""The training loop: learns, records a history, respects seeds, modes and arguments."""

import numpy as np
import pytest

from dlbook.data import make_spirals
from dlbook.layers import CrossEntropyLoss, Dropout, Linear, ReLU, Sequential
from dlbook.optim import SGD, StepLR
from dlbook.train import History, evaluate, fit


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
    h = fit(net, loss_fn, opt, X, y, epochs=30, batch_size=32, X_val=X[:30], y_val=y[:30],
            rng=0, progress=False)
    assert isinstance(h, History) and len(h.train_loss) == len(h.val_acc) == 30
    assert h.train_loss[-1] < 0.5 * before
    assert h.train_acc[-1] > 0.8
    assert set(h.as_dict()) == {"train_loss", "train_acc", "val_loss", "val_acc", "lr"}
    assert net.training  # fit leaves the model in training mode


def test_fit_is_deterministic_under_a_seed():
    X, y = data()
    runs = []
    for _ in range(2):
        net = model()
        h = fit(net, CrossEntropyLoss(), SGD(net.parameters(), lr=0.1), X, y, epochs=3, rng=5, progress=False)
        runs.append(h.train_loss)
    assert runs[0] == runs[1]


def test_scheduler_and_clipping_are_applied():
    X, y = data()
    net = model()
    opt = SGD(net.parameters(), lr=0.4)
    h = fit(net, CrossEntropyLoss(), opt, X, y, epochs=4, scheduler=StepLR(opt, step_size=2, gamma=0.5),
            clip_norm=1e-3, rng=0, progress=False)
    assert h.lr == [0.4, 0.4, 0.2, 0.2]
    assert h.train_loss[-1] == pytest.approx(h.train_loss[0], rel=0.05)  # tiny clipped steps


def test_evaluate_uses_eval_mode_and_restores_it():
    X, y = data()
    net = model()
    loss_a, acc_a = evaluate(net, CrossEntropyLoss(), X, y)
    loss_b, acc_b = evaluate(net, CrossEntropyLoss(), X, y, batch_size=7)
    assert loss_a == pytest.approx(loss_b) and acc_a == acc_b  # no dropout noise, batch-independent
    assert net.training


def test_progress_bar_runs():
    X, y = data()
    net = model()
    fit(net, CrossEntropyLoss(), SGD(net.parameters(), lr=0.1), X, y, epochs=1, rng=0, progress=True)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": 0}, ValueError, "epochs >= 1"),
    ({"batch_size": 1.5}, TypeError, "batch_size to be an int"),
    ({"X_val": np.zeros((2, 2))}, ValueError, "both X_val and y_val"),
])
def test_bad_arguments(kwargs, error, match):
    X, y = data()
    net = model()
    args = {"epochs": 1, "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        fit(net, CrossEntropyLoss(), SGD(net.parameters(), lr=0.1), X, y, **args)
    with pytest.raises(ValueError, match="same length; got 180 and 179"):
        fit(net, CrossEntropyLoss(), SGD(net.parameters(), lr=0.1), X, y[:-1], epochs=1)


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
