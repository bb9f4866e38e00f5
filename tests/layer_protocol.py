"""Checks of the layer protocol shared by every gradient-check test file (not collected by pytest).

``assert_dout_unchanged``: backward must not modify the upstream gradient it is given.
``assert_accumulates_until_zero_grad``: a second backward adds the same gradients again
(backward only reads the cache), ``zero_grad`` empties them in place, and ``parameters()``
yields the very gradient arrays the layer owns.
"""

import numpy as np


def assert_dout_unchanged(layer, x, rng) -> None:
    dout = rng.normal(size=layer(x).shape)
    dout_before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(dout, dout_before)


def assert_accumulates_until_zero_grad(layer, x, rng) -> None:
    grad_arrays = [g for _, g in layer.parameters()]
    dout = rng.normal(size=layer(x).shape)
    dx_first = layer.backward(dout)
    once = {k: g.copy() for k, g in layer.grads.items()}
    dx_second = layer.backward(dout)
    if dx_first is not None:
        np.testing.assert_array_equal(dx_first, dx_second)  # backward only reads the cache
    for k, g in layer.grads.items():
        np.testing.assert_allclose(g, 2 * once[k], rtol=1e-12, err_msg=k)
    layer.zero_grad()
    assert all(not g.any() for g in layer.grads.values())
    assert all(a is b for a, b in zip(grad_arrays, (g for _, g in layer.parameters())))
    assert len(grad_arrays) == len(layer.grads)  # parameters() yields every gradient once
