"""The generated sequence tasks, exact match and the character codec (chapters 16-17)."""

import datetime

import numpy as np
import pytest

from dlbook.data.seqtasks import (DATE_FORMATS, SPECIALS, CharCodec, addition_problems,
                                  date_problems, exact_match)

# an independent parser for every format (strptime is case-insensitive for names)
STRPTIME = {"month d, yyyy": "%B %d, %Y", "dd/mm/yy": "%d/%m/%y", "d Mon yyyy": "%d %b %Y",
            "Weekday, Month d, yyyy": "%A, %B %d, %Y", "dd.mm.yyyy": "%d.%m.%Y",
            "d month yyyy": "%d %B %Y", "MON d yy": "%b %d %y"}


def parse_date(text: str) -> datetime.date:
    """Try every format; for two-digit years use the 1950-2049 window of date_problems."""
    for name, fmt in STRPTIME.items():
        try:
            d = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if "%y" in fmt:  # strptime's pivot is 1969; ours is 1950
            yy = d.year % 100
            d = d.replace(year=(1900 if yy >= 50 else 2000) + yy)
        return d
    raise AssertionError(f"unparseable date {text!r}")


def test_every_format_has_an_independent_parser():
    assert set(STRPTIME) == set(DATE_FORMATS)


# addition ------------------------------------------------------------------------------------

def test_addition_is_deterministic_under_a_seed_and_varies_with_it():
    assert addition_problems(50, rng=3) == addition_problems(50, rng=3)
    assert addition_problems(50, rng=3) != addition_problems(50, rng=4)
    gen = np.random.default_rng(7)
    first = addition_problems(5, rng=gen)
    assert first != addition_problems(5, rng=gen)  # a Generator is consumed, not reseeded


@pytest.mark.parametrize("digits", [1, 2, 3, 4])
def test_addition_answers_are_correct_and_operands_have_at_most_digits_digits(digits):
    sources, targets = addition_problems(min(300, 100 ** digits), digits=digits, rng=0)
    for s, t in zip(sources, targets):
        a, b = s.split("+")
        assert len(a) <= digits and len(b) <= digits
        assert int(a) + int(b) == int(t) and t == str(int(t))  # no leading zeros
        assert a == str(int(a)) and b == str(int(b))


def test_addition_unique_problems_never_repeat_and_can_exhaust_the_space():
    sources, _ = addition_problems(100, digits=1, rng=0)
    assert len(set(sources)) == 100
    with pytest.raises(ValueError, match="addition_problems expected n <= 100"):
        addition_problems(101, digits=1, rng=0)
    sources, _ = addition_problems(500, digits=1, unique=False, rng=0)
    assert len(set(sources)) < 500


@pytest.mark.parametrize("kwargs,error,match", [
    ({"n": 0}, ValueError, "addition_problems expected n >= 1"),
    ({"n": 3, "digits": 0}, ValueError, "addition_problems expected digits >= 1"),
    ({"n": 2.5}, TypeError, "addition_problems expected n to be an int"),
    ({"n": 3, "rng": "seed"}, TypeError, "addition_problems"),
])
def test_addition_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        addition_problems(**kwargs)


# dates ---------------------------------------------------------------------------------------

def test_dates_are_deterministic_under_a_seed():
    assert date_problems(40, rng=1) == date_problems(40, rng=1)
    assert date_problems(40, rng=1) != date_problems(40, rng=2)


def test_date_answers_are_the_iso_form_of_the_written_date():
    sources, targets = date_problems(600, rng=0)
    for s, t in zip(sources, targets):
        assert parse_date(s).isoformat() == t
        assert DATE_FIRST <= t <= DATE_LAST


DATE_FIRST, DATE_LAST = "1950-01-01", "2049-12-31"


def test_dates_use_every_format_and_only_the_requested_ones():
    sources, _ = date_problems(700, rng=0)
    used = {name for s in sources for name, fmt in STRPTIME.items() if _parses(s, fmt)}
    assert used == set(DATE_FORMATS)
    sources, targets = date_problems(50, formats=["dd.mm.yyyy"], rng=0)
    assert all(_parses(s, "%d.%m.%Y") for s in sources)


def _parses(text, fmt):
    try:
        datetime.datetime.strptime(text, fmt)
        return True
    except ValueError:
        return False


def test_the_examples_of_the_docstring():
    d = datetime.date(1999, 3, 5)
    assert DATE_FORMATS["month d, yyyy"](d) == "march 5, 1999"
    assert DATE_FORMATS["dd/mm/yy"](d) == "05/03/99"
    assert DATE_FORMATS["d Mon yyyy"](d) == "5 Mar 1999"
    assert DATE_FORMATS["Weekday, Month d, yyyy"](d) == "Friday, March 5, 1999"
    assert DATE_FORMATS["MON d yy"](datetime.date(2004, 11, 30)) == "NOV 30 04"


