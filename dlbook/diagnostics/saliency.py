"""Looking inside a trained CNN: feature maps, saliency, Grad-CAM, CAM, occlusion (chapter 11).

Every function takes a :class:`dlbook.layers.Sequential` model and a batch
``x`` (N, ...) and reuses the model's own forward and backward passes. The
*class score* S_c is the logit of class c (before the softmax). Backpropagating
the one-hot upstream gradient e_c from the logits gives dS_c/dA for every
activation A on the way down, in one backward pass:

* ``input_gradient`` / ``saliency_map``: dS_c/dx and max over channels of its
  absolute value (Simonyan et al., 2014);
* ``grad_cam``: ReLU(sum_k alpha_k A_k) with alpha_k the spatial mean of
  dS_c/dA_k at a chosen layer (Selvaraju et al., 2017);
* ``class_activation_map``: sum_k W[k, c] A_k for a network that ends in global
  average pooling and one linear layer (Zhou et al., 2016);
* ``occlusion_map``: how much S_c drops when a patch is greyed out (Zeiler & Fergus, 2014).

A gradient pass runs in evaluation mode, temporarily asks every layer with
``input_grad=False`` (e.g. the first layer of :func:`dlbook.models.lenet5`) for
its dx, and restores the model's ``grads``, ``input_grad`` flags and training
mode afterwards, so looking at a model never changes it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np

from dlbook._checks import as_float_array, check_positive_int

Target = int | Sequence[int] | np.ndarray | None


def _layers(model, where: str) -> list:
    """The list of layers of a Sequential-like model (anything with a ``layers`` list)."""
    layers = getattr(model, "layers", None)
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError(f"{where} expected a Sequential model with a non-empty list of layers; "
                        f"got {type(model).__name__}")
    return list(layers)


def _batch(x, where: str) -> np.ndarray:
    """x as a float array with a batch axis, (N, ...) with at least 2 axes."""
    x = as_float_array(x, where)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"{where} expected a non-empty batch x of shape (N, C, H, W) or (N, D); "
                         f"got shape {x.shape}")
    return x


def _layer_index(index, n_layers: int, where: str) -> int:
    """A layer index (negative counts from the end) -> 0 <= index < n_layers."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{where} expected layer to be an int index; got {type(index).__name__}")
    if not -n_layers <= index < n_layers:
        raise ValueError(f"{where} expected layer in [{-n_layers}, {n_layers - 1}] for a model "
                         f"of {n_layers} layers; got {index}")
    return int(index) % n_layers


def _targets(target_class: Target, logits: np.ndarray, where: str) -> np.ndarray:
    """Class per example, (N,) int64: the given int(s), or the predicted class for None."""
    if logits.ndim != 2:
        raise ValueError(f"{where} expected the model to return logits of shape (N, num_classes); "
                         f"got shape {logits.shape}")
    N, K = logits.shape
    if target_class is None:
        return logits.argmax(axis=1)
    t = np.asarray(target_class)
    if t.dtype == bool or not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"{where} expected target_class to be an int, N ints or None; "
                        f"got {target_class!r}")
    t = np.broadcast_to(t, (N,)) if t.ndim == 0 else t
    if t.shape != (N,):
        raise ValueError(f"{where} expected target_class to be an int or {N} ints (one per "
                         f"example); got shape {t.shape}")
    if t.min() < 0 or t.max() >= K:
        raise ValueError(f"{where} expected classes in 0..{K - 1}; got {t.min()}..{t.max()}")
    return t.astype(np.int64)


@contextmanager
def _gradient_pass(layers: list) -> Iterator[None]:
    """Evaluation mode, dx from every layer, and the model left exactly as it was afterwards."""
    saved_grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in layers]
    saved_flags = [getattr(layer, "input_grad", None) for layer in layers]
    saved_modes = [layer.training for layer in layers]
    try:
        for layer, flag in zip(layers, saved_flags):
            layer.eval()
            if flag is False:
                layer.input_grad = True  # the first layer usually skips dx; here we need it
        yield
    finally:
        for layer, grads, flag, mode in zip(layers, saved_grads, saved_flags, saved_modes):
            for k, g in grads.items():
                layer.grads[k][...] = g  # in place: optimizers hold these arrays
            if flag is not None:
                layer.input_grad = flag
            layer.train(mode)


