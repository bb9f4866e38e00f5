"""Equations, figures and tables are numbered per chapter ("(15.3)"), not through the book."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

EXT = Path(__file__).resolve().parents[2] / "book" / "_ext" / "dlbook_sphinx.py"


def load_extension():
    spec = importlib.util.spec_from_file_location("dlbook_sphinx", EXT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chapter_numbers_come_from_the_file_name():
    ext = load_extension()
    assert ext.chapter_number("book/ch15_lstm_gru") == 15
    assert ext.chapter_number("book/ch05_backpropagation") == 5
    assert ext.chapter_number("book/glossary") is None
    assert ext.chapter_number("book/api/layers") is None


def test_book_wide_numbers_become_chapter_numbers_in_order():
    ext = load_extension()
    env = SimpleNamespace(toc_fignumbers={
        "book/ch15_lstm_gru": {"displaymath": {"eq-b": (131,), "eq-a": (130,), "eq-c": (135,)},
                               "figure": {"fig-x": (40,)}},
        "book/ch16_seq2seq": {"displaymath": {"eq-d": (136,)}},
        "book/notation": {"displaymath": {"eq-n": (1,)}},
    })
    assert ext.number_per_chapter(None, env) == []
    numbers = env.toc_fignumbers
    assert numbers["book/ch15_lstm_gru"]["displaymath"] == {"eq-a": (15, 1), "eq-b": (15, 2),
                                                            "eq-c": (15, 3)}
    assert numbers["book/ch15_lstm_gru"]["figure"] == {"fig-x": (15, 1)}
    assert numbers["book/ch16_seq2seq"]["displaymath"] == {"eq-d": (16, 1)}
    assert numbers["book/notation"]["displaymath"] == {"eq-n": (1,)}  # not a chapter: untouched
