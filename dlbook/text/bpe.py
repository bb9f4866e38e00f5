"""Byte-pair encoding: subword tokens learned from a corpus (chapter 12; used by chapter 18's GPT).

Byte-level BPE (Gage 1994; Sennrich et al. 2016; GPT-2). Text is first
encoded as UTF-8 bytes, so the base vocabulary is the 256 byte values and
*any* string, unseen characters included, can be encoded and decoded back
exactly. Learning then repeats one step: find the most frequent pair of
adjacent tokens and make it a new token, until the vocabulary has
``vocab_size`` entries. Token ``256 + k`` is the k-th merge.

Merges never cross word boundaries: :func:`pretokenize` first cuts the text
into words, each carrying at most one leading space (GPT-2's convention), and
pairs are counted inside words only. Ties between equally frequent pairs go
to the pair ``(a, b)`` of ids that is smallest in lexicographic order, so
learning is deterministic.

::

    tok = learn_bpe(text, vocab_size=1000)
    ids = tok.encode("The fire crews")     # int64 array
    tok.tokens(ids)                        # ['The', ' fire', ' cre', 'ws'] (say)
    tok.decode(ids) == "The fire crews"    # True for every str
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, defaultdict
from itertools import pairwise

import numpy as np

__all__ = ["N_BYTES", "PRETOKEN_PATTERN", "BPETokenizer", "learn_bpe", "pretokenize"]

N_BYTES = 256
"""Size of the base vocabulary: ids 0..255 are the byte values."""

PRETOKEN_PATTERN = re.compile(
    r" ?[^\W\d_]+"        # a word: letters, with at most one leading space
    r"| ?\d+"             # a number: digits
    r"| ?(?:[^\w\s]|_)+"  # a run of punctuation or other symbols
    r"|\s+(?!\S)"         # whitespace, leaving the last space to the next word
    r"|\s+"               # whitespace at the end of the text
)
"""The regular expression of :func:`pretokenize`; its matches cover every character of any str."""

_ENCODING = "utf-8"
_STRICT = "surrogatepass"  # lets even lone surrogates ("\ud800"), which are valid str, round-trip


def _check_text(text, where: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{where} expected text to be a str; got {type(text).__name__}")
    return text


def pretokenize(text: str) -> list[str]:
    """Cut ``text`` into the words that BPE merges within (chapter 12).

    "Hi, you  2!" -> ["Hi", ",", " you", " ", " 2", "!"]: letters, digits and
    other symbols form separate runs, each may carry one leading space, and
    longer whitespace keeps its last space for the word that follows.
    ``"".join(pretokenize(text)) == text`` always holds.
    Shapes: str -> list of str.
    """
    return PRETOKEN_PATTERN.findall(_check_text(text, "pretokenize"))


def _merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids``, left to right, by ``new_id``."""
    out, i, n = [], 0, len(ids)
    while i < n:
        if i + 1 < n and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _pop_most_frequent(heap: list, counts: dict) -> tuple[int, int] | None:
    """Most frequent pair (smallest ids on ties); heap entries whose count is stale are dropped."""
    while heap:
        neg_count, pair = heapq.heappop(heap)
        if counts.get(pair) == -neg_count:
            return pair
    return None


def learn_bpe(text: str, vocab_size: int) -> BPETokenizer:
    """Learn ``vocab_size - 256`` byte-pair merges from ``text`` (chapter 12).

    Counts adjacent pairs once per distinct word, weighted by the word's
    frequency; after each merge only the words that contain the merged pair
    are updated. Stops early (a smaller vocabulary) when no pair is left,
    i.e. every word has become a single token.
    Shapes: str of any length -> a tokenizer with at most ``vocab_size`` tokens.
    """
    _check_text(text, "learn_bpe")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)):
        raise TypeError(f"learn_bpe expected vocab_size to be an int; got {type(vocab_size).__name__}")
    if vocab_size < N_BYTES:
        raise ValueError(f"learn_bpe expected vocab_size >= {N_BYTES} (the byte values); "
                         f"got {vocab_size}")
    word_counts = Counter(pretokenize(text))
    words = [list(w.encode(_ENCODING, _STRICT)) for w in word_counts]  # distinct words as byte ids
    freqs = list(word_counts.values())
    counts: Counter = Counter()                   # pair -> occurrences in the corpus
    where: defaultdict = defaultdict(set)         # pair -> indices of words that contain it
    for i, ids in enumerate(words):
        for pair in pairwise(ids):
            counts[pair] += freqs[i]
            where[pair].add(i)
    heap = [(-c, pair) for pair, c in counts.items()]  # (-count, (a, b)): pops max count, min ids
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    while N_BYTES + len(merges) < vocab_size:
        pair = _pop_most_frequent(heap, counts)
        if pair is None:
            break
        new_id = N_BYTES + len(merges)
        merges.append(pair)
        changed = set()
        for i in where.pop(pair):
            old = words[i]
            new = _merge(old, pair, new_id)
            if len(new) == len(old):              # the pair left this word in an earlier merge
                continue
            for p in pairwise(old):               # take the word's old pairs out ...
                counts[p] -= freqs[i]
                changed.add(p)
            for p in pairwise(new):               # ... and put its new pairs in
                counts[p] += freqs[i]
                where[p].add(i)
                changed.add(p)
            words[i] = new
        for p in changed:
            if counts[p] > 0:
                heapq.heappush(heap, (-counts[p], p))
            else:
                del counts[p]
    return BPETokenizer(merges)


