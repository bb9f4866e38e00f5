"""Every headline number a chapter prints agrees with its machine-readable record.

Chapters print headline numbers with ``dlbook.book.results.record``, which prints
``result chNN.name = value`` and writes book/results/chNN.json when
``make outputs`` executes them. Here the stored outputs, the JSON records and
the results page of the book must agree exactly.
"""

import json
import math
import subprocess
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import nbformat
import pytest

from bookfiles import ROOT, chapter_paths
from dlbook.book.results import printed_results

RESULTS = ROOT / "book" / "results"


def stored_text(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    chunks = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                chunks.append(out.get("text", ""))
    return "".join(chunks)


@pytest.mark.parametrize("path", chapter_paths(), ids=lambda p: p.stem[:4])
def test_printed_headlines_match_their_records(path):
    chapter = path.stem[:4]
    printed = {(name, text) for ch, name, text in printed_results(stored_text(path)) if ch == chapter}
    assert printed, f"{path.name} prints no headline with dlbook.book.results.record"
    record_file = RESULTS / f"{chapter}.json"
    assert record_file.exists(), f"no {record_file.relative_to(ROOT)}: run make outputs"
    records = json.loads(record_file.read_text(encoding="utf-8"))
    recorded = {(name, r["text"]) for name, r in records.items()}
    assert printed == recorded, (f"{path.name}: printed but not recorded {printed - recorded}; "
                                 f"recorded but not printed {recorded - printed}")
    for name, r in records.items():
        assert r["versions"].get("dlbook"), f"{name}: the record names no dlbook version"
        assert_text_is_the_rounded_value(r["value"], r["text"], name)


def assert_text_is_the_rounded_value(value, text: str, name: str) -> None:
    """``value`` is a finite real number and ``text`` is it rounded (to within half a last digit)."""
    assert isinstance(value, (int, float)) and not isinstance(value, bool), (
        f"{name}: value {value!r} is not a number")
    assert math.isfinite(value), f"{name}: value {value!r} is not finite"
    scale = 100 if text.endswith("%") else 1
    try:
        printed = Decimal(text.removesuffix("%"))
    except InvalidOperation:
        pytest.fail(f"{name}: printed text {text!r} is not a number")
    half_last_digit = Decimal(5).scaleb(printed.as_tuple().exponent - 1)
    assert abs(Decimal(value) * scale - printed) <= half_last_digit * (1 + Decimal("1e-9")), (
        f"{name}: printed {text!r} is not the recorded value {value!r} rounded")


def test_results_page_is_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "collect_results.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
