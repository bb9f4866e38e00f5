"""Architecture diagrams: residual block, encoder-decoder, attention step, Transformer block (chapters 10, 16-18).

Boxes are :class:`~matplotlib.patches.FancyBboxPatch` (or a
:class:`~matplotlib.patches.Circle` for a residual add), arrows are
:class:`~matplotlib.patches.FancyArrowPatch`, so a figure's parts can be
counted from ``ax.patches``. Every helper draws into ``ax`` when given one and
otherwise creates a new figure, then returns the axes. Nothing here changes
global matplotlib settings.
"""

from __future__ import annotations

from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from dlbook.plot.basic import _axes

ENCODER_COLOR = "#e8f0fa"
"""Fill of the encoder's boxes (and of attention sublayers)."""

DECODER_COLOR = "#fdeede"
"""Fill of the decoder's boxes (and of feed-forward sublayers)."""

CONTEXT_COLOR = "tab:red"
"""Edge and arrow colour of the context vector and everything it feeds."""

NORM_COLOR = "#eaf5e4"
"""Fill of the LayerNorm boxes."""


def _box(ax, centre, label, width=0.8, height=0.7, color=ENCODER_COLOR, edge="k", fontsize=10):
    x, y = centre
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.03", facecolor=color, edgecolor=edge,
                                linewidth=1.2, zorder=2))
    ax.text(x, y, label, ha="center", va="center", fontsize=fontsize, zorder=3)


def _arrow(ax, start, end, color="k", rad=0.0, ls="-"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, color=color,
                                 linewidth=1.2, linestyle=ls, shrinkA=0, shrinkB=0, zorder=1,
                                 connectionstyle=f"arc3,rad={rad}"))


def _label(ax, xy, text, fontsize=11, color="k", **kwargs):
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, color=color, **kwargs)


def _finish(ax, xlim, ylim, title):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def _tokens(name, arg, value):
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} expected {arg} to be a non-empty string; got {value!r}")
    return list(value)


def plot_seq2seq(peeky: bool = False, ax=None, source: str = "57+6", target: str = "63",
                 title: str | None = None):
    """An encoder-decoder unrolled: encoder LSTM, context vector c, teacher-forced decoder.

    Shapes: one box per source character (len(source) encoder steps) and one
    per decoder step (len(target) + 1: inputs ``<bos>`` y_1 .. y_K, labels
    y_1 .. y_K ``<eos>``). The encoder's last state is c, the decoder's h_0.
    With ``peeky=True``, c also feeds every decoder step and every output layer
    (red arrows), eq. (eq-ch16-peeky). Returns the axes (chapter 16).
    """
    src = _tokens("plot_seq2seq", "source", source)
    tgt = _tokens("plot_seq2seq", "target", target)
    if not isinstance(peeky, bool):
        raise ValueError(f"plot_seq2seq expected peeky to be True or False; got {peeky!r}")
    ax = _axes(ax)
    S, T, gap, half = len(src), len(tgt) + 1, 1.4, 0.45
    for s, ch in enumerate(src):
        x = s * gap
        _box(ax, (x, 0), "LSTM", width=0.9)
        _label(ax, (x, -1.5), f"'{ch}'")
        _arrow(ax, (x, -1.25), (x, -0.35))
        if s > 0:
            _arrow(ax, (x - gap + half, 0), (x - half, 0))
    cx = S * gap
    _box(ax, (cx, 0), r"$c$", width=0.55, height=0.55, color="white", edge=CONTEXT_COLOR,
         fontsize=12)
    _arrow(ax, ((S - 1) * gap + half, 0), (cx - 0.3, 0))
    first = cx + gap
    inputs, labels = ["<bos>"] + tgt, tgt + ["<eos>"]
    for t in range(T):
        x = first + t * gap
        _box(ax, (x, 0), "LSTM", width=0.9, color=DECODER_COLOR)
        _box(ax, (x, 1.4), "Linear", width=0.9, height=0.5, color=DECODER_COLOR, fontsize=9)
        _label(ax, (x, -1.5), f"'{inputs[t]}'" if t else inputs[t], fontsize=10)
        _label(ax, (x, 2.55), f"'{labels[t]}'" if t < T - 1 else labels[t], fontsize=10)
        _arrow(ax, (x, -1.25), (x, -0.35))
        _arrow(ax, (x, 0.35), (x, 1.15))
        _arrow(ax, (x, 1.65), (x, 2.3))
        start = (cx + 0.3, 0) if t == 0 else (x - gap + half, 0)
        _arrow(ax, start, (x - half, 0), color=CONTEXT_COLOR if t == 0 else "k")
        if peeky:
            _arrow(ax, (cx + 0.1, -0.3), (x - 0.25, -0.35), color=CONTEXT_COLOR, rad=0.25)
            _arrow(ax, (cx + 0.2, 0.3), (x - 0.3, 1.15), color=CONTEXT_COLOR)
    _label(ax, ((S - 1) * gap / 2, -2.1), "encoder", fontsize=11, style="italic")
    _label(ax, (first + (T - 1) * gap / 2, -2.1), "decoder (teacher-forced inputs)",
           fontsize=11, style="italic")
    _label(ax, (first + (T - 1) * gap / 2, 3.05), "labels", fontsize=10, color="0.4")
    return _finish(ax, (-0.8, first + (T - 1) * gap + 0.8), (-2.5, 3.4), title)