class BPETokenizer:
    """A byte-level BPE tokenizer given by its ordered ``merges`` (chapter 12).

    Id ``b < 256`` is the byte ``b``; id ``256 + k`` is the token made by
    merge ``k``, the concatenation of the two tokens ``merges[k]``.
    ``encode`` pretokenizes the text and applies, inside each word, the
    earliest-learned merge that applies until none does, which reproduces the
    segmentation that learning gave the training words.
    Shapes: encode: str -> (T,) int64; decode: (T,) ints -> str.
    """

    def __init__(self, merges):
        self.merges: list[tuple[int, int]] = []
        self._bytes: list[bytes] = [bytes([b]) for b in range(N_BYTES)]
        for k, pair in enumerate(merges):
            if len(pair) != 2:
                raise ValueError(f"BPETokenizer expected merges as pairs (a, b); merge {k} is {pair!r}")
            a, b = (int(t) for t in pair)
            if not (0 <= a < N_BYTES + k and 0 <= b < N_BYTES + k):
                raise ValueError(f"BPETokenizer: merge {k} = {pair!r} uses an id outside "
                                 f"[0, {N_BYTES + k - 1}] (only earlier tokens can be merged)")
            self.merges.append((a, b))
            self._bytes.append(self._bytes[a] + self._bytes[b])
        self._ranks = {pair: k for k, pair in enumerate(self.merges)}
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        """Number of token ids: 256 bytes plus one per merge."""
        return len(self._bytes)

    def _encode_word(self, word: str) -> list[int]:
        """Ids of one pretokenized word: apply the lowest-ranked applicable merge until none is left."""
        ids = list(word.encode(_ENCODING, _STRICT))
        while len(ids) > 1:
            pair = min(pairwise(ids), key=lambda p: self._ranks.get(p, len(self._ranks)))
            if pair not in self._ranks:
                break
            ids = _merge(ids, pair, N_BYTES + self._ranks[pair])
        return ids

    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text``. Shapes: str -> (T,) int64, T <= the number of UTF-8 bytes."""
        _check_text(text, "BPETokenizer.encode")
        out: list[int] = []
        for word in pretokenize(text):
            ids = self._cache.get(word)
            if ids is None:
                ids = self._cache[word] = self._encode_word(word)
            out.extend(ids)
        return np.array(out, dtype=np.int64)

    def _check_ids(self, ids, where: str) -> list[int]:
        arr = np.asarray(ids)
        if arr.size == 0:
            return []
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{where} expected integer token ids; got dtype {arr.dtype}")
        if arr.ndim != 1:
            raise ValueError(f"{where} expected a 1-D sequence of ids (T,); got shape {arr.shape}")
        bad = arr[(arr < 0) | (arr >= self.vocab_size)]
        if bad.size:
            raise ValueError(f"{where} expected ids in [0, {self.vocab_size - 1}]; got {int(bad[0])}")
        return arr.tolist()

    def token_bytes(self, id: int) -> bytes:
        """The bytes that token ``id`` stands for."""
        return self._bytes[self._check_ids([id], "BPETokenizer.token_bytes")[0]]

    def decode(self, ids) -> str:
        """The text of ``ids``: ``decode(encode(s)) == s`` for every str ``s``.

        Id sequences that do not form valid UTF-8 (e.g. a slice that cuts a
        character in two) decode with U+FFFD in place of the broken bytes.
        Shapes: (T,) integers -> str.
        """
        data = b"".join(self._bytes[i] for i in self._check_ids(ids, "BPETokenizer.decode"))
        try:
            return data.decode(_ENCODING, _STRICT)
        except UnicodeDecodeError:
            return data.decode(_ENCODING, "replace")

    def tokens(self, ids) -> list[str]:
        """Each token of ``ids`` as text, for display (chapter 12).

        A token holding part of a multi-byte character shows those bytes
        escaped: "é" unseen in training gives ``["\\xc3", "\\xa9"]``.
        Shapes: (T,) integers -> list of T str.
        """
        return [self._bytes[i].decode(_ENCODING, "backslashreplace")
                for i in self._check_ids(ids, "BPETokenizer.tokens")]

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)})"
