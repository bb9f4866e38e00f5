"""The chapter 19 autoencoders: shapes, numpy/PyTorch twins, weight copies, training; the
unpooling autoencoder and MaxPool2d(return_indices=True); their plots."""

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer
from dlbook.layers import MaxPool2d, MaxUnpool2d, Sequential
from dlbook.layers.conv_transpose import ConvTranspose2d
from dlbook.layers.upsample import Upsample
from dlbook.models.autoencoder import (DECODERS, ENCODER_LAYERS, UnpoolAutoencoder,
                                       conv_autoencoder, encoder_decoder)
from dlbook.torch_models.autoencoder import train_autoencoder_torch
from dlbook.plot.generative import (plot_class_histogram, plot_digit_grid, plot_image_rows,
                                    plot_latent_scatter, plot_reconstructions, tile_images)

torch = pytest.importorskip("torch")
from dlbook.twins import as_tensor, copy_weights, to_numpy, to_torch, torch_grads  # noqa: E402
from parity import torch_forward_backward  # noqa: E402

F64 = np.float64


def torch_autoencoder(code_channels=4, width=16, decoder="transpose", seed=0):
    """The PyTorch twin of a float32 numpy autoencoder, on the CPU."""
    return to_torch(conv_autoencoder(code_channels, width, decoder, rng=seed), device="cpu")


def digits(n, seed=0):
    """Stand-ins for digits (the real ones take seconds to load): smooth blobs in [0, 1]."""
    rng = np.random.default_rng(seed)
    r2 = ((np.arange(28) - 14.0) ** 2)[:, None] + ((np.arange(28) - 14.0) ** 2)[None, :]
    width = rng.uniform(10, 40, size=(n, 1, 1, 1))
    return np.exp(-r2 / width).astype(np.float32)  # (n, 1, 28, 28)


@pytest.mark.parametrize("decoder", DECODERS)
def test_shapes_code_and_layer_kinds(decoder):
    model = conv_autoencoder(code_channels=3, width=8, decoder=decoder, rng=0)
    x = digits(2)
    y = model(x)
    assert y.shape == x.shape and y.dtype == np.float32 and ((y > 0) & (y < 1)).all()
    encoder, decoder_net = encoder_decoder(model)
    code = encoder(x)
    assert code.shape == (2, 3, 7, 7)
    np.testing.assert_array_equal(decoder_net(code), y)
    kinds = {type(layer) for layer in model.layers[ENCODER_LAYERS:]}
    assert (ConvTranspose2d in kinds) == (decoder == "transpose")
    assert (Upsample in kinds) == (decoder != "transpose")


@pytest.mark.parametrize("decoder", DECODERS)
def test_numpy_and_torch_twins_agree_forward_and_backward(decoder, device):
    rng = np.random.default_rng(1)
    ours = conv_autoencoder(4, 6, decoder, rng=2, dtype=F64)
    theirs = to_torch(ours, device=device)  # float64, like ours
    x = rng.uniform(size=(3, 1, 28, 28))
    y = ours(x)
    dout = 2 * (y - x) / y.size  # d MSE / dy
    ours.backward(dout)
    yt = theirs(as_tensor(x, device))
    torch.mean((yt - as_tensor(x, device)) ** 2).backward()
    np.testing.assert_allclose(y, to_numpy(yt), rtol=1e-10, atol=1e-12)
    grads = [p.grad for m in theirs.modules() if hasattr(m, "weight") for p in (m.weight, m.bias)]
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in ours.grads.values()]),
                               np.concatenate([to_numpy(g).ravel() for g in grads]),
                               rtol=1e-8, atol=1e-12)