def test_unique_dates_do_not_repeat_and_a_custom_year_range_is_respected():
    _, targets = date_problems(365, formats=["dd.mm.yyyy"], first_year=1800, last_year=1800, rng=0)
    assert len(set(targets)) == 365 and all(t.startswith("1800-") for t in targets)
    with pytest.raises(ValueError, match="date_problems expected n <= 365 unique dates"):
        date_problems(366, formats=["dd.mm.yyyy"], first_year=1800, last_year=1800, rng=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"n": 3, "formats": ["yyyy/mm/dd"]}, "date_problems expected formats from"),
    ({"n": 3, "formats": []}, "date_problems expected formats from"),
    ({"n": 3, "first_year": 2000, "last_year": 1999}, "first_year <= last_year"),
    ({"n": 3, "first_year": 1900, "last_year": 1999}, "two-digit-year formats need years"),
    ({"n": 0}, "date_problems expected n >= 1"),
])
def test_date_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        date_problems(**kwargs)


# exact match ----------------------------------------------------------------------------------

def test_exact_match_counts_whole_answers_only():
    assert exact_match(["369", "12", "7"], ["369", "13", "7"]) == pytest.approx(2 / 3)
    assert exact_match(["1999-03-05"], ["1999-03-05 "]) == 0.0  # one extra character: wrong
    assert exact_match([np.array([1, 2]), np.array([3])], [np.array([1, 2]), np.array([4])]) == 0.5


@pytest.mark.parametrize("args,error,match", [
    ((["1"], ["1", "2"]), ValueError, "exact_match expected as many predictions as targets"),
    (([], []), ValueError, "exact_match expected at least one target"),
    (("369", "369"), TypeError, "exact_match expected sequences of strings"),
])
def test_exact_match_bad_inputs(args, error, match):
    with pytest.raises(error, match=match):
        exact_match(*args)


# codec ------------------------------------------------------------------------------------------

def test_codec_specials_come_first_and_characters_are_sorted():
    codec = CharCodec(["57+312", "369"])
    assert codec.vocab.itos[:4] == list(SPECIALS)
    assert (codec.pad_index, codec.unk_index, codec.bos_index, codec.eos_index) == (0, 1, 2, 3)
    assert codec.vocab.itos[4:] == sorted("+0123456789".replace("0", "").replace("4", "")
                                          .replace("8", ""))
    assert len(codec) == 4 + 8
    assert "CharCodec(12 tokens" in repr(codec)


def test_codec_ids_do_not_depend_on_frequencies():
    assert CharCodec(["aab"]).vocab.itos == CharCodec(["abbbb"]).vocab.itos


def test_codec_round_trip_on_both_tasks():
    for sources, targets in (addition_problems(200, rng=0), date_problems(200, rng=0)):
        codec = CharCodec(sources + targets)
        ids, lengths = codec.encode_batch(targets, bos=True, eos=True)
        assert ids.dtype == np.int64 and ids.shape == (200, max(len(t) for t in targets) + 2)
        assert np.array_equal(lengths, [len(t) + 2 for t in targets])
        assert np.all(ids[:, 0] == codec.bos_index)
        assert codec.decode_batch(ids) == targets
        assert [codec.decode(codec.encode(s)) for s in sources] == sources


def test_codec_encode_decode_details():
    codec = CharCodec("abc")
    ids = codec.encode("cab", bos=True, eos=True)
    assert ids.tolist() == [2, 6, 4, 5, 3]
    assert codec.encode("axb").tolist() == [4, codec.unk_index, 5]  # unseen -> <unk>
    assert codec.decode(np.array([2, 4, 3, 5, 5])) == "a"  # stops at the first <eos>
    assert codec.decode(np.array([4, 0, 0])) == "a"  # padding is dropped
    ids, lengths = codec.encode_batch(["abc", "a"], max_len=2)
    assert ids.tolist() == [[4, 5], [4, 0]] and lengths.tolist() == [2, 1]


@pytest.mark.parametrize("call,error,match", [
    (lambda c: c.encode(5), TypeError, "CharCodec.encode expected a string"),
    (lambda c: c.encode_batch([]), ValueError, "CharCodec.encode_batch expected a non-empty"),
    (lambda c: c.encode_batch("abc"), ValueError, "CharCodec.encode_batch expected a non-empty"),
    (lambda c: c.decode(np.zeros((2, 2), np.int64)), ValueError, "CharCodec.decode expected a 1-D"),
    (lambda c: c.decode(np.array([0.5])), ValueError, "CharCodec.decode expected a 1-D integer"),
    (lambda c: c.decode(np.array([99])), ValueError, r"CharCodec.decode expected ids in \[0, 6\]"),
    (lambda c: c.decode_batch(np.array([1, 2])), ValueError, "CharCodec.decode_batch expected"),
    (lambda c: CharCodec([1, 2]), TypeError, "CharCodec expected an iterable of strings"),
])
def test_codec_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call(CharCodec("abc"))