def _forward_all(layers: list, x: np.ndarray) -> list[np.ndarray]:
    """[x, A_0, A_1, ..., logits]: the input and the output of every layer."""
    outs = [x]
    for layer in layers:
        outs.append(layer.forward(outs[-1]))
    return outs


def _score_gradient(layers: list, x: np.ndarray, target_class: Target, stop: int,
                    where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, dS_c/dA, classes): output A of layer ``stop`` (-1: the input x) and its gradient.

    Shapes: x (N, ...) -> A and dS/dA with the shape of that activation, classes (N,).
    Runs inside :func:`_gradient_pass`; the upstream gradient at the logits is one-hot.
    """
    outs = _forward_all(layers, x)
    classes = _targets(target_class, outs[-1], where)
    dout = np.zeros_like(outs[-1])
    dout[np.arange(len(classes)), classes] = 1  # dS_c/dlogits = e_c
    for layer in reversed(layers[stop + 1:]):
        dout = layer.backward(dout)
    return outs[stop + 1], dout, classes


def feature_maps(model, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """[(name, A_i)] for every layer i: the activations a batch produces, layer by layer.

    Shapes: x (N, C, H, W) -> A_i (N, C_i, H_i, W_i) for convolution and pooling
    layers, (N, D_i) after Flatten. Names read ``"0 Conv2d"`` (index, class).
    Runs in evaluation mode (chapter 11).
    """
    layers = _layers(model, "feature_maps")
    x = _batch(x, "feature_maps")
    modes = [layer.training for layer in layers]
    try:
        for layer in layers:
            layer.eval()
        outs = _forward_all(layers, x)[1:]
    finally:
        for layer, mode in zip(layers, modes):
            layer.train(mode)
    return [(f"{i} {type(layer).__name__}", np.array(a)) for i, (layer, a) in
            enumerate(zip(layers, outs))]


def input_gradient(model, x: np.ndarray, target_class: Target = None) -> np.ndarray:
    """dS_c/dx: how the logit of class c changes with every input number (chapter 11).

    Shapes: x (N, C, H, W) -> (N, C, H, W); target_class an int, (N,) ints, or
    None for each example's predicted class. One backward pass of the model
    with the one-hot upstream gradient e_c at the logits.
    """
    layers = _layers(model, "input_gradient")
    x = _batch(x, "input_gradient")
    with _gradient_pass(layers):
        _, grad, _ = _score_gradient(layers, x, target_class, -1, "input_gradient")
    return np.array(grad)


def saliency_map(model, x: np.ndarray, target_class: Target = None) -> np.ndarray:
    """M[n, i, j] = max over channels of |dS_c/dx[n, :, i, j]| (Simonyan et al., 2014).

    Shapes: x (N, C, H, W) -> (N, H, W). See :func:`input_gradient` (chapter 11).
    """
    x = _batch(x, "saliency_map")
    if x.ndim != 4:
        raise ValueError(f"saliency_map expected images x of shape (N, C, H, W); "
                         f"got shape {x.shape}")
    return np.abs(input_gradient(model, x, target_class)).max(axis=1)


def grad_cam(model, x: np.ndarray, target_class: Target = None, *, layer: int,
             relu: bool = True) -> np.ndarray:
    """L = ReLU(sum_k alpha_k A_k), alpha_k = mean over (i, j) of dS_c/dA_k[i, j] (Grad-CAM).

    Shapes: x (N, C, H, W) -> (N, h, w), the spatial size of A = output of
    ``model.layers[layer]`` (N, K, h, w), typically the last convolution's
    ReLU. ``relu=False`` keeps the negative part. Selvaraju et al. (2017); chapter 11.
    """
    layers = _layers(model, "grad_cam")
    x = _batch(x, "grad_cam")
    stop = _layer_index(layer, len(layers), "grad_cam")
    with _gradient_pass(layers):
        A, dA, _ = _score_gradient(layers, x, target_class, stop, "grad_cam")
    if A.ndim != 4:
        raise ValueError(f"grad_cam expected layer {layer} to output feature maps (N, K, h, w); "
                         f"got shape {A.shape} from {type(layers[stop]).__name__}")
    alpha = dA.mean(axis=(2, 3))  # (N, K): the channel weights
    cam = np.einsum("nk,nkhw->nhw", alpha, A)  # (N, h, w)
    return np.maximum(cam, 0) if relu else cam


def class_activation_map(features: np.ndarray, weight: np.ndarray,
                         target_class: int | Sequence[int] | np.ndarray) -> np.ndarray:
    """CAM_c[i, j] = sum_k W[k, c] A_k[i, j] (Zhou et al., 2016).

    Shapes: features A (N, K, h, w), the maps that global average pooling
    turns into the K inputs of the last ``Linear``; weight W (K, num_classes),
    that layer's ``params["W"]``; target_class an int or (N,) ints -> (N, h, w).
    Since the logit is S_c = mean_ij(A) @ W[:, c] + b_c, the spatial mean of
    CAM_c plus b_c equals S_c (chapter 11).
    """
    A = as_float_array(features, "class_activation_map", "features")
    W = as_float_array(weight, "class_activation_map", "weight")
    if A.ndim != 4 or W.ndim != 2 or W.shape[0] != A.shape[1]:
        raise ValueError(f"class_activation_map expected features (N, K, h, w) and weight "
                         f"(K, num_classes) with the same K; got {A.shape} and {W.shape}")
    classes = _targets(target_class, np.zeros((A.shape[0], W.shape[1])), "class_activation_map")
    return np.einsum("nk,nkhw->nhw", W[:, classes].T, A)


def occlusion_map(model, x: np.ndarray, target_class: Target = None, patch: int = 4,
                  stride: int = 2, fill: float = 0.0) -> np.ndarray:
    """D[n, i, j] = S_c(x_n) - S_c(x_n with a patch x patch square at (i s, j s) set to fill).

    Shapes: x (N, C, H, W) -> (N, H_out, W_out), H_out = floor((H - patch) / stride) + 1.
    A large drop means the covered pixels mattered (Zeiler & Fergus, 2014).
    Costs one forward pass of H_out W_out occluded copies per example (chapter 11).
    """
    layers = _layers(model, "occlusion_map")
    x = _batch(x, "occlusion_map")
    patch = check_positive_int(patch, "occlusion_map", "patch")
    stride = check_positive_int(stride, "occlusion_map", "stride")
    if x.ndim != 4 or patch > min(x.shape[2:]):
        raise ValueError(f"occlusion_map expected images (N, C, H, W) at least patch={patch} "
                         f"pixels high and wide; got shape {x.shape}")
    H_out, W_out = ((s - patch) // stride + 1 for s in x.shape[2:])
    drops = np.empty((len(x), H_out, W_out))
    with _gradient_pass(layers):
        classes = _targets(target_class, _forward_all(layers, x)[-1], "occlusion_map")
        for n, image in enumerate(x):
            copies = np.repeat(image[None], H_out * W_out + 1, axis=0)  # the last stays clean
            for p, (i, j) in enumerate(np.ndindex(H_out, W_out)):
                copies[p, :, i * stride:i * stride + patch, j * stride:j * stride + patch] = fill
            scores = _forward_all(layers, copies)[-1][:, classes[n]]
            drops[n] = (scores[-1] - scores[:-1]).reshape(H_out, W_out)
    return drops


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho of each pair of maps: Pearson correlation of their ranks (ties averaged).

    Shapes: a, b (N, ...) -> (N,), one correlation per example. Used to compare
    saliency maps (Adebayo et al., 2018; chapter 11).
    """
    a = as_float_array(a, "rank_correlation", "a")
    b = as_float_array(b, "rank_correlation", "b")
    if a.shape != b.shape or a.ndim < 2:
        raise ValueError(f"rank_correlation expected two batches of maps (N, ...) of the same "
                         f"shape; got {a.shape} and {b.shape}")
    ra = np.array([_average_ranks(m.ravel()) for m in a])  # (N, P)
    rb = np.array([_average_ranks(m.ravel()) for m in b])
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    norm = np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1))
    return np.divide((ra * rb).sum(axis=1), norm, out=np.full(len(a), np.nan), where=norm > 0)


def _average_ranks(v: np.ndarray) -> np.ndarray:
    """Ranks 1..P of the entries of v; tied entries share the mean of their ranks."""
    _, group, counts = np.unique(v, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # rank - 1 of each group's first member
    return (first + (counts + 1) / 2)[group.ravel()]
