"""Tests of the mechanism diagrams: im2col / col2im (chapter 9), CBOW / skip-gram (chapter 13), LSTM and GRU cells (chapter 15)."""

import numpy as np
import pytest


def texts(ax):
    return [t.get_text() for t in ax.texts]


def outlines(ax):
    """(x, y, width, height, colour) of the unfilled rectangles: the highlights."""
    from matplotlib.patches import Rectangle
    return [(p.get_x(), p.get_y(), p.get_width(), p.get_height(), p.get_edgecolor()[:3])
            for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]


def circles(ax):
    from matplotlib.patches import Circle
    return [p for p in ax.patches if isinstance(p, Circle)]


def cell_numbers(ax):
    """The numbers written in cells, as floats."""
    out = []
    for t in texts(ax):
        try:
            out.append(float(t))
        except ValueError:
            pass
    return out


def test_plot_im2col_shows_the_window_its_row_and_the_product(plt):
    from dlbook.layers.conv_naive import conv2d_naive
    from dlbook.plot.im2col_diagram import plot_im2col
    rng = np.random.default_rng(0)
    x, w = rng.integers(0, 5, (2, 4, 4)), rng.integers(-1, 2, (2, 3, 3))
    _, ax = plt.subplots()
    assert plot_im2col(x, w, position=(1, 0), ax=ax, title="t") is ax
    names = texts(ax)
    for label in ("$x$, channel 0", "$x$, channel 1", "col  (M, K) = (4, 18)",
                  r"$W_{\mathrm{col}}$ (K, F)", "$W[0, 0]$", "$W[0, 1]$", "$Y$ (M, F)", "im2col"):
        assert label in names
    assert ax.get_title() == "t"
    # the cells: 2 input planes, col (M, K), 2 filter slices, W_col, Y, the output map
    y = conv2d_naive(x[None].astype(float), w[None].astype(float))[0, 0]  # (2, 2)
    numbers = cell_numbers(ax)
    assert len(numbers) == 2 * 16 + 4 * 18 + 2 * 9 + 18 + 4 + 4
    assert numbers[-4:] == y.ravel().tolist()                 # the output map, from the GEMM
    assert numbers[-8:-4] == y.ravel().tolist()               # Y (M, 1) before the reshape
    # window (1, 0) -> row 2 of col: its 18 numbers are the window, channel innermost
    row = numbers[32 + 2 * 18:32 + 3 * 18]
    assert row == x[:, 1:4, 0:3].transpose(1, 2, 0).ravel().tolist()
    # outlined: the window in each channel, its row, Y[2] and y[1, 0]
    assert len(outlines(ax)) == 2 + 1 + 1 + 1
    assert sum(1 for o in outlines(ax) if o[2:4] == (18, 1)) == 1


def test_plot_col2im_collects_one_contribution_per_window_over_the_pixel(plt):
    from dlbook.layers.conv import Conv2d
    from dlbook.plot.im2col_diagram import plot_col2im
    g = np.array([[1.0, -2.0], [3.0, 2.0]])
    w = np.array([[[1, 2, -1], [2, 1, 0], [0, -1, 3]]], dtype=float)  # (C, kh, kw) = (1, 3, 3)
    ax = plot_col2im(g, w, pixel=(1, 1))
    conv = Conv2d(1, 1, 3, bias=False, dtype=np.float64)
    conv.params["W"][...] = w[None]
    conv.forward(np.zeros((1, 1, 4, 4)))
    dx = conv.backward(g[None, None])[0, 0]
    # the four windows each add g[r, q] W[1 - r, 1 - q] to dx[1, 1]
    terms = [g[r, q] * w[0, 1 - r, 1 - q] for r in (0, 1) for q in (0, 1)]
    assert terms == [1.0, -4.0, 6.0, 2.0] and sum(terms) == dx[1, 1] == 5.0
    assert "$dx[1, 1]$ = 1 + (-4) + 6 + 2 = 5" in texts(ax)
    assert cell_numbers(ax)[-16:] == dx.ravel().tolist()     # dx = col2im(dcol), as Conv2d
    names = texts(ax)
    assert r"$W_{\mathrm{col}}^\top$" in names and r"$G_{\mathrm{mat}}$" in names
    assert any(t.startswith(r"$d\mathrm{col} = G_{\mathrm{mat}}") for t in names)
    # each window: its dcol entry and its outline on dx; a corner pixel has one window
    assert len(outlines(ax)) == 2 * 4
    assert len(outlines(plot_col2im(g, w, pixel=(0, 0)))) == 2 * 1
    two = plot_col2im(g, np.concatenate([w, -w]), pixel=(3, 3), channel=1)
    assert "$dx[3, 3]$ = (-6) = -6" in texts(two)


