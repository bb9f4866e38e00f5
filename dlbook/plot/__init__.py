"""Plotting helpers for the chapters (the only part of dlbook that imports matplotlib).

Every helper draws into ``ax`` when given one and otherwise creates a new
figure, then returns the axes, so figures can be composed. Nothing here
changes global matplotlib settings.

* :mod:`dlbook.plot.basic`: scatter plots, decision regions, curves, images, training histories;
* :mod:`dlbook.plot.graphs`: computational graphs (chapters 5 and 6);
* :mod:`dlbook.plot.optim`: optimizer paths over contour lines (chapter 7);
* :mod:`dlbook.plot.conv`: sliding windows and signed maps (chapter 9);
* :mod:`dlbook.plot.cnn`: filters, feature maps and saliency overlays (chapter 11);
* :mod:`dlbook.plot.wordvec`: word vectors projected to 2-D (chapter 13);
* :mod:`dlbook.plot.sequence`: unrolled RNNs and gradient norms over time (chapters 14-15);
* :mod:`dlbook.plot.attention`: attention heat maps (chapters 17-18);
* :mod:`dlbook.plot.diagrams`: encoder–decoder, attention-decoder and Transformer-block diagrams (chapters 16-18);
* :mod:`dlbook.plot.generative`: digit grids, reconstructions, class histograms (chapters 19-20);
* :mod:`dlbook.plot.rl`: return curves over seeds (chapter 21);
* :mod:`dlbook.plot.landscape`: 2-D loss slices on a shared colour scale (chapter 10).
"""

from dlbook.plot.basic import (
    GRID_STEPS,
    PADDING,
    plot_curves,
    plot_decision_boundary,
    plot_function,
    plot_history,
    plot_images,
    plot_linear_boundary,
    scatter_classes,
)
from dlbook.plot.cnn import plot_feature_maps, plot_filters, plot_saliency
from dlbook.plot.conv import plot_conv_step, plot_grid, plot_signed_maps
from dlbook.plot.graphs import GRAPH_BOX, plot_backprop_graph, plot_graph
from dlbook.plot.optim import PATH_STYLES, plot_contour_paths
from dlbook.plot.wordvec import plot_word_vectors, project_2d
from dlbook.plot.attention import plot_attention
from dlbook.plot.diagrams import plot_attention_decoder, plot_seq2seq, plot_transformer_block
from dlbook.plot.generative import plot_class_histogram, plot_digit_grid, plot_reconstructions, tile_images
from dlbook.plot.rl import plot_returns
from dlbook.plot.sequence import plot_grad_norms, plot_unrolled_rnn
from dlbook.plot.landscape import LANDSCAPE_LEVELS, plot_loss_surfaces
from dlbook.plot.diagrams import plot_residual_block
from dlbook.plot.im2col_diagram import plot_col2im, plot_im2col
from dlbook.plot.word2vec_diagram import plot_cbow_skipgram
from dlbook.plot.cell_diagrams import plot_gru_cell, plot_lstm_cell, plot_unrolled_lstm

__all__ = [
    "GRID_STEPS", "PADDING", "GRAPH_BOX", "PATH_STYLES", "plot_backprop_graph", "plot_contour_paths",
    "plot_curves", "plot_decision_boundary", "plot_function", "plot_graph", "plot_history",
    "plot_images", "plot_linear_boundary", "scatter_classes", "plot_conv_step", "plot_grid",
    "plot_signed_maps", "plot_feature_maps", "plot_filters", "plot_saliency",
    "plot_word_vectors", "project_2d", "plot_attention", "plot_class_histogram", "plot_digit_grid",
    "plot_reconstructions", "tile_images", "plot_returns", "plot_grad_norms", "plot_unrolled_rnn",
    "plot_attention_decoder", "plot_seq2seq", "plot_transformer_block",
    "LANDSCAPE_LEVELS", "plot_loss_surfaces", "plot_residual_block",
    "plot_im2col", "plot_col2im", "plot_cbow_skipgram", "plot_lstm_cell", "plot_gru_cell",
    "plot_unrolled_lstm",
]
