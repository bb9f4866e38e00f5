"""The results registry: printed headline lines and their JSON records agree."""

import json

import numpy as np
import pytest

from dlbook.book import results


@pytest.fixture
def tmp_results(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    return tmp_path


def test_record_prints_one_line_and_writes_json(tmp_results, capsys):
    assert results.record("ch04", "test_accuracy", np.float32(0.92603), fmt=".3f", seed=0) is None
    assert capsys.readouterr().out == "result ch04.test_accuracy = 0.926\n"
    data = json.loads((tmp_results / "ch04.json").read_text())
    rec = data["test_accuracy"]
    assert rec["text"] == "0.926" and rec["seed"] == 0 and rec["chapter"] == "ch04"
    assert rec["value"] == pytest.approx(0.92603, rel=1e-6)
    assert rec["versions"]["numpy"] == np.__version__ and rec["device"].startswith(("cpu", "cuda"))
    assert results.Result(**rec).line() == "result ch04.test_accuracy = 0.926"


def test_records_merge_and_replace_by_name(tmp_results):
    results.record("ch05", "b_loss", 1.5)
    results.record("ch05", "a_acc", 0.5, unit="%")
    results.record("ch05", "b_loss", 1.25)
    data = results.load(tmp_results / "ch05.json")
    assert list(data) == ["a_acc", "b_loss"] and data["b_loss"]["text"] == "1.2500"


def test_printed_results_parses_lines_with_units():
    text = "x\nresult ch09.speedup = 12.3 x\nresult ch10.acc = 0.9720\nnot result ch10.acc = 1\n"
    assert results.printed_results(text) == [("ch09", "speedup", "12.3"), ("ch10", "acc", "0.9720")]


@pytest.mark.parametrize("args, err, match", [
    (("chapter4", "acc", 1.0), ValueError, "chapter like 'ch04'"),
    (("ch04", "Test Acc", 1.0), ValueError, "snake_case"),
    (("ch04", "acc", "high"), TypeError, "real number"),
])
def test_bad_input(tmp_results, args, err, match):
    with pytest.raises(err, match=match):
        results.record(*args)


def test_integer_formats_and_bad_formats(tmp_results, capsys):
    results.record("ch01", "mistakes", 3, fmt="d")
    assert capsys.readouterr().out == "result ch01.mistakes = 3\n"
    with pytest.raises(ValueError, match="does not fit"):
        results.record("ch01", "mistakes", 2.5, fmt="d")
