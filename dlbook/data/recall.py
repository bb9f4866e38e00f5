"""Associative recall: key-value pairs, then a query key; the answer is its value (chapter 18).

A sequence holds n pairs with distinct keys (letters) and values (digits),
then a query: one of the n keys again; the target is the value that went
with that key. Nothing about the answer is in the order or the position of
the pairs, so a model must *store* every pair and look one up by its key: a
test of memory that a recurrent state finds harder the more pairs it holds,
and that attention does in one step (Ba et al., 2016, used the task for fast
weights). The number of pairs is the length knob. Two layouts:

* ``layout="pair"`` (the default): one token per pair, ``c7 a2 f9 ?a``,
  n + 1 tokens; the query token ``?a`` names the key;
* ``layout="interleaved"``: a key token then a value token, ``c 7 a 2 f 9 ? a``,
  2 n + 2 tokens. A causal Transformer must then first copy each key into
  the position of its value (a "previous token" head) before the query can
  find it (an *induction head*), which takes far more training.

One id space serves both layouts: 0 padding (reserved), 1 ``?``, the
``n_keys`` keys, the ``n_values`` values, the ``n_keys * n_values`` pair
tokens, the ``n_keys`` query tokens. Targets are value ids in both. Everything
is drawn from an explicit ``rng``; no data is downloaded.
"""

from __future__ import annotations

import string

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.utils import make_rng

PAD, QUERY = 0, 1
"""Ids of the padding token and of the query marker ``?``."""
FIRST_KEY = 2
"""Keys have ids FIRST_KEY .. FIRST_KEY + n_keys - 1; values, pairs and query tokens follow."""
KEY_CHARS, VALUE_CHARS = string.ascii_lowercase, string.digits + string.ascii_uppercase
"""How keys and values are written by :func:`recall_tokens` (so n_keys <= 26, n_values <= 36)."""
LAYOUTS = ("pair", "interleaved")


def recall_vocab_size(n_keys: int = 26, n_values: int = 10) -> int:
    """V = 2 + n_keys + n_values + n_keys n_values + n_keys (see the module docstring). Chapter 18."""
    return FIRST_KEY + n_keys + n_values + n_keys * n_values + n_keys


def _bases(n_keys: int, n_values: int) -> tuple[int, int, int]:
    """First ids of the values, the pair tokens and the query tokens."""
    value0 = FIRST_KEY + n_keys
    pair0 = value0 + n_values
    return value0, pair0, pair0 + n_keys * n_values


def _check(n_pairs: int, n_keys: int, n_values: int, where: str) -> None:
    check_positive_int(n_pairs, where, "n_pairs")
    check_positive_int(n_keys, where, "n_keys")
    check_positive_int(n_values, where, "n_values")
    if n_pairs > n_keys:
        raise ValueError(f"{where} expected n_pairs <= n_keys (the keys of a sequence are "
                         f"distinct); got n_pairs={n_pairs}, n_keys={n_keys}")
    if n_keys > len(KEY_CHARS) or n_values > len(VALUE_CHARS):
        raise ValueError(f"{where} expected n_keys <= {len(KEY_CHARS)} and n_values <= "
                         f"{len(VALUE_CHARS)}; got n_keys={n_keys}, n_values={n_values}")


