"""Text as numbers: tokenizers, byte-pair encoding, a vocabulary and batching (chapter 12);
word vectors (chapter 13).

::

    from dlbook.text import Vocab, char_tokenize, pad_sequences, length_mask
    vocab = Vocab([char_tokenize(s) for s in ["cab", "bead"]])
    ids, lengths = pad_sequences([vocab.encode(char_tokenize(s)) for s in ["cab", "bead"]],
                                 pad_index=vocab.pad_index)
    mask = length_mask(lengths)
"""

from dlbook.text.cooccurrence import (analogy, cooccurrence_matrix, cosine_similarity, most_similar, pmi,
                                      ppmi, svd_embeddings, truncated_svd)
from dlbook.text.batching import length_mask, pad_sequences, stream_batches
from dlbook.text.bpe import BPETokenizer, learn_bpe, pretokenize
from dlbook.text.ngram import BigramLM, UnigramLM
from dlbook.text.tokenize import WORD_PATTERN, char_tokenize, word_tokenize
from dlbook.text.vocab import PAD, UNK, Vocab
from dlbook.text.word2vec import (CBOW, SkipGram, UnigramSampler, cbow_examples, skipgram_pairs,
                                  word2vec_batches, word2vec_step)

__all__ = ["PAD", "UNK", "Vocab", "WORD_PATTERN", "char_tokenize", "length_mask",
           "pad_sequences", "stream_batches", "word_tokenize",
           "BPETokenizer", "learn_bpe", "pretokenize",
           # chapter 13
           "analogy", "cooccurrence_matrix", "cosine_similarity", "most_similar", "pmi", "ppmi",
           "svd_embeddings", "truncated_svd", "CBOW", "SkipGram", "UnigramSampler", "cbow_examples",
           "skipgram_pairs", "word2vec_batches", "word2vec_step",
           # chapter 15
           "BigramLM", "UnigramLM"]
