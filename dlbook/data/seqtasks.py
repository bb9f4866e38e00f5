"""Generated sequence-to-sequence tasks with exact answers (chapters 16 and 17).

Two toy "translation" tasks whose correct output is known exactly, so a model
is scored by *exact match*: the fraction of outputs that equal the answer
character for character.

* :func:`addition_problems`: ``"57+312"`` -> ``"369"``;
* :func:`date_problems`: a date in one of several human formats
  (``"march 5, 1999"``, ``"05/03/99"``, ``"5 Mar 1999"``,
  ``"Friday, March 5, 1999"`` ...) -> its ISO form ``"1999-03-05"``.

Both draw from an explicit ``rng`` and use no third-party data. A
:class:`CharCodec` turns the strings into padded integer arrays (with the
``<pad>``, ``<unk>``, ``<bos>`` and ``<eos>`` tokens a decoder needs) and back.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.text.batching import pad_sequences
from dlbook.text.tokenize import char_tokenize
from dlbook.text.vocab import Vocab
from dlbook.utils import make_rng

SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")
"""The codec's special tokens; being first in the vocabulary they get the ids 0, 1, 2, 3."""

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_ABBREV_LEN = 3
"""Abbreviated month names are the first three letters ("Mar")."""

DATE_FIRST_YEAR, DATE_LAST_YEAR = 1950, 2049
"""Default range of :func:`date_problems`; two-digit years yy mean 19yy for yy >= 50, else 20yy."""
TWO_DIGIT_PIVOT = 50


def _mon(d: datetime.date) -> str:
    return MONTHS[d.month - 1][:MONTH_ABBREV_LEN]


DATE_FORMATS: dict[str, Callable[[datetime.date], str]] = {
    "month d, yyyy": lambda d: f"{MONTHS[d.month - 1].lower()} {d.day}, {d.year}",
    "dd/mm/yy": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}",
    "d Mon yyyy": lambda d: f"{d.day} {_mon(d)} {d.year}",
    "Weekday, Month d, yyyy": lambda d: (f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} "
                                         f"{d.day}, {d.year}"),
    "dd.mm.yyyy": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "d month yyyy": lambda d: f"{d.day} {MONTHS[d.month - 1].lower()} {d.year}",
    "MON d yy": lambda d: f"{_mon(d).upper()} {d.day} {d.year % 100:02d}",
}
"""Human date formats by name: each maps a ``datetime.date`` to its written form."""


def addition_problems(n: int, digits: int = 3, unique: bool = True,
                      rng: int | np.random.Generator | None = None) -> tuple[list[str], list[str]]:
    """n problems "a+b" -> str(a + b), with a, b uniform integers in [0, 10^digits).

    Shapes: -> (sources: n strings such as "57+312", targets: n strings such as "369").
    ``unique=True`` draws n *different* ordered pairs (a, b), so a split of the
    result into training and held-out problems never shares a problem.
    Chapter 16 trains encoder-decoders on these.
    """
    n = check_positive_int(n, "addition_problems", "n")
    digits = check_positive_int(digits, "addition_problems", "digits")
    gen = make_rng(rng, "addition_problems")
    size = 10 ** digits
    if unique and n > size * size:
        raise ValueError(f"addition_problems expected n <= {size * size} unique problems "
                         f"with digits={digits}; got n={n}")
    if unique:
        pairs = gen.choice(size * size, size=n, replace=False)  # pair index a * size + b
        a, b = np.divmod(pairs, size)
    else:
        a, b = gen.integers(0, size, size=n), gen.integers(0, size, size=n)
    sources = [f"{x}+{y}" for x, y in zip(a.tolist(), b.tolist())]
    targets = [str(x + y) for x, y in zip(a.tolist(), b.tolist())]
    return sources, targets


def date_problems(n: int, formats: Sequence[str] | None = None, first_year: int = DATE_FIRST_YEAR,
                  last_year: int = DATE_LAST_YEAR, unique: bool = True,
                  rng: int | np.random.Generator | None = None) -> tuple[list[str], list[str]]:
    """n dates written in a random human format -> the same date as ISO "yyyy-mm-dd".

    Shapes: -> (sources: n strings such as "Friday, March 5, 1999", targets: n
    strings such as "1999-03-05"). Each date is uniform over the days of
    [first_year, last_year]; its format is uniform over ``formats`` (names of
    :data:`DATE_FORMATS`, default all). Two-digit years are unambiguous only
    inside one century window: the range must lie within 1950-2049 when a
    "yy" format is used. ``unique=True`` never repeats a date. Chapter 17.
    """
    n = check_positive_int(n, "date_problems", "n")
    names = list(DATE_FORMATS) if formats is None else list(formats)
    unknown = [f for f in names if f not in DATE_FORMATS]
    if not names or unknown:
        raise ValueError(f"date_problems expected formats from {list(DATE_FORMATS)}; got {names}")
    if not (1 <= first_year <= last_year <= datetime.MAXYEAR):
        raise ValueError(f"date_problems expected 1 <= first_year <= last_year; "
                         f"got {first_year} and {last_year}")
    if any("yy" in f and "yyyy" not in f for f in names) and not (
            DATE_FIRST_YEAR <= first_year and last_year <= DATE_LAST_YEAR):
        raise ValueError(f"date_problems: two-digit-year formats need years within "
                         f"{DATE_FIRST_YEAR}-{DATE_LAST_YEAR}; got {first_year}-{last_year}")
    gen = make_rng(rng, "date_problems")
    start = datetime.date(first_year, 1, 1)
    days = (datetime.date(last_year, 12, 31) - start).days + 1
    if unique and n > days:
        raise ValueError(f"date_problems expected n <= {days} unique dates; got n={n}")
    offsets = gen.choice(days, size=n, replace=False) if unique else gen.integers(0, days, size=n)
    which = gen.integers(0, len(names), size=n)
    dates = [start + datetime.timedelta(days=int(k)) for k in offsets]
    sources = [DATE_FORMATS[names[w]](d) for w, d in zip(which.tolist(), dates)]
    return sources, [d.isoformat() for d in dates]