def test_im2col_diagrams_reject_bad_arguments(plt):
    from dlbook.plot.im2col_diagram import plot_col2im, plot_im2col
    x, w = np.zeros((1, 4, 4)), np.zeros((1, 3, 3))
    with pytest.raises(ValueError, match=r"plot_im2col expected a window that fits the input: "
                                         r"kernel \(3, 3\) for input \(2, 2\)"):
        plot_im2col(np.zeros((1, 2, 2)), w)
    with pytest.raises(ValueError, match=r"plot_im2col expected x to be a non-empty numeric "
                                         r"array of shape \(C, H, W\)"):
        plot_im2col(np.zeros((4, 4)), w)
    with pytest.raises(ValueError, match=r"plot_im2col expected weight with C = 1 channels"):
        plot_im2col(x, np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"plot_im2col expected position \(r, q\) inside"):
        plot_im2col(x, w, position=(2, 0))
    with pytest.raises(ValueError, match=r"plot_im2col expected position \(r, q\) to be a pair"):
        plot_im2col(x, w, position=3)
    with pytest.raises(ValueError, match=r"plot_col2im expected dout to be a non-empty"):
        plot_col2im(np.zeros(4), w)
    with pytest.raises(ValueError, match=r"plot_col2im expected pixel \(a, b\) inside \(4, 4\)"):
        plot_col2im(np.zeros((2, 2)), w, pixel=(4, 0))
    with pytest.raises(ValueError, match=r"plot_col2im expected channel to be an int in \[0, 1\)"):
        plot_col2im(np.zeros((2, 2)), w, channel=1)


def test_plot_cbow_skipgram_uses_the_sentence_and_the_chapter_notation(plt):
    from dlbook.plot.word2vec_diagram import context_window, plot_cbow_skipgram
    words = ["the", "king", "wore", "the", "crown"]
    assert context_window(words, 2, 2) == [0, 1, 3, 4]
    assert context_window(words, 0, 1) == [1]
    _, ax = plt.subplots()
    assert plot_cbow_skipgram(words, centre=2, window=2, ax=ax) is ax
    names = texts(ax)
    # CBOW: four context words in, the centre out; skip-gram: the centre in, four words out
    assert names.count("the") == 4 and names.count("king") == 2 and names.count("wore") == 2
    for label in (r"$w_{t-2}$", r"$w_{t+2}$", r"$\mathbf{v}_{w_{t-1}}$", r"$\mathbf{v}_c$",
                  r"$p(w_t \mid \mathcal{C}_t)$", r"$p(o \mid c)$", r"$o = w_{t+1}$",
                  r"softmax$(W_{\mathrm{out}}\,\mathbf{h}_t)$", r"row of $W_{\mathrm{in}}$"):
        assert label in names
    assert any(t.startswith(r"$\mathbf{h}_t = ") for t in names)
    # a window cut short by the sentence's start: one context word on each side
    names = texts(plot_cbow_skipgram(words, centre=0, window=1))
    assert r"$o = w_{t+1}$" in names and r"$w_{t-1}$" not in names


