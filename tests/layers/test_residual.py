"""The residual block and the ResNet / plain networks of chapter 10: gradients, PyTorch, shapes."""

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer
from dlbook.layers import AvgPool2d, BatchNorm2d, Conv2d, CrossEntropyLoss, Linear
from dlbook.layers.residual import ResidualBlock
from dlbook.models.resnet import depth_of, resnet

F64 = np.float64
BLOCKS = {  # (in, out, stride, residual): identity, projection (channels), projection (stride), plain
    "identity": (3, 3, 1, True),
    "projection-channels": (2, 4, 1, True),
    "projection-stride": (3, 4, 2, True),
    "plain": (3, 4, 2, False),
}


def block(kind, seed=0):
    C_in, C_out, stride, residual = BLOCKS[kind]
    b = ResidualBlock(C_in, C_out, stride, residual=residual, rng=seed, dtype=F64)
    rng = np.random.default_rng(seed + 10)
    for key, p in b.named_parameters():  # gamma, beta away from 1 and 0: every term matters
        if "bn" in key or key.startswith("shortcut.1"):
            p[...] = 1.0 + 0.3 * rng.normal(size=p.shape) if key.endswith("gamma") \
                else 0.3 * rng.normal(size=p.shape)
    return b


@pytest.mark.parametrize("kind", list(BLOCKS))
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_gradients_match_numerical_gradients(kind, training):
    b = block(kind)
    if not training:  # running statistics away from (0, 1), so eval mode is a real test
        b(np.random.default_rng(5).normal(1.0, 2.0, size=(4, BLOCKS[kind][0], 5, 6)))
        b.eval()
    x = np.random.default_rng(1).normal(size=(3, BLOCKS[kind][0], 5, 6))
    errors = check_layer(b, x, rng=2)
    assert set(errors) == {"x", *b.params}
    bad = {k: f"{e:.1e}" for k, e in errors.items() if not e < GRADCHECK_TOL}
    assert not bad, bad


def test_structure_shapes_and_the_two_paths_of_the_sum():
    identity, projection, plain = block("identity"), block("projection-stride"), block("plain")
    assert identity.shortcut is None and plain.shortcut is None
    assert isinstance(projection.shortcut[0], Conv2d) and projection.shortcut[0].stride == (2, 2)
    assert projection.shortcut[0].kernel_size == (1, 1) and "b" not in projection.shortcut[0].params
    assert isinstance(projection.shortcut[1], BatchNorm2d)
    assert projection(np.zeros((2, 3, 5, 6))).shape == (2, 4, 3, 3)  # ceil(5/2), ceil(6/2)
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 4))
    y = identity(x)
    s = identity.branch(x) + x  # what the ReLU sees
    np.testing.assert_allclose(y, np.maximum(s, 0), rtol=1e-12)
    dout = np.random.default_rng(1).normal(size=y.shape)
    before = dout.copy()
    identity.zero_grad()
    identity(x)
    dx = identity.backward(dout)
    np.testing.assert_array_equal(dout, before)  # dout is never modified
    ds = dout * (s > 0)
    identity.zero_grad()
    identity.branch(x)  # the branch alone, then its backward: dx = dF^T ds + ds
    branch_dx = identity.conv1.backward(identity.bn1.backward(identity.relu1.backward(
        identity.conv2.backward(identity.bn2.backward(ds)))))
    np.testing.assert_allclose(dx, branch_dx + ds, rtol=1e-10, atol=1e-12)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"ResidualBlock.forward expected x of shape \(N, 3, H, W\)"):
        block("identity")(np.zeros((2, 4, 5, 5)))
    with pytest.raises(ValueError, match="ResidualBlock.forward expected x of shape"):
        block("identity")(np.zeros((3, 5, 5)))
    with pytest.raises(TypeError, match="ResidualBlock expected residual to be a bool; got str"):
        ResidualBlock(2, 2, residual="yes")
    with pytest.raises(ValueError, match="ResidualBlock expected stride >= 1"):
        ResidualBlock(2, 2, stride=0)
    with pytest.raises(RuntimeError, match="ResidualBlock.backward called before forward"):
        block("plain").backward(np.zeros((1, 4, 2, 2)))
    with pytest.raises(ValueError, match="resnet expected num_blocks to be a positive int; got 0"):
        resnet(0)
    with pytest.raises(ValueError, match="resnet expected widths to be a non-empty tuple"):
        resnet(1, widths=())
    with pytest.raises(ValueError, match=r"resnet expected input_size >= 4 for 3 stages"):
        resnet(1, input_size=3)


