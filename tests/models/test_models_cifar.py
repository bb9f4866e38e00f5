"""The CIFAR-10 network (chapter 10): numpy vs PyTorch twin, BatchNorm2d, and a tiny training run.

The parity tests build the torch twin with dlbook.twins.to_torch and compare, in
float64, the logits, dL/dx and every parameter gradient for a batch of two
random images, on every available device. The training test writes a
real-format ``cifar-10-binary.tar.gz`` with a few records per file (as
tests/data/test_data_cifar.py does) and trains for one epoch, fully offline.
"""

import hashlib
import io
import tarfile

import numpy as np
import pytest

from dlbook.data.cifar import CIFAR10_ARCHIVE, SPLIT_MEMBERS
from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer
from dlbook.layers import Linear, ReLU, Sequential
from dlbook.layers import BatchNorm2d
from dlbook.models.cifar import cifar_net, resnet_cifar
from dlbook.torch_models.cifar import train_cifar_torch

torch = pytest.importorskip("torch")
from dlbook.twins import as_tensor, copy_weights, to_numpy, to_torch  # noqa: E402

TOL = 1e-9
WIDTH, HIDDEN = 4, 16  # a narrow net keeps the tests fast; the layout is the full one


def twins(batch_norm, device, seed=0):
    ours = cifar_net(rng=seed, dtype=np.float64, width=WIDTH, hidden=HIDDEN, batch_norm=batch_norm)
    theirs = to_torch(ours, device=device)  # float64, like ours
    return ours, theirs


def forward_backward(ours, theirs, x, device, seed=1):
    """Both models on x with the same random dout: max |diff| of logits, dx and parameter grads."""
    y = ours(x)
    dout = np.random.default_rng(seed).normal(size=y.shape)
    ours.zero_grad()
    dx = ours.backward(dout)
    xt = as_tensor(x, device, requires_grad=True)
    yt = theirs(xt)
    theirs.zero_grad()
    yt.backward(as_tensor(dout, device))
    diffs = {"y": np.abs(y - to_numpy(yt)).max()}
    if dx is not None:
        diffs["dx"] = np.abs(dx - to_numpy(xt.grad)).max()
    ours_grads = list(ours.grads.items())
    theirs_grads = [p.grad for p in theirs.parameters()]
    assert len(ours_grads) == len(theirs_grads)
    for (name, g), gt in zip(ours_grads, theirs_grads):
        gt = to_numpy(gt)
        diffs[name] = np.abs((g.T if g.ndim == 2 else g) - gt).max()  # Linear stores W.T
    return diffs


@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batchnorm"])
def test_numpy_and_torch_twins_agree_forward_and_backward(device, batch_norm):
    ours, theirs = twins(batch_norm, device)
    ours[0].input_grad = True  # also compare dL/dx of the first convolution
    x = np.random.default_rng(2).normal(size=(2, 3, 32, 32))
    diffs = forward_backward(ours, theirs, x, device)
    assert max(diffs.values()) < TOL, diffs
    assert len(diffs) == 2 + (20 if batch_norm else 12)  # y, dx and every parameter


def test_batchnorm_running_statistics_and_eval_mode_agree(device):
    ours, theirs = twins(True, device)
    rng = np.random.default_rng(3)
    for _ in range(2):  # two training steps move the running statistics
        forward_backward(ours, theirs, rng.normal(size=(2, 3, 32, 32)), device)
    bn_ours = [layer for layer in ours if isinstance(layer, BatchNorm2d)]
    bn_theirs = [m for m in theirs if isinstance(m, torch.nn.BatchNorm2d)]
    for a, b in zip(bn_ours, bn_theirs):
        np.testing.assert_allclose(a.running_mean, to_numpy(b.running_mean), rtol=0, atol=TOL)
        np.testing.assert_allclose(a.running_var, to_numpy(b.running_var), rtol=0, atol=TOL)
    ours.eval()
    theirs.eval()
    diffs = forward_backward(ours, theirs, rng.normal(size=(2, 3, 32, 32)), device)
    assert max(diffs.values()) < TOL, diffs


def test_default_architecture_and_parameter_count():
    net = cifar_net(rng=0)
    names = [type(layer).__name__ for layer in net]
    assert names.count("Conv2d") == 4 and names.count("MaxPool2d") == 2
    assert names.count("BatchNorm2d") == 4 and names[-1] == "Linear"
    assert net(np.zeros((1, 3, 32, 32), np.float32)).shape == (1, 10)
    count = sum(p.size for p in net.params.values())
    twin = to_torch(net, device="cpu")
    assert count == sum(p.numel() for p in twin.parameters()) == 1_117_354
    assert [type(m).__name__ for m in twin] == names
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert net[0].input_grad is False and net[3].input_grad is True


def test_batchnorm2d_gradients_match_central_differences():
    layer = BatchNorm2d(3, dtype=np.float64)
    layer.params["gamma"][...] = [0.5, 1.5, -1.0]
    x = np.random.default_rng(4).normal(size=(2, 3, 4, 5))
    errors = check_layer(layer, x)
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < GRADCHECK_TOL, errors
    y = layer(x)  # every channel standardised over N, H, W
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)