def test_plot_cbow_skipgram_rejects_bad_arguments(plt):
    from dlbook.plot.word2vec_diagram import plot_cbow_skipgram
    with pytest.raises(ValueError, match="context_window expected centre to index one of the 2"):
        plot_cbow_skipgram(["a", "b"], centre=2)
    with pytest.raises(ValueError, match="context_window expected window to be an int >= 1"):
        plot_cbow_skipgram(["a", "b"], centre=0, window=0)
    with pytest.raises(ValueError, match="context_window expected at least two non-empty"):
        plot_cbow_skipgram(["a"], centre=0)


def test_plot_lstm_cell_labels_every_gate_in_the_chapter_notation(plt):
    from dlbook.plot.cell_diagrams import plot_lstm_cell
    _, ax = plt.subplots()
    assert plot_lstm_cell(ax=ax, title="LSTM") is ax and ax.get_title() == "LSTM"
    names = texts(ax)
    for label in ("$c_{t-1}$", "$h_{t-1}$", "$x_t$", "$c_t$", "$h_t$", "$f_t$", "$i_t$",
                  "$g_t$", "$o_t$", r"$i_t \odot g_t$"):
        assert label in names
    assert names.count(r"$\sigma$") == 3 and names.count("tanh") == 2
    # products f * c, i * g, o * tanh(c) and the sum on the cell path
    assert names.count(r"$\odot$") == 3 and names.count("+") == 1
    assert len(circles(ax)) == 4
    assert any("x_t W_x + h_{t-1} W_h + b" in t for t in names)


def test_plot_gru_cell_labels_reset_update_and_candidate(plt):
    from dlbook.plot.cell_diagrams import plot_gru_cell
    ax = plot_gru_cell()
    names = texts(ax)
    for label in ("$h_{t-1}$", "$x_t$", "$h_t$", "$r_t$", "$z_t$", "$n_t$", "$g^h_n$", "$g^x_n$",
                  "$g^x_r + g^h_r$", "$g^x_z + g^h_z$", "$1-$", "$1 - z_t$"):
        assert label in names
    assert names.count(r"$\sigma$") == 2 and names.count("tanh") == 1
    # r * g^h_n, (1 - z) * n, z * h_{t-1}; the sum inside tanh and the final mix
    assert names.count(r"$\odot$") == 3 and names.count("+") == 2
    assert len(circles(ax)) == 5
    assert any("g^x = x_t W_x + b_x" in t and "g^h = h_{t-1} W_h + b_h" in t for t in names)


@pytest.mark.parametrize("steps", [1, 3, 5])
def test_plot_unrolled_lstm_has_one_product_and_one_sum_per_step_on_the_highway(plt, steps):
    from dlbook.plot.cell_diagrams import plot_unrolled_lstm
    ax = plot_unrolled_lstm(steps)
    names = texts(ax)
    assert names.count(r"$\odot$") == steps and names.count("+") == steps
    assert len(circles(ax)) == 2 * steps
    for t in range(1, steps + 1):
        for label in (f"$x_{t}$", f"$f_{t}$", rf"$i_{t} \odot g_{t}$", f"$c_{t - 1}$",
                      f"$h_{t - 1}$"):
            assert label in names
    assert f"$c_{steps}$" in names and f"$h_{steps}$" in names
    gradient = [t for t in names if t.startswith("gradient along the cell state")]
    assert len(gradient) == 1 and rf"\partial c_{steps} / \partial c_0" in gradient[0]
    assert ("f_1 \\odot f_2 \\odot f_3" in gradient[0]) == (steps == 3)


def test_plot_unrolled_lstm_rejects_bad_steps(plt):
    from dlbook.plot.cell_diagrams import plot_unrolled_lstm
    for bad in (0, -2, 2.0, True):
        with pytest.raises(ValueError, match="plot_unrolled_lstm expected steps to be an int >= 1"):
            plot_unrolled_lstm(bad)