def test_copy_from_torch_and_mismatches():
    torch.manual_seed(0)
    theirs = torch_autoencoder(2, 4, seed=1)
    for module in theirs:
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()  # PyTorch's own initialisation
    ours = conv_autoencoder(2, 4, rng=0)
    W_before = ours.params["0.W"]
    copy_weights(theirs, ours)
    assert ours.params["0.W"] is W_before  # copied in place
    x = digits(2, seed=1)
    with torch.no_grad():
        y_ref = theirs(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(ours(x), y_ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="is not the twin of Sequential"):
        copy_weights(conv_autoencoder(2, 4, "nearest", rng=0), theirs)
    with pytest.raises(ValueError, match=r"Sequential expected 3.weight of shape \(3, 4, 3, 3\)"):
        copy_weights(conv_autoencoder(3, 4, rng=0), theirs)
    no_bias = torch_autoencoder(2, 4)
    no_bias[0].bias = None
    with pytest.raises(ValueError, match=r"has no \['0.bias'\]"):
        copy_weights(ours, no_bias)


def test_training_reduces_the_error_and_is_deterministic(one_thread):
    X = digits(100, seed=2)

    def run():
        torch.manual_seed(0)
        model = torch_autoencoder(2, 4)
        return train_autoencoder_torch(model, X[:80], X[80:], epochs=2, batch_size=40,
                                       seed=3, device="cpu")

    first, second = run(), run()
    assert first == second
    assert len(first["train_loss"]) == len(first["val_loss"]) == 2
    assert first["val_loss"][1] < first["val_loss"][0]
    assert train_autoencoder_torch(torch_autoencoder(2, 4), X[:10], epochs=1,
                                   device="cpu")["val_loss"] == []


def test_default_device_path_runs():
    history = train_autoencoder_torch(torch_autoencoder(1, 2), digits(8), epochs=1)
    assert np.isfinite(history["train_loss"][0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="code_channels to be a positive int"):
        conv_autoencoder(0)
    with pytest.raises(ValueError, match="decoder to be one of"):
        conv_autoencoder(decoder="pixelshuffle")
    with pytest.raises(ValueError, match="more than 6 layers"):
        encoder_decoder(Sequential())
    with pytest.raises(ValueError, match=r"X_train of shape \(N, 1, 28, 28\)"):
        train_autoencoder_torch(torch_autoencoder(), np.zeros((4, 784)))
    with pytest.raises(ValueError, match="epochs to be a positive int"):
        train_autoencoder_torch(torch_autoencoder(), digits(4), epochs=0)


def test_tile_images_layout():
    images = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    grid = tile_images(images, ncols=2, pad=1, fill=-1)
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(grid[3:5, 4:7], images[3])
    assert (grid[6:, 4:] == -1).all()  # the empty sixth tile
    assert tile_images(np.zeros((4, 1, 5, 5))).shape == (5, 4 * 6 - 1)
    assert tile_images(np.zeros((2, 16)), ncols=1).shape == (9, 4)
    with pytest.raises(ValueError, match="square flat images"):
        tile_images(np.zeros((2, 15)))
    with pytest.raises(ValueError, match="ncols"):
        tile_images(np.zeros((2, 4, 4)), ncols=0)


def test_plots(plt):
    x = digits(6)
    ax = plot_digit_grid(x, ncols=3, title="digits")
    assert ax.get_title() == "digits" and len(ax.images) == 1
    ax = plot_reconstructions(x[:, 0], 1 - x[:, 0])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["input", "reconstruction"]
    with pytest.raises(ValueError, match="same shape"):
        plot_reconstructions(x, x[:2])
    _, axes = plt.subplots(1, 2)
    assert plot_class_histogram(np.arange(10), ax=axes[0], reference=np.full(10, 4.5),
                                title="h") is axes[0]
    assert len(axes[0].patches) == 10 and len(axes[0].lines) == 1
    with pytest.raises(ValueError, match=r"counts of shape \(K,\)"):
        plot_class_histogram(np.zeros((2, 5)))


# --- MaxPool2d(return_indices=True) and the unpooling autoencoder --------------------------------


def test_maxpool_return_indices_gives_the_switches_and_keeps_backward():
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 5))
    plain, with_idx = MaxPool2d(2), MaxPool2d(2, return_indices=True)
    y, idx = with_idx(x)
    np.testing.assert_array_equal(y, plain(x))
    assert idx is with_idx.indices and idx.dtype == np.int64
    dout = np.random.default_rng(1).normal(size=y.shape)
    np.testing.assert_array_equal(with_idx.backward(dout), plain.backward(dout))
    unpool = MaxUnpool2d(2)
    np.testing.assert_array_equal(unpool(y, idx, output_size=x.shape),
                                  unpool(y, plain.indices, output_size=x.shape))
    with pytest.raises(TypeError, match="return_indices to be a bool; got 1"):
        MaxPool2d(2, return_indices=1)


def test_maxpool_return_indices_twin(device):
    x = np.random.default_rng(2).normal(size=(2, 2, 4, 6))
    ours = MaxPool2d(2, return_indices=True)
    twin = to_torch(ours, device=device)
    y_t, idx_t = twin(as_tensor(x, device))
    y, idx = ours(x)
    np.testing.assert_array_equal(y, to_numpy(y_t))
    np.testing.assert_array_equal(idx, to_numpy(idx_t))