def exact_match(predictions: Sequence, targets: Sequence) -> float:
    """Fraction of predictions equal to their target: (1/N) sum_n [pred_n == target_n].

    Shapes: two sequences of N strings (or of token lists) -> float in [0, 1].
    A single wrong character makes a whole answer wrong (chapter 16).
    """
    if isinstance(predictions, str) or isinstance(targets, str):
        raise TypeError("exact_match expected sequences of strings; got a single string")
    if len(predictions) != len(targets):
        raise ValueError(f"exact_match expected as many predictions as targets; "
                         f"got {len(predictions)} and {len(targets)}")
    if len(targets) == 0:
        raise ValueError("exact_match expected at least one target; got none")
    return sum(_same(p, t) for p, t in zip(predictions, targets)) / len(targets)


def _same(p, t) -> bool:
    if isinstance(p, np.ndarray) or isinstance(t, np.ndarray):
        return bool(np.array_equal(np.asarray(p), np.asarray(t)))
    return p == t


class CharCodec:
    """Characters <-> ids, built on :class:`dlbook.text.vocab.Vocab` with SPECIALS first.

    ``encode("57+3", bos=True, eos=True)`` -> ids of "<bos> 5 7 + 3 <eos>";
    ``decode(ids)`` reads up to the first ``<eos>`` and drops ``<pad>`` and
    ``<bos>``. The characters of ``texts`` get ids in sorted order after the
    specials (so the ids do not depend on how often a character occurs);
    characters never seen when the codec was built map to ``<unk>``.
    Shapes: encode -> (T,) int64; encode_batch -> ids (N, T) int64 right-padded
    with ``pad_index``, lengths (N,) int64. Chapter 16.
    """

    def __init__(self, texts: Iterable[str]):
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("CharCodec expected an iterable of strings")
        chars = sorted({c for t in texts for c in char_tokenize(t)})  # each once: ids alphabetical
        self.vocab = Vocab([chars], specials=SPECIALS)
        self.pad_index, self.unk_index, self.bos_index, self.eos_index = (
            self.vocab.stoi[s] for s in SPECIALS)

    def __len__(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return f"CharCodec({len(self)} tokens: {''.join(self.vocab.itos[len(SPECIALS):])!r} + specials)"

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> np.ndarray:
        """Ids of the characters of ``text``, optionally wrapped in <bos> ... <eos>. -> (T,) int64."""
        if not isinstance(text, str):
            raise TypeError(f"CharCodec.encode expected a string; got {type(text).__name__}")
        ids = self.vocab.encode(char_tokenize(text)).astype(np.int64)
        head = [self.bos_index] if bos else []
        tail = [self.eos_index] if eos else []
        return np.concatenate([np.array(head, np.int64), ids, np.array(tail, np.int64)])

    def encode_batch(self, texts: Sequence[str], bos: bool = False, eos: bool = False,
                     max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Encode and right-pad N strings. -> ids (N, T) int64, lengths (N,) int64."""
        if isinstance(texts, str) or len(texts) == 0:
            raise ValueError("CharCodec.encode_batch expected a non-empty sequence of strings")
        seqs = [self.encode(t, bos=bos, eos=eos) for t in texts]
        return pad_sequences(seqs, pad_index=self.pad_index, max_len=max_len)

    def decode(self, ids) -> str:
        """The string of ``ids`` (T,): stops at the first <eos>, skips <pad> and <bos>."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"CharCodec.decode expected a 1-D integer array; "
                             f"got shape {ids.shape} and dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"CharCodec.decode expected ids in [0, {len(self) - 1}]; "
                             f"got {int(ids.min())}..{int(ids.max())}")
        out = []
        for i in ids.tolist():
            if i == self.eos_index:
                break
            if i not in (self.pad_index, self.bos_index):
                out.append(self.vocab.itos[i])
        return "".join(out)

    def decode_batch(self, ids) -> list[str]:
        """Decode every row of ``ids`` (N, T). -> N strings."""
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"CharCodec.decode_batch expected ids of shape (N, T); got shape {ids.shape}")
        return [self.decode(row) for row in ids]