def test_batchnorm2d_and_builders_reject_bad_input():
    with pytest.raises(ValueError, match=r"BatchNorm2d.forward expected x of shape \(N, 3, H, W\)"):
        BatchNorm2d(3)(np.zeros((2, 4, 5, 5)))
    with pytest.raises(ValueError, match="cifar_net expected width to be a positive int; got 0"):
        cifar_net(rng=0, width=0)
    with pytest.raises(TypeError, match="cifar_net: expected rng"):
        cifar_net(rng="seed")


def test_copy_weights_checks_layers_and_shapes():
    ours = cifar_net(rng=0, width=WIDTH, hidden=HIDDEN, batch_norm=False)
    with pytest.raises(ValueError, match="is not the twin of Sequential"):
        copy_weights(ours, to_torch(cifar_net(rng=0, width=WIDTH, hidden=HIDDEN), device="cpu"))
    wider = cifar_net(rng=0, width=WIDTH + 1, hidden=HIDDEN, batch_norm=False)
    with pytest.raises(ValueError, match=r"Sequential expected 0.weight of shape \(4, 3, 3, 3\)"):
        copy_weights(ours, to_torch(wider, device="cpu"))
    mlp = Sequential(Linear(3, 4, rng=0, dtype=np.float64, bias=False), ReLU())
    with pytest.raises(ValueError, match=r"tensors that Sequential lacks: \['0.bias'\]"):
        copy_weights(mlp, torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU()))


# ---- training on a learnable fixture archive --------------------------------------------

RECORDS = 60  # per batch file: 300 training images, 60 test images


def fixture_archive() -> bytes:
    """A real-layout cifar-10-binary.tar.gz (label byte + R, G, B planes per record) whose
    class c is a bright 8x8 square at a position that depends on c, over random noise."""
    rng = np.random.default_rng(5)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in SPLIT_MEMBERS["train"] + SPLIT_MEMBERS["test"]:
            labels = rng.integers(0, 10, size=RECORDS).astype(np.uint8)
            images = rng.integers(0, 100, size=(RECORDS, 3, 32, 32))
            for image, c in zip(images, labels):
                row, col = 4 + 12 * (c // 4), 2 + 8 * (c % 4)  # a 3 x 4 grid of positions
                image[c % 3, row:row + 8, col:col + 6] += 150  # and a class-dependent colour
            data = np.concatenate([labels[:, None], images.reshape(RECORDS, -1)], axis=1)
            data = data.astype(np.uint8).tobytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_train_cifar_torch_learns_a_fixture_offline(tmp_path, capsys):
    data = fixture_archive()
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / CIFAR10_ARCHIVE).write_bytes(data)
    options = {"checksums": {CIFAR10_ARCHIVE: hashlib.sha256(data).hexdigest()},
               "records_per_file": None, "progress": False}
    # without augmentation (crops would move the class-coding squares), two epochs suffice
    history = train_cifar_torch(epochs=2, batch_size=32, lr=3e-3, device="cpu", root=tmp_path,
                                download=False, augment=False, width=WIDTH, loader_options=options)
    assert set(history) == {"train_loss", "train_acc", "test_acc"}
    assert all(len(v) == 2 for v in history.values())
    assert history["train_loss"][1] < history["train_loss"][0]
    assert history["test_acc"][1] > 0.5  # chance is 0.1: labels, pixels and model line up
    assert "epoch  2/2: train loss" in capsys.readouterr().out
    augmented = train_cifar_torch(epochs=1, batch_size=64, device="cpu", root=tmp_path,
                                  download=False, width=WIDTH, verbose=False,
                                  loader_options=options)  # crops and flips (the default)
    assert np.isfinite(augmented["train_loss"][0]) and capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="epochs to be a positive int; got 0"):
        train_cifar_torch(epochs=0, root=tmp_path, download=False, loader_options=options)
    resnet_run = train_cifar_torch(epochs=1, batch_size=32, lr=3e-3, device="cpu", root=tmp_path,
                                   download=False, augment=False, verbose=False, arch="resnet20",
                                   loader_options=options)
    assert len(resnet_run["test_acc"]) == 1 and np.isfinite(resnet_run["train_loss"][0])
    with pytest.raises(ValueError, match=r"arch in \('vgg', 'resnet20'\); got 'resnet50'"):
        train_cifar_torch(epochs=1, root=tmp_path, download=False, loader_options=options,
                          arch="resnet50")


def test_resnet20_for_cifar_layout_parameters_and_twin(device):
    from dlbook.layers.residual import ResidualBlock

    net = resnet_cifar(3, rng=0)
    blocks = [layer for layer in net if isinstance(layer, ResidualBlock)]
    assert len(blocks) == 9 and sum(b.shortcut is not None for b in blocks) == 2
    assert net(np.zeros((2, 3, 32, 32), np.float32)).shape == (2, 10)
    count = net.num_parameters()
    assert count == sum(p.numel() for p in to_torch(net, device="cpu").parameters())
    assert 260_000 < count < 280_000  # ResNet-20: 0.27 M parameters (He et al., 2016)
    small = resnet_cifar(1, rng=0, dtype=np.float64, width=2)  # 8 layers, narrow: a quick parity
    theirs = to_torch(small, device=device)
    diffs = forward_backward(small, theirs, np.random.default_rng(6).normal(size=(2, 3, 32, 32)),
                             device)
    assert max(diffs.values()) < TOL, diffs
    with pytest.raises(ValueError, match="resnet_cifar expected width to be a positive int"):
        resnet_cifar(width=0)