def test_unpool_autoencoder_shapes_switches_and_encode_decode():
    model = UnpoolAutoencoder(code_channels=3, width=5, rng=0)
    x = digits(2)
    y = model(x)
    assert y.shape == x.shape and y.dtype == np.float32 and ((y > 0) & (y < 1)).all()
    code, (s1, s2) = model.encode(x)
    assert code.shape == (2, 3, 7, 7) and s1.shape == (2, 5, 14, 14) and s2.shape == code.shape
    assert s1.dtype == s2.dtype == np.int64 and s1.max() < 28 * 28 and s2.max() < 14 * 14
    np.testing.assert_array_equal(model.decode(code, (s1, s2)), y)
    assert model.num_parameters() == (9 * 5 + 5) + (5 * 9 * 3 + 3) + (3 * 9 * 5 + 5) + (5 * 9 + 1)
    # the decoder has the transposed-conv decoder's parameter count
    assert model.num_parameters() == conv_autoencoder(3, 5, rng=0).num_parameters()


def test_unpool_autoencoder_gradient_check():
    model = UnpoolAutoencoder(code_channels=2, width=3, rng=1, dtype=F64)
    rng = np.random.default_rng(3)
    for p in model.params.values():
        p[...] = 0.5 * rng.normal(size=p.shape)
    errors = check_layer(model, rng.uniform(size=(2, 1, 8, 4)), rng=rng)
    assert set(errors) == {"x"} | set(model.params)
    assert max(errors.values()) < GRADCHECK_TOL, errors


def test_unpool_autoencoder_twin_forward_backward_encode_decode(device):
    rng = np.random.default_rng(4)
    ours = UnpoolAutoencoder(2, 4, rng=5, dtype=F64)
    for p in ours.params.values():
        p[...] = 0.5 * rng.normal(size=p.shape)
    theirs = to_torch(ours, device=device)
    x = rng.uniform(size=(3, 1, 12, 8))
    y = ours(x)
    dout = rng.normal(size=y.shape)
    dx = ours.backward(dout)
    yt, dxt = torch_forward_backward(theirs, x, dout, device)
    np.testing.assert_allclose(y, to_numpy(yt), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, to_numpy(dxt), rtol=1e-10, atol=1e-12)
    for name, g in torch_grads(ours, theirs).items():
        np.testing.assert_allclose(ours.grads[name], g, rtol=1e-9, atol=1e-12, err_msg=name)
    code, (s1, s2) = ours.encode(x)
    with torch.no_grad():
        code_t, (s1_t, s2_t) = theirs.encode(as_tensor(x, device))
        np.testing.assert_allclose(code, to_numpy(code_t), rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(s1, to_numpy(s1_t))
        np.testing.assert_array_equal(s2, to_numpy(s2_t))
        swapped = (s1_t.roll(1, 0), s2_t.roll(1, 0))  # another sample's switches
        np.testing.assert_allclose(ours.decode(code, (np.roll(s1, 1, 0), np.roll(s2, 1, 0))),
                                   to_numpy(theirs.decode(code_t, swapped)), rtol=1e-10, atol=1e-12)


def test_unpool_autoencoder_trains_and_copies_back(one_thread):
    X = digits(60, seed=5)
    torch.manual_seed(0)
    ours = UnpoolAutoencoder(2, 4, rng=0)
    theirs = to_torch(ours, device="cpu")
    history = train_autoencoder_torch(theirs, X[:40], X[40:], epochs=2, batch_size=20, seed=1,
                                      device="cpu")
    assert history["val_loss"][1] < history["val_loss"][0]
    copy_weights(theirs, ours)
    theirs.eval()
    with torch.no_grad():
        np.testing.assert_allclose(ours(X[40:]), theirs(torch.as_tensor(X[40:])).numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_unpool_autoencoder_bad_arguments():
    with pytest.raises(ValueError, match="width to be a positive int"):
        UnpoolAutoencoder(4, 0)
    model = UnpoolAutoencoder(1, 2, rng=0)
    with pytest.raises(ValueError, match=r"H and W multiples of 4; got shape \(1, 1, 10, 8\)"):
        model(np.zeros((1, 1, 10, 8), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        model.encode(np.zeros((1, 2, 8, 8), dtype=np.float32))


def test_image_rows_and_latent_scatter(plt):
    x = digits(4)
    ax = plot_image_rows([x, 1 - x, x ** 2], ["a", "b", "c"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert ax.images[0].get_array().shape == (3 * 29 - 1, 4 * 29 - 1)
    with pytest.raises(ValueError, match="one label per row"):
        plot_image_rows([x, x], ["a"])
    with pytest.raises(ValueError, match="rows of the same shape"):
        plot_image_rows([x, x[:2]], ["a", "b"])
    codes = np.random.default_rng(0).normal(size=(30, 2))
    ax = plot_latent_scatter(codes, np.arange(30) % 3, title="z")
    assert ax.get_title() == "z" and len(ax.collections) == 3
    with pytest.raises(ValueError, match=r"codes \(N, 2\) and labels \(N,\)"):
        plot_latent_scatter(codes[:, :1], np.zeros(30))