def plot_attention_decoder(source_len: int = 4, ax=None, title: str | None = None):
    """One step t of the attention decoder: query, scores, softmax weights, context, output.

    Shapes: ``source_len`` = S >= 1 encoder states h^enc_s (keys and values).
    The decoder state h_t (from h_{t-1} and the input y_{t-1}) is the query;
    its dot product with every h^enc_s gives a score e_{t,s}; a softmax over s
    gives the weights a_{t,s}; the context c_t is the weighted sum of the
    encoder states; [c_t; h_t] feeds the output layer. Eq.
    (eq-ch17-attention-decoder). Returns the axes (chapter 17).
    """
    if isinstance(source_len, bool) or not isinstance(source_len, int) or source_len < 1:
        raise ValueError(f"plot_attention_decoder expected source_len to be an int >= 1; "
                         f"got {source_len!r}")
    ax = _axes(ax)
    S, gap = source_len, 1.2
    hx = S * gap + 1.0  # the decoder state's column
    mid = (S - 1) * gap / 2
    _box(ax, (hx, 0), r"$h_t$", color=DECODER_COLOR, fontsize=12)
    _arrow(ax, (hx - 1.1, 0), (hx - 0.4, 0))
    _label(ax, (hx - 0.8, -0.3), r"$h_{t-1}$", fontsize=10)
    _arrow(ax, (hx, -1.05), (hx, -0.35))
    _label(ax, (hx, -1.3), r"$y_{t-1}$", fontsize=10)
    _box(ax, (mid, 5.0), r"$c_t = \sum_s a_{t,s} h^{enc}_s$", width=2.4, height=0.6,
         color="white", edge=CONTEXT_COLOR)
    _box(ax, (mid, 3.9), "softmax over $s$", width=max(2.4, (S - 1) * gap + 0.8), height=0.5,
         color="white")
    for s in range(S):
        x = s * gap
        _box(ax, (x, 0), rf"$h^{{enc}}_{{{s + 1}}}$", color=ENCODER_COLOR, fontsize=11)
        _box(ax, (x, 2.2), rf"$e_{{t,{s + 1}}}$", width=0.7, height=0.5, color="white",
             fontsize=10)
        _arrow(ax, (x, 0.35), (x, 1.95))                                   # key
        _arrow(ax, (hx - 0.3, 0.35), (x + 0.3, 2.0), color="tab:blue", rad=0.15 if s < S - 1 else 0)
        _arrow(ax, (x, 2.45), (x, 3.65))                                   # score -> softmax
        _arrow(ax, (x - 0.25, 0.35), (mid - 1.0 + 2.0 * s / max(S - 1, 1), 4.7),
               color="0.6", ls="--", rad=0.0)                              # value
    _label(ax, (hx + 0.45, 1.2), "query", fontsize=9, color="tab:blue")
    _arrow(ax, (mid, 4.15), (mid, 4.7), color=CONTEXT_COLOR)
    _label(ax, (mid + 0.4, 4.42), r"$a_{t,s}$", fontsize=10, color=CONTEXT_COLOR)
    _box(ax, (hx, 5.0), r"$[c_t;\ h_t]$", width=1.2, height=0.6, color="white")
    _arrow(ax, (mid + 1.2, 5.0), (hx - 0.6, 5.0), color=CONTEXT_COLOR)
    _arrow(ax, (hx, 0.35), (hx, 4.7))
    _box(ax, (hx, 6.1), "Linear + softmax", width=2.4, height=0.55, color=DECODER_COLOR)
    _arrow(ax, (hx, 5.3), (hx, 5.83))
    _arrow(ax, (hx, 6.38), (hx, 6.9))
    _label(ax, (hx, 7.15), r"$p(y_t \mid y_{<t}, x)$", fontsize=10)
    _label(ax, (mid, -0.8), "encoder states (keys = values)", fontsize=10, style="italic")
    return _finish(ax, (-0.9, hx + 1.5), (-1.6, 7.5), title)


