"""scripts/run_solutions.py: every exercise solution runs after its chapter and prints what it states."""

import json
import sys

import pytest

from bookfiles import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import run_solutions  # noqa: E402


def solution(label, prose, *blocks):
    code = "".join(f"```python\n{b}\n```\n\n" for b in blocks)
    return (f"```{{exercise}}\n:label: {label}\n\nCompute it with a step of 7.\n```\n\n"
            f"````{{solution}} {label}\n:class: dropdown\n\n{prose}\n\n{code}````\n")


def write_chapter(path, *solutions):
    """A chapter notebook: one code cell defining x, then an exercises cell with the solutions."""
    cells = [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# 99. Fixture"},
             {"cell_type": "code", "id": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": "x = 3.0"},
             {"cell_type": "markdown", "id": "exercises", "metadata": {},
              "source": "## Exercises\n\n" + "\n".join(solutions)}]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb, indent=1) + "\n")
    return path


@pytest.fixture(autouse=True)
def restore_environment(monkeypatch):
    """main() sets these for its kernels; monkeypatch puts the old values back afterwards."""
    for name, value in {"DLBOOK_RESULTS_DIR": "", "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE",
                        "PYTHONHASHSEED": "0"}.items():
        monkeypatch.setenv(name, value)


GOOD = solution("ex-ch99-good", "Divide by 7: the answer is about 0.43, or $0.4286$ to four digits.",
                'print(f"{x / 7:.4f}")')
TAGGED = solution("ex-ch99-tagged", "A fragment and an intended error:",
                  "# not run: a fragment of the reader's own loop\nloss.backward()",
                  "# raises: ZeroDivisionError\nx / 0")


def test_good_solutions_pass_and_tags_are_counted(tmp_path, capsys):
    chapter = write_chapter(tmp_path / "ch99_fixture.ipynb", GOOD, TAGGED)
    assert run_solutions.main([str(chapter), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "0 failure(s)" in out
    assert "total (2 solutions)" in out
    report = run_solutions.run_chapter(str(chapter))
    assert [s["status"] for s in report["solutions"]] == ["run", "run"]
    assert report["solutions"][1]["skipped"] == 1


def test_a_name_error_and_a_wrong_number_fail_naming_chapter_and_label(tmp_path, capsys):
    broken = solution("ex-ch99-broken", "It prints the answer.", "print(answer)")
    wrong = solution("ex-ch99-wrong", "Divide by 7: the answer is about 0.51.", 'print(f"{x / 7:.4f}")')
    not_raising = solution("ex-ch99-not-raising", "This fails:", "# raises: ValueError\nprint(x)")
    chapter = write_chapter(tmp_path / "ch99_fixture.ipynb", GOOD, broken, wrong, not_raising)
    assert run_solutions.main([str(chapter), "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "4 failure(s)" not in out and "3 failure(s)" in out
    failed = [line for line in out.splitlines() if line.startswith("  ")]
    assert any("ch99_fixture.ipynb: ex-ch99-broken: NameError" in line for line in failed)
    assert any("ch99_fixture.ipynb: ex-ch99-wrong" in line and "'0.51'" in line for line in failed)
    assert any("ex-ch99-not-raising" in line and "raised nothing" in line for line in failed)
    assert not any("ex-ch99-good" in line for line in failed)


@pytest.mark.parametrize("prose, printed, ok", [
    ("accuracy 0.9260", "val acc 0.926", True),
    ("about 0.93", "0.9260", True),
    ("about 0.93", "0.9160", False),
    ("3 steps and 0.5 of it", "nothing", True),           # integers and 1-digit decimals: unchecked
    ("$8.6 \\times 10^9$ weights", "8589934592", True),
    ("$8.6 \\times 10^9$ weights", "858993459", False),
    ("92.6% of them", "0.926", True),
    ("$n^{0.75}$ and section 2.3", "", True),             # exponents, section numbers: unchecked
    ("with `lr=0.25`", "", True),                          # inline code: unchecked
    ("$h_2 = -0.1186$", "[-0.11863]", True),
])
def test_the_number_rule(prose, printed, ok):
    sol = run_solutions.Solution("ex", prose)
    assert (run_solutions.number_mismatches(sol, printed) == []) is ok


def test_numbers_that_are_inputs_are_not_claims():
    sol = run_solutions.Solution("ex", "with a rate of 0.25 it reaches 0.75",
                                 [run_solutions.Block("fit(lr=0.25)")])
    assert run_solutions.number_mismatches(sol, "0.75") == []
    assert run_solutions.number_mismatches(sol, "0.7") == ["0.75"]


def test_solutions_are_extracted_in_order_with_their_tags():
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": GOOD + TAGGED}]}
    sols = run_solutions.extract_solutions(nb)
    assert [s.label for s in sols] == ["ex-ch99-good", "ex-ch99-tagged"]
    assert [b.tag for b in sols[1].blocks] == ["not run", "raises"]
    assert sols[1].blocks[1].detail == "ZeroDivisionError"
    assert ":class:" not in sols[0].prose and "print" not in sols[0].prose
