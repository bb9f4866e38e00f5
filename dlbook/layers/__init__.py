"""Layers with a forward and a backward pass, following one protocol (chapters 5 and 8).

Every layer has ``params`` and ``grads`` (dicts of arrays with the same keys),
``forward(x)``, ``backward(dout)`` (accumulates into ``grads``, returns dx),
``zero_grad()``, ``train()`` / ``eval()`` and ``parameters()``; see
:mod:`dlbook.layers.base`. Class names follow ``torch.nn``::

    from dlbook.layers import Linear, ReLU, Sequential, CrossEntropyLoss
    net = Sequential(Linear(4, 16, rng=0), ReLU(), Linear(16, 3, rng=1))
"""

from dlbook.layers.activation import ReLU, Sigmoid, Tanh
from dlbook.layers.attention import (ScaledDotProductAttention, causal_mask, masked_softmax,
                                     scaled_dot_product_attention, scaled_dot_product_attention_backward)
from dlbook.layers.base import Layer, eval_mode
from dlbook.layers.container import LayerList, Sequential
from dlbook.layers.conv import Conv2d
from dlbook.layers.conv1d import Conv1d
from dlbook.layers.conv_transpose import ConvTranspose2d
from dlbook.layers.dropout import Dropout
from dlbook.layers.embedding import Embedding, EmbeddingBag, MeanPool, TiedLinear
from dlbook.layers.gru import GRU, gru_step, gru_step_backward
from dlbook.layers.linear import Linear
from dlbook.layers.lstm import LSTM, lstm_step, lstm_step_backward
from dlbook.layers.multihead import MultiheadAttention
from dlbook.layers.loss import CrossEntropyLoss, MSELoss
from dlbook.layers.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from dlbook.layers.positional import PositionalEncoding, sinusoidal_positional_encoding
from dlbook.layers.pool import AvgPool2d, MaxPool2d
from dlbook.layers.pool1d import GlobalMaxPool1d, MaxPool1d, Transpose
from dlbook.layers.reshape import Flatten
from dlbook.layers.rnn import RNN, rnn_step, rnn_step_backward
from dlbook.layers.seq_loss import SequenceCrossEntropyLoss
from dlbook.layers.transformer import FeedForward, TransformerDecoderLayer, TransformerEncoderLayer
from dlbook.layers.unpool import MaxUnpool2d
from dlbook.layers.upsample import Upsample

__all__ = [
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout", "Embedding", "FeedForward", "MultiheadAttention", "PositionalEncoding",
    "ScaledDotProductAttention", "TransformerDecoderLayer", "TransformerEncoderLayer",
    "EmbeddingBag", "Flatten", "GlobalMaxPool1d", "GRU", "Layer", "LayerList", "LayerNorm", "Linear", "LSTM",
    "MaxPool1d", "MaxPool2d", "MaxUnpool2d", "MeanPool", "MSELoss", "ReLU", "RNN", "SequenceCrossEntropyLoss",
    "Sequential", "Sigmoid", "Tanh", "TiedLinear", "Transpose", "Upsample", "eval_mode",
]