_SUBLAYERS = {
    "encoder": [("Multi-head\nself-attention", ENCODER_COLOR)],
    "decoder": [("Masked multi-head\nself-attention", ENCODER_COLOR),
                ("Multi-head\ncross-attention", ENCODER_COLOR)],
}


def _add(ax, centre):
    ax.add_patch(Circle(centre, 0.17, facecolor="white", edgecolor="k", linewidth=1.2, zorder=2))
    _label(ax, centre, "+", fontsize=12, zorder=3)


def plot_transformer_block(kind: str = "encoder", norm_first: bool = False, ax=None,
                           title: str | None = None):
    """One Transformer block, bottom to top, as :class:`dlbook.layers.transformer.TransformerEncoderLayer` computes it.

    Shapes: input and output (N, T, E). ``kind="encoder"``: self-attention
    and feed-forward; ``kind="decoder"``: masked (causal) self-attention,
    cross-attention with keys and values from the encoder's memory (N, S, E),
    feed-forward. Each sublayer f sits in a residual add (a circle) with a
    LayerNorm after the add (``norm_first=False``, post-norm) or before f
    (``norm_first=True``, pre-norm), eq. (eq-ch18-norms). Returns the axes
    (chapter 18).
    """
    if kind not in _SUBLAYERS:
        raise ValueError(f"plot_transformer_block expected kind 'encoder' or 'decoder'; "
                         f"got {kind!r}")
    if not isinstance(norm_first, bool):
        raise ValueError(f"plot_transformer_block expected norm_first to be True or False; "
                         f"got {norm_first!r}")
    ax = _axes(ax)
    sublayers = _SUBLAYERS[kind] + [("Feed-forward\nLinear, ReLU, Linear", DECODER_COLOR)]
    width, skip_x = 2.4, 1.75
    _label(ax, (0, -0.55), r"$x$: (N, T, E)", fontsize=10)
    y = -0.3
    for name, color in sublayers:
        branch = y + 0.3
        ax.plot([0, skip_x, skip_x], [branch, branch, branch + 0.01], color="k", lw=1.2, zorder=1)
        order = ["norm", "f"] if norm_first else ["f"]
        for part in order:
            _arrow(ax, (0, y), (0, y + 0.6))
            y += 0.6
            if part == "norm":
                _box(ax, (0, y + 0.25), "LayerNorm", width=width, height=0.5, color=NORM_COLOR)
                y += 0.5
            else:
                _box(ax, (0, y + 0.4), name, width=width, height=0.8, color=color, fontsize=9)
                if name.endswith("cross-attention"):
                    _arrow(ax, (-width / 2 - 1.0, y + 0.4), (-width / 2 - 0.05, y + 0.4),
                           color=CONTEXT_COLOR)
                    _label(ax, (-width / 2 - 1.05, y + 0.95), "memory\n(keys, values)",
                           fontsize=8, color=CONTEXT_COLOR)
                y += 0.8
        _arrow(ax, (0, y), (0, y + 0.43))
        _add(ax, (0, y + 0.6))
        ax.plot([skip_x, skip_x], [branch, y + 0.6], color="k", lw=1.2, zorder=1)
        _arrow(ax, (skip_x, y + 0.6), (0.17, y + 0.6))
        y += 0.77
        if not norm_first:
            _arrow(ax, (0, y), (0, y + 0.4))
            _box(ax, (0, y + 0.65), "LayerNorm", width=width, height=0.5, color=NORM_COLOR)
            y += 0.9
    _arrow(ax, (0, y), (0, y + 0.5))
    _label(ax, (0, y + 0.75), "output: (N, T, E)", fontsize=10)
    if title is None:
        title = f"{kind} block, {'pre' if norm_first else 'post'}-norm"
    return _finish(ax, (-width / 2 - 1.9, skip_x + 0.5), (-0.9, y + 1.05), title)


