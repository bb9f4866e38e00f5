"""Checks of the layer protocol shared by every gradient-check test file (not collected by pytest).

``assert_dout_unchanged``: backward must not modify the upstream gradient it is given.
``assert_accumulates_until_zero_grad``: a second backward adds the same gradients again
(backward only reads the cache), ``zero_grad`` empties them in place, and ``parameters()``
yields the very gradient arrays the layer owns.
``random_case`` and ``assert_gradients_match_numerical``: a layer with random float64
parameters and input, and the float64 numerical gradient check of all its gradients.
``assert_backward_returns_input_gradients``: backward returns the gradients of the forward's
float inputs, in its order (dlbook/layers/base.py), and none comes back through an attribute.
"""

import numpy as np

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer

GRADIENT_ATTRIBUTES = ("dh0", "dc0", "_dmemory")
"""Names under which gradients used to come back as attributes; backward returns them now."""


def random_case(factory, shape):
    """(layer, x, rng): ``factory(rng)`` with every parameter redrawn N(0, 1) (gamma = 1, beta = 0
    would hide bugs) and an N(0, 1) input of ``shape``."""
    rng = np.random.default_rng(0)
    layer = factory(rng)
    for param in layer.params.values():
        param[...] = rng.normal(size=param.shape)
    return layer, rng.normal(size=shape), rng


def assert_gradients_match_numerical(layer, x, rng, name: str) -> None:
    errors = check_layer(layer, x, rng=rng)  # also raises if dout or x is modified
    assert set(errors) == {"x", *layer.params}
    bad = {k: f"{e:.1e}" for k, e in errors.items() if not e < GRADCHECK_TOL}
    assert not bad, f"{name}: relative errors above {GRADCHECK_TOL}: {bad}"


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


def _gradient_shapes(arg):
    """What backward returns for one forward argument: its shape (a float array), a list for
    a group such as the state pair (h0, c0), or None (an integer array: token ids)."""
    if isinstance(arg, (tuple, list)):
        return [_gradient_shapes(a) for a in arg]
    arg = np.asarray(arg)
    return arg.shape if np.issubdtype(arg.dtype, np.floating) else None


def _assert_gradients_match(grads, expected, where: str) -> None:
    if isinstance(expected, list):
        assert isinstance(grads, tuple) and len(grads) == len(expected), \
            f"{where}: expected a tuple of {len(expected)} gradients; got {type(grads).__name__}"
        for i, (g, e) in enumerate(zip(grads, expected)):
            _assert_gradients_match(g, e, f"{where}[{i}]")
    else:
        assert isinstance(grads, np.ndarray) and grads.shape == expected, \
            f"{where}: expected an array of shape {expected}; got {getattr(grads, 'shape', grads)}"


def assert_backward_returns_input_gradients(layer, args: tuple, rng, kwargs=None) -> None:
    """backward(dout) after forward(*args, **kwargs) returns one gradient per float input.

    Shapes: each gradient has the shape of its input; one float input gives an array,
    several give a tuple in the forward's order (a state pair gives a nested pair);
    integer inputs get none, and None arguments (no initial state) are no inputs.
    No layer of the tree keeps a gradient in an attribute named in GRADIENT_ATTRIBUTES.
    """
    out = layer.forward(*args, **(kwargs or {}))
    grads = layer.backward(rng.normal(size=out.shape))
    expected = [e for e in (_gradient_shapes(a) for a in args if a is not None) if e is not None]
    where = f"{type(layer).__name__}.backward"
    if not expected:
        assert grads is None, f"{where}: integer inputs only, expected None; got {type(grads)}"
    else:
        _assert_gradients_match(grads, expected[0] if len(expected) == 1 else expected, where)
    for name, sub in layer.named_modules():
        kept = [a for a in GRADIENT_ATTRIBUTES if hasattr(sub, a)]
        assert not kept, f"{type(sub).__name__} {name!r} keeps gradients in attributes {kept}"
