"""Using a trained language model: held-out perplexity and text generation (chapter 15).

Perplexity is exp of the mean negative log-likelihood per predicted token,
exp(-(1/M) sum_t log p(x_{t+1} | x_{<=t})): the number of equally likely
choices that would leave the model as uncertain as it is. A model that
predicts uniformly over V tokens has perplexity V; a perfect one has 1.

Generation feeds the model its own predictions one token at a time. The
next token is the argmax (greedy decoding) or a sample from
softmax(z / temperature): a temperature below 1 sharpens the distribution
toward the argmax, above 1 flattens it toward uniform.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dlbook.layers.base import eval_mode
from dlbook._checks import check_hyper, check_non_negative_int, check_positive_int
from dlbook.functional import log_softmax
from dlbook.utils import make_rng

EVAL_SEQ_LEN = 64
"""Evaluation windows of 64 inputs, each from a zero state (the split of chapters 15 and 18)."""

EVAL_BATCH = 64
"""Windows evaluated together in one forward pass."""


def _check_stream(ids, min_len: int, where: str) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{where} expected integer token ids; got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size < min_len:
        raise ValueError(f"{where} expected a 1-D stream of at least {min_len} token ids; "
                         f"got shape {arr.shape}")
    return arr.astype(np.int64)


def lm_nll(model, ids: np.ndarray, seq_len: int = EVAL_SEQ_LEN,
           batch_size: int = EVAL_BATCH) -> np.ndarray:
    """-log p(ids[t+1] | window so far) for every predicted token, in nats.

    The stream is cut into consecutive windows x = ids[i:i+T], y = ids[i+1:i+T+1]
    for i = 0, T, 2T, ...; each window starts from a zero state, and the ragged
    tail that does not fill a window is dropped. The model runs in evaluation
    mode (no dropout); its training flag is restored afterwards.
    Shapes: ids (S,) -> (W, T) with W = (S - 1) // T windows.
    """
    T = check_positive_int(seq_len, "lm_nll", "seq_len")
    B = check_positive_int(batch_size, "lm_nll", "batch_size")
    ids = _check_stream(ids, T + 1, "lm_nll")
    W = (len(ids) - 1) // T
    X = ids[:W * T].reshape(W, T)  # window w = ids[w T : (w + 1) T]
    Y = ids[1:W * T + 1].reshape(W, T)  # its targets, shifted by one token
    nll = np.empty((W, T), dtype=np.float64)
    with eval_mode(model):
        for s in range(0, W, B):
            logp = log_softmax(model.forward(X[s:s + B]).astype(np.float64), axis=-1)  # (B, T, V)
            nll[s:s + B] = -np.take_along_axis(logp, Y[s:s + B, :, None], axis=-1)[..., 0]
    return nll


def lm_cross_entropy(model, ids: np.ndarray, seq_len: int = EVAL_SEQ_LEN,
                     batch_size: int = EVAL_BATCH) -> float:
    """Mean negative log-likelihood in nats per predicted token (see :func:`lm_nll`)."""
    return float(np.mean(lm_nll(model, ids, seq_len, batch_size)))


def perplexity(model, ids: np.ndarray, seq_len: int = EVAL_SEQ_LEN,
               batch_size: int = EVAL_BATCH) -> float:
    """exp(mean NLL) of the held-out stream ``ids`` (windows from a zero state). Shapes: (S,) -> float."""
    return float(np.exp(lm_cross_entropy(model, ids, seq_len, batch_size)))


def next_token_probs(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(z / temperature) in float64. Shapes: logits (V,) -> probabilities (V,)."""
    temperature = check_hyper(temperature, "next_token_probs", "temperature")
    if temperature == 0:
        raise ValueError("next_token_probs expected temperature > 0; got 0.0 "
                         "(use greedy=True for the limit temperature -> 0)")
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"next_token_probs expected logits of shape (V,); got shape {z.shape}")
    return np.exp(log_softmax(z / temperature, axis=0))


def sample_next(logits: np.ndarray, temperature: float = 1.0, greedy: bool = False,
                rng: int | np.random.Generator | None = None) -> int:
    """argmax(z) if ``greedy``, else a draw from softmax(z / temperature). Shapes: (V,) -> int."""
    z = np.asarray(logits)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"sample_next expected logits of shape (V,); got shape {z.shape}")
    if greedy:
        return int(np.argmax(z))
    p = next_token_probs(z, temperature)
    u = make_rng(rng, "sample_next").random()  # inverse CDF: one uniform number per draw
    return int(min(np.searchsorted(np.cumsum(p), u * p.sum(), side="right"), len(p) - 1))


def generate(model, vocab, prompt: str | Sequence[str], length: int, temperature: float = 1.0,
             greedy: bool = False, rng: int | np.random.Generator | None = None,
             sep: str = "") -> str:
    """Continue ``prompt`` by ``length`` tokens, feeding each prediction back in (chapter 15).

    ``model`` has ``forward(ids (N, T), state) -> logits (N, T, V)`` and
    ``state_n`` (as :class:`~dlbook.models.rnnlm.RNNLM`); ``vocab`` has
    ``encode`` and ``decode`` (:class:`dlbook.text.vocab.Vocab`). A str
    prompt is read character by character. The prompt is read once, then each
    new token is one step from the carried state. Returns the ``length`` new
    tokens joined by ``sep``; the model runs in evaluation mode.
    """
    tokens = list(prompt)
    if not tokens:
        raise ValueError("generate expected a prompt of at least one token (the first context)")
    length = check_non_negative_int(length, "generate", "length")
    rng = make_rng(rng, "generate")
    out: list[int] = []
    with eval_mode(model):
        logits = model.forward(vocab.encode(tokens)[None, :])  # (1, T, V): read the prompt
        for _ in range(length):
            out.append(sample_next(logits[0, -1], temperature, greedy, rng))
            logits = model.forward(np.array([[out[-1]]]), model.state_n)  # one more step
    return sep.join(vocab.decode(np.array(out, dtype=np.int64)))