def test_resnet_layout_depth_and_the_plain_twin():
    assert [depth_of(n) for n in (1, 3, 5, 9)] == [8, 20, 32, 56]
    assert depth_of(2, stages=2) == 10
    for residual in (True, False):
        net = resnet(3, (4, 8, 16), in_channels=1, num_classes=10, input_size=8,
                     residual=residual, rng=0)
        blocks = [layer for layer in net if isinstance(layer, ResidualBlock)]
        assert len(blocks) == 9 and all(b.residual == residual for b in blocks)
        convs = [m for m in net.modules() if isinstance(m, Conv2d)]
        main = [c for c in convs if c.kernel_size == (3, 3)]
        assert len(main) + 1 == depth_of(3)  # + the Linear
        assert len(convs) - len(main) == (2 if residual else 0)  # two projection shortcuts
        assert [b.stride for b in blocks] == [1, 1, 1, 2, 1, 1, 2, 1, 1]
        assert isinstance(net[-3], AvgPool2d) and net[-3].kernel_size == (2, 2)  # 8 -> 4 -> 2
        assert isinstance(net[-1], Linear) and net[0].input_grad is False
        assert net(np.zeros((2, 1, 8, 8), dtype=np.float32)).shape == (2, 10)
    assert resnet(1, input_size=32, rng=0)[-3].kernel_size == (8, 8)  # CIFAR: 32 -> 16 -> 8
    a, b = resnet(1, (4, 8, 16), in_channels=1, input_size=8, rng=3), \
        resnet(1, (4, 8, 16), in_channels=1, input_size=8, residual=False, rng=3)
    shared = dict(b.named_parameters())  # the plain net lacks only the shortcuts
    assert set(shared) < set(dict(a.named_parameters()))
    for name, p in a.named_parameters():
        if name in shared:
            np.testing.assert_array_equal(p, shared[name], err_msg=name)  # same seed, same weights


def test_a_small_resnet_learns_with_fit():
    from dlbook.optim import SGD
    from dlbook.train import Minibatches, evaluate, fit

    rng = np.random.default_rng(0)
    y = np.arange(160) % 2
    X = rng.normal(size=(160, 1, 4, 4)).astype(np.float32) * 0.5
    X[y == 1, :, :2] += 1.0  # class 1: a bright top half
    net = resnet(1, (4, 8), in_channels=1, num_classes=2, input_size=4, rng=0)
    fit(net, Minibatches(X[:128], y[:128], 32, rng=0), SGD(list(net.parameters()), lr=0.05,
        momentum=0.9), epochs=5, loss_fn=CrossEntropyLoss())
    assert evaluate(net, CrossEntropyLoss(), X[128:], y[128:])[1] > 0.9


torch = pytest.importorskip("torch")
from dlbook.twins import as_tensor, to_numpy, to_torch, torch_grads
from parity import torch_forward_backward  # noqa: E402


@pytest.mark.parametrize("kind", list(BLOCKS))
def test_block_matches_its_pytorch_twin(kind, device):
    b = block(kind)
    twin = to_torch(b, device=device)
    assert (twin.shortcut is None) == (b.shortcut is None)
    x = np.random.default_rng(3).normal(size=(2, BLOCKS[kind][0], 6, 5))
    y = b(x)
    dout = np.random.default_rng(4).normal(size=y.shape)
    b.zero_grad()
    dx = b.backward(dout)
    yt, dxt = torch_forward_backward(twin, x, dout, device)
    np.testing.assert_allclose(y, to_numpy(yt), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, to_numpy(dxt), rtol=1e-10, atol=1e-10)
    grads = torch_grads(b, twin)
    assert set(grads) == set(b.grads)
    for name, g in grads.items():
        np.testing.assert_allclose(b.grads[name], g, rtol=1e-10, atol=1e-10, err_msg=name)
    for layer, module in ((b.bn2, twin.bn2), (b.bn1, twin.bn1)):  # running statistics moved alike
        np.testing.assert_allclose(layer.running_var, to_numpy(module.running_var), rtol=1e-12)


@pytest.mark.parametrize("residual", [True, False], ids=["residual", "plain"])
def test_whole_network_matches_its_pytorch_twin_in_both_modes(residual, device):
    net = resnet(2, (3, 4, 5), in_channels=1, num_classes=4, input_size=8, residual=residual,
                 rng=0, dtype=F64)
    twin = to_torch(net, device=device)
    x = np.random.default_rng(5).normal(size=(3, 1, 8, 8))
    labels = np.array([0, 3, 1])
    loss_fn = CrossEntropyLoss()
    loss = loss_fn(net(x), labels)
    net.zero_grad()
    net.backward(loss_fn.backward())
    loss_t = torch.nn.functional.cross_entropy(twin(as_tensor(x, device)),
                                               torch.as_tensor(labels, device=device))
    loss_t.backward()
    assert abs(loss - loss_t.item()) < 1e-10
    for name, g in torch_grads(net, twin).items():
        np.testing.assert_allclose(net.grads[name], g, rtol=1e-9, atol=1e-11, err_msg=name)
    net.eval()
    twin.eval()
    with torch.no_grad():
        np.testing.assert_allclose(net(x), to_numpy(twin(as_tensor(x, device))), rtol=1e-10,
                                   atol=1e-10)