def plot_residual_block(projection: bool = False, ax=None, title: str | None = None):
    """One residual block, bottom to top, as :class:`dlbook.layers.residual.ResidualBlock` computes it.

    Shapes: x (N, C_in, H, W) -> y (N, C_out, H_out, W_out). The main path is
    F(x) = BN_2(W_2 * ReLU(BN_1(W_1 * x))), two 3x3 convolutions; the shortcut
    is the identity (``projection=False``) or, where the block changes the
    channels or the side (stride s), a 1x1 convolution W_s with stride s and a
    BatchNorm (``projection=True``). The two meet in an add (a circle), and the
    ReLU comes after the sum: y = ReLU(F(x) + x), eq. (eq-ch10-residual).
    Returns the axes (chapter 10).
    """
    if not isinstance(projection, bool):
        raise TypeError(f"plot_residual_block expected projection to be True or False; "
                        f"got {projection!r}")
    ax = _axes(ax)
    width, height, gap, skip_x = 2.3, 0.5, 0.35, 2.5
    stride = r" (stride $s$)" if projection else ""
    main = [(rf"3$\times$3 conv $W_1${stride}", ENCODER_COLOR), (r"BN$_1$", NORM_COLOR),
            ("ReLU", DECODER_COLOR), (r"3$\times$3 conv $W_2$", ENCODER_COLOR),
            (r"BN$_2$", NORM_COLOR)]
    _label(ax, (0, -0.55), r"$x$", fontsize=12)
    y = -0.3
    ax.plot([0, skip_x], [y, y], color="k", lw=1.2, zorder=1)  # x goes both ways
    for name, color in main:
        _arrow(ax, (0, y), (0, y + gap))
        _box(ax, (0, y + gap + height / 2), name, width=width, height=height, color=color,
             fontsize=9)
        y += gap + height
    add_y = y + 0.6
    _arrow(ax, (0, y), (0, add_y - 0.17))
    ax.text(-0.12, y + 0.2, r"$F(x)$", ha="right", va="center", fontsize=10)
    _add(ax, (0, add_y))
    if projection:
        shortcut = r"BN$(W_s * x)$"
        top = -0.3
        for name, color in [("1$\\times$1 conv $W_s$\n(stride $s$)", ENCODER_COLOR),
                            ("BN", NORM_COLOR)]:
            _arrow(ax, (skip_x, top), (skip_x, top + gap))
            _box(ax, (skip_x, top + gap + 0.35), name, width=1.6, height=0.7, color=color,
                 fontsize=9)
            top += gap + 0.7
    else:
        shortcut, top = r"$x$", -0.3
    ax.plot([skip_x, skip_x], [top, add_y], color="k", lw=1.2, zorder=1)
    _label(ax, (skip_x + 0.25, (top + add_y) / 2), "projection" if projection else "identity",
           fontsize=9, color="0.35", rotation=90)
    _arrow(ax, (skip_x, add_y), (0.17, add_y))
    _label(ax, ((skip_x + 0.17) / 2, add_y + 0.22), shortcut, fontsize=10)
    total = r"$F(x) + $BN$(W_s * x)$" if projection else r"$F(x) + x$"
    _arrow(ax, (0, add_y + 0.17), (0, add_y + 0.6))
    ax.text(-0.12, add_y + 0.38, total, ha="right", va="center", fontsize=10)
    _box(ax, (0, add_y + 0.6 + height / 2), "ReLU", width=width, height=height,
         color=DECODER_COLOR, fontsize=9)
    y = add_y + 0.6 + height
    _arrow(ax, (0, y), (0, y + 0.45))
    _label(ax, (0, y + 0.7), r"$y = \mathrm{ReLU}($" + total + "$)$", fontsize=11)
    if title is None:
        title = f"residual block, {'projection' if projection else 'identity'} shortcut"
    return _finish(ax, (-width / 2 - 1.9, skip_x + 1.0), (-0.9, y + 1.0), title)
