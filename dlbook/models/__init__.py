"""The book's networks, numpy only: the chapter models of Parts I-II (``perceptron``,
``linear_models``, ``mlp``, ``numtrain``) and the networks assembled from
:mod:`dlbook.layers` from Part III on.

Part III builders return a :class:`dlbook.layers.Sequential`, so the model
trains with :func:`dlbook.train.fit` and any :mod:`dlbook.optim` optimizer.
The sequence models of Part IV (chapters 14-18) have the same ``parameters()``
/ ``zero_grad()`` interface with their own ``forward``/``backward``; The
PyTorch twins of all of them are in :mod:`dlbook.twins`; the loops that train
some of them in PyTorch are in :mod:`dlbook.torch_models`.
"""

from dlbook.models.attention_seq2seq import AttentionDecoder, AttentionSeq2Seq
from dlbook.models.autoencoder import conv_autoencoder, encoder_decoder
from dlbook.models.beam import BeamSearchResult, beam_search
from dlbook.models.bidirectional import Bidirectional
from dlbook.models.cells import CELLS, make_cell
from dlbook.models.cifar import cifar_net
from dlbook.models.gpt import GPT
from dlbook.models.lenet import lenet5
from dlbook.models.lm_tools import (
    generate,
    lm_cross_entropy,
    lm_nll,
    next_token_probs,
    perplexity,
    sample_next,
)
from dlbook.models.rnnlm import LMBatches, RNNLM, TBPTTStep, lm_batches
from dlbook.models.seq2seq import Decoder, Encoder, Seq2Seq, reverse_padded, source_lengths
from dlbook.models.seq2seq_train import (
    exact_match_ids,
    exact_match_on,
    generate_batched,
    seq2seq_step,
    token_accuracies,
)
from dlbook.models.seq_classifier import RNNClassifier
from dlbook.models.transformer_seq2seq import TransformerSeq2Seq

__all__ = [
    # Part III
    "cifar_net", "lenet5",
    # chapters 14-15
    "Bidirectional", "CELLS", "LMBatches", "RNNClassifier", "RNNLM", "TBPTTStep", "lm_batches",
    "generate", "lm_cross_entropy", "lm_nll", "make_cell", "next_token_probs", "perplexity",
    "sample_next",
    # chapters 16-17
    "AttentionDecoder", "AttentionSeq2Seq", "BeamSearchResult", "Decoder", "Encoder", "Seq2Seq",
    "beam_search", "exact_match_ids", "exact_match_on", "generate_batched", "reverse_padded",
    "seq2seq_step", "source_lengths", "token_accuracies",
    # chapter 18
    "GPT", "TransformerSeq2Seq",
    # chapter 19
    "conv_autoencoder", "encoder_decoder",
]
