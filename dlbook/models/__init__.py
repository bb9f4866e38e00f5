"""Assembled networks of the book, built from :mod:`dlbook.layers` (Part III on).

Part III builders return a :class:`dlbook.layers.Sequential`, so the model
trains with :func:`dlbook.train.fit` and any :mod:`dlbook.optim` optimizer.
The sequence models of Part IV (chapters 14-18) have the same ``parameters()``
/ ``zero_grad()`` interface with their own ``forward``/``backward``; Part V
(chapters 19-20) adds an autoencoder trained in PyTorch and a PyTorch GAN. The
PyTorch twins of all of them are in :mod:`dlbook.twins`.
Names that two modules share are left at module level (``dlbook.models.gan.generate``).
"""

from dlbook.models.attention_seq2seq import AttentionDecoder, AttentionSeq2Seq
from dlbook.models.autoencoder import (
    conv_autoencoder,
    encoder_decoder,
    train_autoencoder_torch,
)
from dlbook.models.bidirectional import Bidirectional
from dlbook.models.cells import CELLS, make_cell
from dlbook.models.cifar import (
    BatchNorm2d,
    cifar_net,
    train_cifar_torch,
)
from dlbook.models.gan import (
    GANRun,
    bce_with_logits,
    classify,
    discriminator_loss,
    gan_mlp,
    generator_loss,
    latent_vectors,
    train_digit_classifier,
    train_gan,
)
from dlbook.models.gpt import GPT
from dlbook.models.grad_flow import hidden_grad_norms, spectral_radius, with_spectral_radius
from dlbook.models.lenet import lenet5
from dlbook.models.lm_tools import (
    generate,
    lm_cross_entropy,
    lm_nll,
    next_token_probs,
    perplexity,
    sample_next,
)
from dlbook.models.model_check import check_model
from dlbook.models.receptive_field import ReceptiveField, receptive_field
from dlbook.models.rnnlm import LMBatches, RNNLM, TBPTTStep, TiedLinear, lm_batches
from dlbook.models.seq2seq import Decoder, Encoder, Seq2Seq, reverse_padded, source_lengths
from dlbook.models.seq2seq_train import (
    Seq2SeqHistory,
    exact_match_ids,
    fit_seq2seq,
    generate_batched,
    token_accuracies,
)
from dlbook.models.seq_classifier import RNNClassifier

__all__ = [
    # Part III
    "BatchNorm2d", "ReceptiveField", "cifar_net", "lenet5", "receptive_field",
    "train_cifar_torch",
    # chapters 14-15
    "Bidirectional", "CELLS", "LMBatches", "RNNClassifier", "RNNLM", "TBPTTStep", "TiedLinear", "lm_batches", "check_model",
    "generate", "hidden_grad_norms", "lm_cross_entropy", "lm_nll", "make_cell",
    "next_token_probs", "perplexity", "sample_next", "spectral_radius",
    "with_spectral_radius",
    # chapters 16-17
    "AttentionDecoder", "AttentionSeq2Seq", "Decoder", "Encoder", "Seq2Seq", "Seq2SeqHistory",
    "exact_match_ids", "fit_seq2seq", "generate_batched", "reverse_padded", "source_lengths",
    "token_accuracies",
    # chapter 18
    "GPT",
    # chapters 19-20
    "GANRun", "bce_with_logits", "classify", "conv_autoencoder",
    "discriminator_loss", "encoder_decoder", "gan_mlp", "generator_loss",
    "latent_vectors", "train_autoencoder_torch", "train_digit_classifier", "train_gan",
]
