"""Receptive fields (chapter 10): known answers, and a measurement through real layers."""

import numpy as np
import pytest

from dlbook.layers import AvgPool2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from dlbook.layers.conv import Conv2d
from dlbook.models.cifar import cifar_net
from dlbook.models.lenet import lenet5
from dlbook.diagnostics.receptive_field import ReceptiveField, receptive_field


def sizes(rows):
    return [(r.size, r.jump) for r in rows]


def test_stacked_3x3_convolutions_grow_by_two():
    rows = receptive_field([("conv", 3, 1, 1)] * 3)
    assert sizes(rows) == [(3, 1), (5, 1), (7, 1)]  # two 3x3 = 5x5, three = 7x7
    assert all(r.start == 0.0 for r in rows)  # "same" padding keeps unit 0 centred on pixel 0


def test_stride_multiplies_the_jump_and_dilation_widens_the_window():
    rows = receptive_field([("conv", 3, 2, 0), ("conv", 3, 2, 0), ("conv", 3, 1, 0, 2)])
    assert sizes(rows) == [(3, 2), (7, 4), (7 + 4 * 4, 4)]  # dilated 3-tap spans 5 positions
    assert rows[0].start == 1.0 and rows[1].start == 1.0 + 1 * 2


def test_lenet_known_answer_and_output_sizes():
    rows = receptive_field(lenet5(rng=0), input_size=28)
    assert [r.name for r in rows] == ["Conv2d", "MaxPool2d", "Conv2d", "MaxPool2d"]
    assert sizes(rows) == [(5, 1), (6, 2), (14, 2), (16, 4)]
    assert [r.out_size for r in rows] == [28, 14, 10, 5]
    assert [r.start for r in rows] == [0.0, 0.5, 4.5, 5.5]


def test_cifar_net_and_layers_without_windows_are_skipped():
    rows = receptive_field(cifar_net(rng=0, width=4, hidden=8), input_size=32)
    assert sizes(rows) == [(3, 1), (5, 1), (6, 2), (10, 2), (14, 2), (16, 4)]
    assert rows[-1].out_size == 8
    rows = receptive_field([ReLU(), AvgPool2d(3, stride=1), Flatten(), ("conv", 9, 1, 0)])
    assert rows == [ReceptiveField("AvgPool2d", 3, 1, 1.0, None)]  # stops at Flatten


def test_non_square_kernels_per_axis():
    layers = [Conv2d(1, 1, (3, 5), padding=(1, 2), rng=0), MaxPool2d((2, 1))]
    assert sizes(receptive_field(layers, axis=0)) == [(3, 1), (4, 2)]
    assert sizes(receptive_field(layers, axis=1)) == [(5, 1), (5, 1)]


def influence(layers, side):
    """Which input pixels change output unit (0, 0) of the last layer: |d y / d x| > 0."""
    net = Sequential(*layers)
    x = np.random.default_rng(0).normal(size=(1, 1, side, side))
    y = net(x)
    dout = np.zeros_like(y)
    dout[0, 0, 0, 0] = 1.0
    return np.abs(net.backward(dout)[0, 0]) > 0


def test_receptive_field_matches_the_gradient_footprint():
    """Unit 0's field is [start - (size-1)/2, start + (size-1)/2], cut to the image."""
    rng = np.random.default_rng(1)
    layers = [Conv2d(1, 2, 3, padding=1, rng=rng, dtype=np.float64), MaxPool2d(2),
              Conv2d(2, 1, 3, rng=rng, dtype=np.float64)]
    for layer in layers:  # positive weights: no accidental cancellation, every path counts
        for p in layer.params.values():
            p[...] = np.abs(p) + 0.1
    row = receptive_field(layers, input_size=12)[-1]
    seen = influence(layers, 12)
    lo, hi = row.start - (row.size - 1) / 2, row.start + (row.size - 1) / 2
    expected = np.zeros(12, bool)
    expected[max(int(lo), 0):int(hi) + 1] = True
    assert seen.any(axis=1).tolist() == expected.tolist()
    assert (row.size, row.jump) == (8, 2)


@pytest.mark.parametrize("layers, kwargs, error, message", [
    ([("conv", 3)], {}, ValueError, "expected a layer spec"),
    ([object()], {}, TypeError, "expected layers or .* got object at position 0"),
    ([("conv", 0, 1, 0)], {}, ValueError, "kernel >= 1"),
    ([("conv", 3, 1.5, 0)], {}, TypeError, "stride to be an int"),
    ([("conv", 3, 1, 0)], {"axis": 2}, ValueError, "axis 0 .* got 2"),
    ([("conv", 5, 1, 0)], {"input_size": 3}, ValueError, r"layer 0 \(conv\) does not fit"),
    ([Linear(2, 2, rng=0), ("conv", 3, 1, 0)], {}, None, None),
])
def test_bad_inputs(layers, kwargs, error, message):
    if error is None:
        assert receptive_field(layers, **kwargs) == []  # a Linear first: nothing spatial
        return
    with pytest.raises(error, match=message):
        receptive_field(layers, **kwargs)
