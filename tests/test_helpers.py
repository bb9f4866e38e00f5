"""show_source, seeding, devices, the array helpers of dlbook.twins and the plotting helpers."""

import subprocess
import sys

import numpy as np
import pytest

import dlbook
import dlbook.functional as F
from dlbook import utils


def test_import_is_light_and_silent():
    code = ("import sys, dlbook; "
            "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules; "
            "assert 'sklearn' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""


def test_show_source_returns_real_source_with_location():
    src = dlbook.show_source(F.softmax)
    assert src.qualname == "dlbook.functional.activations.softmax"
    assert src.location == "dlbook/functional/activations.py"  # no line numbers
    assert src.text.startswith("def softmax(")
    md = src._repr_markdown_()
    assert "```python\ndef softmax(" in md and md.rstrip().endswith("```")
    assert repr(src).splitlines()[1] == src.text.splitlines()[0]


def test_show_source_of_methods_is_dedented_and_of_modules_works():
    from dlbook.models.mlp import MLP
    assert dlbook.show_source(MLP.forward).text.startswith("def forward(")
    mod = dlbook.show_source(dlbook.diagnostics.numgrad)
    assert mod.qualname == "dlbook.diagnostics.numgrad" and mod.location == "dlbook/diagnostics/numgrad.py"


def test_show_source_rejects_objects_without_source():
    with pytest.raises(TypeError, match="with Python source; got int"):
        dlbook.show_source(3)


def test_make_rng_and_seed_everything():
    assert utils.make_rng(5).integers(100) == np.random.default_rng(5).integers(100)
    g = np.random.default_rng(0)
    assert utils.make_rng(g) is g
    with pytest.raises(TypeError, match="int seed or None, got str"):
        utils.make_rng("0")
    rng = utils.seed_everything(7)
    a = np.random.rand()
    utils.seed_everything(7)
    assert np.random.rand() == a and isinstance(rng, np.random.Generator)


def test_seed_everything_seeds_torch_when_imported():
    torch = pytest.importorskip("torch")
    utils.seed_everything(3)
    a = torch.rand(2)
    utils.seed_everything(3)
    assert torch.equal(a, torch.rand(2))


def test_devices():
    torch = pytest.importorskip("torch")
    from dlbook import twins
    devs = twins.available_devices()
    assert devs[0] == "cpu"
    assert ("cuda" in devs) == torch.cuda.is_available()
    assert twins.default_device().type in devs


def test_twins_tensors_round_trip(device):
    from dlbook import twins
    x = np.arange(6.0).reshape(2, 3)
    t = twins.as_tensor(x, device)
    assert str(t.device).startswith(device)
    np.testing.assert_array_equal(twins.to_numpy(t), x)
    y, (dx,) = twins.value_and_grad(lambda a: (a ** 2).sum(dim=1), [x], device)
    np.testing.assert_allclose(y, (x ** 2).sum(axis=1))
    np.testing.assert_allclose(dx, 2 * x)


def test_plot_helpers_draw_and_return_axes(plt):
    from dlbook import plot
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    ax = plot.plot_decision_boundary(lambda g: (g[:, 1] > 0.5).astype(int), X, y)
    assert len(ax.collections) >= 3 and ax.get_legend() is not None
    _, ax2 = plt.subplots()
    assert plot.scatter_classes(X, y, ax=ax2) is ax2
    ax3 = plot.plot_function({"sigmoid": F.sigmoid, "relu": F.relu})
    assert len(ax3.lines) == 2 + 2  # two curves plus the two axis lines
    ax4 = plot.plot_curves({"train": [3, 2, 1], "val": [3, 2.5, 2]}, logy=True)
    assert ax4.get_yscale() == "log" and len(ax4.lines) == 2
    fig = plot.plot_images(np.random.default_rng(0).random((12, 16)), labels=list(range(12)), ncols=5)
    assert len(fig.axes) == 15 and fig.axes[0].get_title() == "0"


def test_plot_bad_shapes(plt):
    from dlbook import plot
    with pytest.raises(ValueError, match=r"X of shape \(N, 2\); got shape \(3, 3\)"):
        plot.scatter_classes(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"square \(N, H\*W\); got \(2, 15\)"):
        plot.plot_images(np.zeros((2, 15)))


def test_show_source_links_to_the_documented_api_entry():
    from dlbook.layers import Linear
    from dlbook.layers.base import Layer
    from dlbook.book.source import api_target

    md = dlbook.show_source(Linear.forward)._repr_markdown_()
    assert "[API reference](#dlbook.layers.linear.Linear.forward)" in md
    assert api_target(F.softmax) == "dlbook.functional.activations.softmax"
    assert api_target(dlbook.diagnostics.numgrad) == "dlbook.diagnostics.numgrad"
    assert api_target(Linear._cached) == "dlbook.layers.base.Layer._cached".rsplit(".", 1)[0]  # private: its class
    assert api_target(Layer) == "dlbook.layers.base.Layer"
