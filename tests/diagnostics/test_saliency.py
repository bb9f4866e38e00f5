"""Tests of dlbook.diagnostics.saliency (chapter 11): gradients checked numerically and against torch."""

import numpy as np
import pytest

from dlbook.diagnostics import saliency as S
from dlbook.layers import AvgPool2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential
from dlbook.layers.conv import Conv2d
from dlbook.diagnostics.numgrad import numerical_gradient

F64 = np.float64
TOL = 1e-7  # norm-based relative error of a float64 central difference


def rel_err(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


def tiny_cnn(seed=0, dropout=False):
    """(N, 2, 8, 8) -> conv3x3 (3) -> relu -> pool -> conv3x3 (4) -> relu -> flatten -> 5 logits."""
    rng = np.random.default_rng(seed)
    layers = [Conv2d(2, 3, 3, padding=1, rng=rng, dtype=F64, input_grad=False), ReLU(),
              MaxPool2d(2), Conv2d(3, 4, 3, padding=1, rng=rng, dtype=F64), ReLU(), Flatten(),
              Linear(64, 5, rng=rng, dtype=F64)]
    for layer in layers:  # non-zero biases, so no unit sits exactly at a ReLU kink
        if "b" in layer.params:
            layer.params["b"][...] = 0.1 * rng.standard_normal(layer.params["b"].shape)
    if dropout:
        layers.insert(5, Dropout(0.5, rng=1))
    return Sequential(*layers)


def gap_cnn(seed=0):
    """conv -> relu -> global average pooling -> flatten -> linear: the CAM architecture."""
    rng = np.random.default_rng(seed)
    net = Sequential(Conv2d(2, 4, 3, padding=1, rng=rng, dtype=F64), ReLU(), AvgPool2d(6),
                     Flatten(), Linear(4, 3, rng=rng, dtype=F64))
    net[0].params["b"][...] = 0.1
    net[4].params["b"][...] = rng.standard_normal(3)
    return net


@pytest.fixture
def x():
    return np.random.default_rng(3).standard_normal((3, 2, 8, 8))


def test_feature_maps_lists_every_layer_with_its_output(x):
    net = tiny_cnn()
    maps = S.feature_maps(net, x)
    assert [name for name, _ in maps] == ["0 Conv2d", "1 ReLU", "2 MaxPool2d", "3 Conv2d",
                                          "4 ReLU", "5 Flatten", "6 Linear"]
    assert [a.shape for _, a in maps] == [(3, 3, 8, 8), (3, 3, 8, 8), (3, 3, 4, 4),
                                          (3, 4, 4, 4), (3, 4, 4, 4), (3, 64), (3, 5)]
    np.testing.assert_allclose(maps[-1][1], net.forward(x))
    np.testing.assert_array_equal(maps[1][1], np.maximum(maps[0][1], 0))


def test_feature_maps_runs_in_eval_mode_and_restores_training():
    net = tiny_cnn(dropout=True)
    x = np.ones((2, 2, 8, 8))
    a, b = S.feature_maps(net, x)[-1][1], S.feature_maps(net, x)[-1][1]
    np.testing.assert_array_equal(a, b)  # no dropout noise
    assert net.training and all(layer.training for layer in net)


@pytest.mark.parametrize("target", [0, 4, [1, 2, 3]])
def test_input_gradient_equals_numerical_gradient_of_the_class_score(x, target):
    net = tiny_cnn()
    grad = S.input_gradient(net, x, target)
    classes = np.broadcast_to(target, (3,))
    for n in range(len(x)):
        xn = x[n:n + 1].copy()
        num = numerical_gradient(lambda z: float(net.forward(z)[0, classes[n]]), xn)
        assert rel_err(grad[n:n + 1], num) < TOL


def test_saliency_map_is_max_over_channels_of_the_absolute_gradient(x):
    net = tiny_cnn()
    grad = S.input_gradient(net, x, 2)
    sal = S.saliency_map(net, x, 2)
    assert sal.shape == (3, 8, 8)
    np.testing.assert_array_equal(sal, np.abs(grad).max(axis=1))


def test_target_none_means_the_predicted_class(x):
    net = tiny_cnn()
    pred = net.forward(x).argmax(axis=1)
    np.testing.assert_array_equal(S.input_gradient(net, x), S.input_gradient(net, x, pred))
    np.testing.assert_array_equal(S.grad_cam(net, x, layer=4), S.grad_cam(net, x, pred, layer=4))


def test_a_gradient_pass_leaves_the_model_as_it_was(x):
    net = tiny_cnn(dropout=True)
    for g in net.grads.values():
        g[...] = 7.0
    arrays = {k: g for k, g in net.grads.items()}
    a = S.saliency_map(net, x, 1)
    b = S.saliency_map(net, x, 1)
    np.testing.assert_array_equal(a, b)  # evaluation mode: dropout is off
    assert all(np.all(g == 7.0) and g is arrays[k] for k, g in net.grads.items())
    assert net[0].input_grad is False and net[3].input_grad is True
    assert net.training and all(layer.training for layer in net)


def test_works_on_lenet5_whose_first_layer_skips_dx():
    from dlbook.models import lenet5
    net = lenet5(channels=(2, 3), hidden=(8, 6), rng=0, dtype=F64)
    x = np.random.default_rng(0).random((2, 1, 28, 28))
    sal = S.saliency_map(net, x, 7)
    assert sal.shape == (2, 28, 28) and sal.any()
    assert net[0].input_grad is False
    assert S.grad_cam(net, x, 7, layer=4).shape == (2, 10, 10)


def test_grad_cam_weights_channels_by_their_mean_gradient(x):
    net = tiny_cnn()
    A = S.feature_maps(net, x)[4][1]  # (3, 4, 4, 4): the last ReLU
    tail = Sequential(*net.layers[5:])
    cam = S.grad_cam(net, x, [0, 1, 2], layer=4, relu=False)
    for n in range(len(x)):
        An = A[n:n + 1].copy()
        dA = numerical_gradient(lambda z: float(tail.forward(z)[0, n]), An)
        expected = np.einsum("k,khw->hw", dA[0].mean(axis=(1, 2)), An[0])
        np.testing.assert_allclose(cam[n], expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(S.grad_cam(net, x, [0, 1, 2], layer=-3), np.maximum(cam, 0))


def test_grad_cam_of_a_gap_network_is_cam_divided_by_the_map_size():
    net = gap_cnn()
    x = np.random.default_rng(5).standard_normal((4, 2, 6, 6))
    A = S.feature_maps(net, x)[1][1]  # (4, 4, 6, 6) after the ReLU
    W, b = net[4].params["W"], net[4].params["b"]
    cam = S.class_activation_map(A, W, [0, 1, 2, 1])
    gcam = S.grad_cam(net, x, [0, 1, 2, 1], layer=1, relu=False)
    np.testing.assert_allclose(gcam * 36, cam, rtol=1e-12, atol=1e-12)
    # the logit is the spatial mean of the CAM plus the bias
    logits = net.forward(x)[np.arange(4), [0, 1, 2, 1]]
    np.testing.assert_allclose(cam.mean(axis=(1, 2)) + b[[0, 1, 2, 1]], logits, rtol=1e-12)


def test_class_activation_map_known_answer():
    A = np.zeros((1, 2, 2, 2))
    A[0, 0] = [[1, 0], [0, 0]]
    A[0, 1] = [[0, 0], [0, 2]]
    W = np.array([[3.0, -1.0], [0.5, 4.0]])  # (K=2, classes=2)
    np.testing.assert_array_equal(S.class_activation_map(A, W, 0)[0], [[3, 0], [0, 1]])
    np.testing.assert_array_equal(S.class_activation_map(A, W, 1)[0], [[-1, 0], [0, 8]])


def test_occlusion_map_of_a_linear_model_is_the_weight_sum_under_the_patch():
    rng = np.random.default_rng(0)
    net = Sequential(Flatten(), Linear(36, 3, rng=rng, dtype=F64))
    x = rng.random((2, 1, 6, 6))
    drops = S.occlusion_map(net, x, 2, patch=3, stride=3, fill=0.5)
    assert drops.shape == (2, 2, 2)
    w = net[1].params["W"][:, 2].reshape(6, 6)
    for n in range(2):
        for i in range(2):
            for j in range(2):
                win = (slice(3 * i, 3 * i + 3), slice(3 * j, 3 * j + 3))
                expected = np.sum(w[win] * (x[n, 0][win] - 0.5))
                assert drops[n, i, j] == pytest.approx(expected, rel=1e-10)


def test_rank_correlation_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a = np.round(rng.standard_normal((3, 4, 5)), 1)  # rounding makes ties
    b = a + 0.5 * rng.standard_normal((3, 4, 5))
    b[0] = np.maximum(b[0], 0)  # many tied zeros
    rho = S.rank_correlation(a, b)
    for n in range(3):
        assert rho[n] == pytest.approx(stats.spearmanr(a[n].ravel(), b[n].ravel())[0], abs=1e-12)
    assert S.rank_correlation(a, a) == pytest.approx([1, 1, 1])
    assert S.rank_correlation(a, -a) == pytest.approx([-1, -1, -1])
    assert np.isnan(S.rank_correlation(np.ones((1, 5)), a[:1, 0]))[0]


def test_saliency_and_grad_cam_match_torch_autograd(x, device):
    import torch

    from dlbook.twins import to_torch
    net = tiny_cnn()
    twin = to_torch(net, device)
    target = torch.tensor([4, 0, 2], device=device)
    xt = torch.tensor(x, device=device, requires_grad=True)
    twin(xt).gather(1, target[:, None]).sum().backward()
    ours = S.saliency_map(net, x, [4, 0, 2])
    theirs = xt.grad.abs().amax(dim=1).cpu().numpy()
    assert np.abs(ours - theirs).max() < 1e-12
    A = twin[:5](torch.tensor(x, device=device))  # the last ReLU's output
    A.retain_grad()
    twin[5:](A).gather(1, target[:, None]).sum().backward()
    cam = torch.relu((A.grad.mean(dim=(2, 3), keepdim=True) * A).sum(dim=1))
    ours_cam = S.grad_cam(net, x, [4, 0, 2], layer=4)
    assert np.abs(ours_cam - cam.detach().cpu().numpy()).max() < 1e-12


@pytest.mark.parametrize("call, error, match", [
    (lambda n, x: S.saliency_map(object(), x), TypeError, "expected a Sequential model"),
    (lambda n, x: S.saliency_map(n, x[0]), ValueError, r"saliency_map expected images"),
    (lambda n, x: S.input_gradient(n, x[0, 0, 0]), ValueError, "expected a non-empty batch"),
    (lambda n, x: S.saliency_map(n, x, 5), ValueError, r"classes in 0\.\.4; got 5\.\.5"),
    (lambda n, x: S.saliency_map(n, x, [1, 2]), ValueError, "an int or 3 ints"),
    (lambda n, x: S.saliency_map(n, x, 1.5), TypeError, "target_class to be an int"),
    (lambda n, x: S.grad_cam(n, x, layer=7), ValueError, r"layer in \[-7, 6\]"),
    (lambda n, x: S.grad_cam(n, x, layer="4"), TypeError, "layer to be an int index"),
    (lambda n, x: S.grad_cam(n, x, layer=5), ValueError, "feature maps .* got shape \\(3, 64\\)"),
    (lambda n, x: S.occlusion_map(n, x, patch=9), ValueError, "at least patch=9"),
    (lambda n, x: S.occlusion_map(n, x, stride=0), ValueError, "stride >= 1"),
    (lambda n, x: S.feature_maps(n, "abc"), TypeError, "real-valued"),
])
def test_bad_inputs_are_reported_by_name(x, call, error, match):
    with pytest.raises(error, match=match):
        call(tiny_cnn(), x)


def test_class_activation_map_and_rank_correlation_reject_bad_shapes():
    with pytest.raises(ValueError, match="same K; got \\(1, 2, 3, 3\\) and \\(3, 4\\)"):
        S.class_activation_map(np.ones((1, 2, 3, 3)), np.ones((3, 4)), 0)
    with pytest.raises(ValueError, match="rank_correlation expected two batches"):
        S.rank_correlation(np.ones((2, 3)), np.ones((2, 4)))