def associative_recall(n: int, n_pairs: int, n_keys: int = 26, n_values: int = 10,
                       layout: str = "pair", rng: int | np.random.Generator | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """n sequences of p = n_pairs key-value pairs and a query key, and the queried values.

    Shapes: -> tokens (n, p + 1) (``layout="pair"``: ``(k_1,v_1) ... (k_p,v_p) ?k_q``)
    or (n, 2 p + 2) (``"interleaved"``: ``k_1 v_1 ... k_p v_p ? k_q``) int64, and
    targets (n,) int64, the value ids v_q. Keys within a sequence are distinct,
    drawn without replacement from ``n_keys``; values uniformly (with repeats)
    from ``n_values``; the queried pair uniformly among the p. Chapter 18.
    """
    n = check_positive_int(n, "associative_recall", "n")
    _check(n_pairs, n_keys, n_values, "associative_recall")
    if layout not in LAYOUTS:
        raise ValueError(f"associative_recall expected layout in {LAYOUTS}; got {layout!r}")
    gen = make_rng(rng, "associative_recall")
    value0, pair0, query0 = _bases(n_keys, n_values)
    k = np.argsort(gen.random((n, n_keys)), axis=1)[:, :n_pairs]  # (n, p) distinct key indices
    v = gen.integers(0, n_values, size=(n, n_pairs))  # (n, p) value indices
    q = gen.integers(0, n_pairs, size=n)  # which pair is asked for
    rows = np.arange(n)
    if layout == "pair":
        tokens = np.empty((n, n_pairs + 1), dtype=np.int64)
        tokens[:, :-1] = pair0 + k * n_values + v
        tokens[:, -1] = query0 + k[rows, q]
    else:
        tokens = np.empty((n, 2 * n_pairs + 2), dtype=np.int64)
        tokens[:, 0:-2:2], tokens[:, 1:-2:2] = FIRST_KEY + k, value0 + v  # k_1 v_1 k_2 v_2 ...
        tokens[:, -2] = QUERY
        tokens[:, -1] = FIRST_KEY + k[rows, q]
    return tokens, (value0 + v[rows, q]).astype(np.int64)


def recall_tokens(tokens: np.ndarray, n_keys: int = 26, n_values: int = 10) -> list[str]:
    """Every id written as text: a key "c", a value "7", a pair "c7", a query token "?c".

    Shapes: tokens (T,) or a scalar id -> a list of T strings. Chapter 18.
    """
    value0, pair0, query0 = _bases(n_keys, n_values)
    out = []
    for t in np.atleast_1d(np.asarray(tokens)).tolist():
        if t == PAD:
            out.append("_")
        elif t == QUERY:
            out.append("?")
        elif t < value0:
            out.append(KEY_CHARS[t - FIRST_KEY])
        elif t < pair0:
            out.append(VALUE_CHARS[t - value0])
        elif t < query0:
            key, value = divmod(t - pair0, n_values)
            out.append(KEY_CHARS[key] + VALUE_CHARS[value])
        else:
            out.append("?" + KEY_CHARS[t - query0])
    return out


def matching_pair(tokens: np.ndarray, n_keys: int = 26, n_values: int = 10) -> np.ndarray:
    """Where the answer is: True at the pair whose key the final query token names.

    Shapes: tokens (N, p + 1) in the "pair" layout -> (N, p) bool, one True per row.
    Chapter 18 measures how much attention each head puts there.
    """
    tokens = np.asarray(tokens)
    _, pair0, query0 = _bases(n_keys, n_values)
    if tokens.ndim != 2 or np.any(tokens[:, :-1] < pair0) or np.any(tokens[:, :-1] >= query0) \
            or np.any(tokens[:, -1] < query0):
        raise ValueError(f"matching_pair expected (N, p + 1) pair-layout tokens (pairs, then a "
                         f"query token); got shape {tokens.shape}")
    return (tokens[:, :-1] - pair0) // n_values == (tokens[:, -1:] - query0)


class RecallStream:
    """Each pass yields one fresh batch (tokens, targets) whose number of pairs is drawn at random.

    Shapes: tokens (batch_size, p + 1) (or 2 p + 2, interleaved), targets
    (batch_size,), with p uniform in [min_pairs, max_pairs] per batch (one
    length per batch, so no padding).
    Combine with ``fit(..., epochs=None, max_steps=K)``: K updates, each on new
    sequences, so a model cannot memorise the training set. Chapter 18.
    """

    def __init__(self, batch_size: int, min_pairs: int, max_pairs: int, n_keys: int = 26,
                 n_values: int = 10, layout: str = "pair",
                 rng: int | np.random.Generator | None = None):
        self.batch_size = check_positive_int(batch_size, "RecallStream", "batch_size")
        self.min_pairs = check_positive_int(min_pairs, "RecallStream", "min_pairs")
        _check(max_pairs, n_keys, n_values, "RecallStream")
        if max_pairs < min_pairs:
            raise ValueError(f"RecallStream expected min_pairs <= max_pairs; got "
                             f"min_pairs={min_pairs}, max_pairs={max_pairs}")
        if layout not in LAYOUTS:
            raise ValueError(f"RecallStream expected layout in {LAYOUTS}; got {layout!r}")
        self.max_pairs, self.n_keys, self.n_values, self.layout = max_pairs, n_keys, n_values, layout
        self.rng = make_rng(rng, "RecallStream")

    def __iter__(self):
        p = int(self.rng.integers(self.min_pairs, self.max_pairs + 1))
        yield associative_recall(self.batch_size, p, self.n_keys, self.n_values, self.layout,
                                 self.rng)
