"""Tests of the chapter 16-18 architecture diagrams (dlbook.plot.diagrams)."""

import pytest


def parts(ax):
    """Boxes, arrows, residual adds (circles) and the texts of the drawn figure."""
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
    kinds = (FancyBboxPatch, FancyArrowPatch, Circle)
    return tuple([p for p in ax.patches if isinstance(p, k)] for k in kinds) + (
        [t.get_text() for t in ax.texts],)


def test_seq2seq_draws_one_cell_per_step_and_peeky_adds_two_arrows_per_decoder_step(plt):
    from dlbook.plot.diagrams import plot_seq2seq
    boxes, arrows, _, texts = parts(plot_seq2seq(source="57+6", target="63", title="s"))
    # 4 encoder cells, the context c, 3 decoder steps of (LSTM, Linear)
    assert len(boxes) == 4 + 1 + 2 * 3
    assert texts.count("LSTM") == 4 + 3 and texts.count("Linear") == 3
    # encoder: 4 inputs, 3 recurrent, 1 into c; decoder: input, state, output layer, token per step
    assert len(arrows) == 4 + 3 + 1 + 4 * 3
    assert ["'5'", "'7'", "'+'", "'6'"] == texts[1:8:2]          # the source characters
    assert {"<bos>", "'6'", "'3'", "<eos>"} <= set(texts)           # teacher-forced in, labels out
    _, peeky_arrows, _, peeky_texts = parts(plot_seq2seq(peeky=True, source="57+6", target="63"))
    assert len(peeky_arrows) - len(arrows) == 2 * 3                # c into every step and output
    assert peeky_texts == texts
    _, ax = plt.subplots()
    assert plot_seq2seq(ax=ax) is ax and ax.get_title() == ""


def test_attention_decoder_scores_every_encoder_state(plt):
    from dlbook.plot.diagrams import plot_attention_decoder
    for S in (1, 4):
        boxes, arrows, _, texts = parts(plot_attention_decoder(S))
        # S encoder states, S scores, then h_t, softmax, c_t, [c_t; h_t], output layer
        assert len(boxes) == 2 * S + 5
        # per state: key, query, score -> softmax, value; 7 arrows around the decoder state
        assert len(arrows) == 4 * S + 7
        assert sum(t.startswith("$h^{enc}_") for t in texts) == S
        assert sum(t.startswith("$e_{t,") for t in texts) == S
        assert "softmax over $s$" in texts and "query" in texts


def test_transformer_block_sublayers_and_norm_placement(plt):
    from dlbook.plot.diagrams import plot_transformer_block

    def bottom_to_top(ax):
        names = [t.get_text() for t in sorted(ax.texts, key=lambda t: t.get_position()[1])]
        return [name.split("\n")[-1] for name in names  # the sublayers, adds and norms
                if name in ("+", "LayerNorm") or "\n" in name and "memory" not in name]

    ax = plot_transformer_block("encoder")
    boxes, arrows, adds, texts = parts(ax)
    assert (len(boxes), len(adds), len(arrows)) == (4, 2, 9)       # 2 sublayers, 2 norms, 2 adds
    assert ax.get_title() == "encoder block, post-norm"
    assert bottom_to_top(ax) == ["self-attention", "+", "LayerNorm",
                                 "Linear, ReLU, Linear", "+", "LayerNorm"]
    ax = plot_transformer_block("encoder", norm_first=True)
    assert bottom_to_top(ax) == ["LayerNorm", "self-attention", "+",
                                 "LayerNorm", "Linear, ReLU, Linear", "+"]
    ax = plot_transformer_block("decoder", title="d")
    boxes, arrows, adds, texts = parts(ax)
    assert (len(boxes), len(adds), len(arrows)) == (6, 3, 14)      # + cross-attention and memory
    assert "Masked multi-head\nself-attention" in texts and "Multi-head\ncross-attention" in texts
    assert "memory\n(keys, values)" in texts and ax.get_title() == "d"
    assert not any("cross" in t for t in parts(plot_transformer_block())[3])


def test_diagrams_reject_bad_arguments(plt):
    from dlbook.plot.diagrams import (plot_attention_decoder, plot_seq2seq,
                                      plot_transformer_block)
    with pytest.raises(ValueError, match="plot_seq2seq expected source to be a non-empty string"):
        plot_seq2seq(source="")
    with pytest.raises(ValueError, match="plot_seq2seq expected target"):
        plot_seq2seq(target=[1, 2])
    with pytest.raises(ValueError, match="plot_seq2seq expected peeky to be True or False"):
        plot_seq2seq(peeky="yes")
    with pytest.raises(ValueError, match="plot_attention_decoder expected source_len to be an int"):
        plot_attention_decoder(0)
    with pytest.raises(ValueError, match="plot_transformer_block expected kind 'encoder' or"):
        plot_transformer_block("gpt")
    with pytest.raises(ValueError, match="plot_transformer_block expected norm_first"):
        plot_transformer_block(norm_first=1)


def test_residual_block_main_path_shortcut_and_labels(plt):
    from dlbook.plot import plot_residual_block

    ax = plot_residual_block()
    boxes, arrows, adds, texts = parts(ax)
    # conv, BN, ReLU, conv, BN on the main path, the ReLU after the add; one add
    assert (len(boxes), len(adds), len(arrows)) == (6, 1, 9)
    assert texts.count("ReLU") == 2 and r"3$\times$3 conv $W_2$" in texts
    assert {"$x$", "$F(x)$", "$F(x) + x$", "identity"} <= set(texts)
    assert ax.get_title() == "residual block, identity shortcut"
    bottom_to_top = [t.get_text() for t in sorted(ax.texts, key=lambda t: t.get_position()[1])
                     if t.get_position()[0] == 0]
    assert bottom_to_top[1:] == [r"3$\times$3 conv $W_1$", "BN$_1$", "ReLU", r"3$\times$3 conv $W_2$",
                                 "BN$_2$", "+", "ReLU", r"$y = \mathrm{ReLU}($$F(x) + x$$)$"]
    ax = plot_residual_block(projection=True, title="p")
    boxes, arrows, adds, texts = parts(ax)
    assert (len(boxes), len(adds), len(arrows)) == (8, 1, 11)     # + 1x1 conv and BN on the shortcut
    assert "1$\\times$1 conv $W_s$\n(stride $s$)" in texts and "projection" in texts
    assert ax.get_title() == "p"
    with pytest.raises(TypeError, match="plot_residual_block expected projection to be True or False"):
        plot_residual_block(projection="yes")
